/**
 * WebSub callbacks on `tabcast serve --websub` (channels.md §3), part 2: delivery, acks, the
 * proposal's path, secrets and the in-page refusal. Real hub, real callback listeners, fake clock.
 */
import { describe, expect, it } from 'vitest';
import { createWireHandler } from '../../../src/wire/index.js';
import { settle } from '../bridge/support/manual-timers.js';
import { until } from '../bridge/support/local.js';
import { makeHub } from '../support/harness.js';
import { DIST_MISSING, HubProcess, postSubscription, publish, subscribeAndOpen } from '../server/support.js';
import { callback, nextLog, patientOpen, serve, subscribers, subscribeVerified, TOPIC, webhookParams } from './rig.js';
import type { CallbackServer } from './support.js';

describe('HUB-WEBSUB-04: delivery', () => {
  it('HUB-WEBSUB-04: every notification is POSTed as the STU3 JSON, in order, each signed with HMAC-SHA256 of its body', async () => {
    const cb = await callback();
    cb.secret = 's3cret-for-hmac';
    const { server } = await serve();
    await subscribeVerified(server, cb, { 'hub.secret': cb.secret });
    for (let i = 1; i <= 5; i++) await publish(server.url, patientOpen(`p${i}`, `e${i}`));
    await cb.waitFor(5, (r) => r.method === 'POST', 'five deliveries');
    expect(cb.deliveries.map((d) => d.id)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(cb.deliveries[0]).toMatchObject({ id: 'e1', timestamp: expect.any(String), event: { 'hub.topic': TOPIC, 'hub.event': 'Patient-open' } });
    expect(cb.requests.filter((r) => r.method === 'POST').every((r) => r.headers['content-type'] === 'application/json' && /^sha256=[0-9a-f]{64}$/.test(String(r.headers['x-hub-signature'])))).toBe(true);
    expect(cb.badSignatures).toBe(0);
  });

  it('HUB-WEBSUB-04: one POST at a time: the next waits until the callback answered the previous', async () => {
    const cb = await callback();
    const { server } = await serve();
    await subscribeVerified(server, cb);
    cb.answer = 'hold';
    await publish(server.url, patientOpen('p1', 'e1'));
    await publish(server.url, patientOpen('p2', 'e2'));
    await cb.waitFor(1, (r) => r.method === 'POST', 'the first delivery');
    await settle();
    expect(cb.deliveries.map((d) => d.id)).toEqual(['e1']);
    cb.release(204);
    await cb.waitFor(2, (r) => r.method === 'POST', 'the second delivery');
    expect(cb.deliveries.map((d) => d.id)).toEqual(['e1', 'e2']);
  });

  it('HUB-WEBSUB-04: without hub.secret no signature is sent', async () => {
    const cb = await callback();
    const { server } = await serve();
    await subscribeVerified(server, cb);
    await publish(server.url, patientOpen('p1', 'e1'));
    await cb.waitFor(1, (r) => r.method === 'POST');
    expect(cb.requests.find((r) => r.method === 'POST')!.headers['x-hub-signature']).toBeUndefined();
  });
});

describe('HUB-WEBSUB-05: the callback status is the ack', () => {
  async function withStu3Watcher(answer: CallbackServer['answer']) {
    const cb = await callback();
    const { server, advance } = await serve({ ackTimeoutMs: 10_000 });
    await subscribeVerified(server, cb, { 'subscriber.name': 'webhook-app' });
    const watcher = await subscribeAndOpen(server.url, TOPIC, 'Patient-open,SyncError', { name: 'stu3-app' });
    cb.answer = answer;
    await publish(server.url, patientOpen('p1', 'e1'));
    return { cb, server, advance, watcher };
  }

  it('HUB-WEBSUB-05: a callback answering 500 gives an STU3 subscriber a SyncError naming it, and its subscription stays', async () => {
    const { cb, server, watcher } = await withStu3Watcher(500);
    const e1 = await watcher.sock.nextEvent('Patient-open');
    watcher.sock.ack(e1);
    const sync = await watcher.sock.nextEvent('SyncError');
    expect(JSON.stringify(sync)).toContain('webhook-app');
    expect(JSON.stringify(sync)).toContain('status 500');
    expect(subscribers(server).map((s) => s.name)).toContain('webhook-app');
    cb.answer = 200;
    await publish(server.url, patientOpen('p2', 'e2'));
    await cb.waitFor(2, (r) => r.method === 'POST');
  });

  it('HUB-WEBSUB-05: a 3xx answer is not followed and raises a SyncError with that status', async () => {
    const { watcher } = await withStu3Watcher(302);
    const sync = await watcher.sock.nextEvent('SyncError');
    expect(JSON.stringify(sync)).toContain('status 302');
  });

  it('HUB-WEBSUB-05: a connection reset counts as 502', async () => {
    const { watcher } = await withStu3Watcher('reset');
    const sync = await watcher.sock.nextEvent('SyncError');
    expect(JSON.stringify(sync)).toContain('status 502');
  });

  it('HUB-WEBSUB-05: no answer within the ack timeout is a silent subscriber: SyncError, then the webhook ends', async () => {
    const { cb, server, advance, watcher } = await withStu3Watcher('hold');
    await cb.waitFor(1, (r) => r.method === 'POST');
    watcher.sock.ack(await watcher.sock.nextEvent('Patient-open'));
    await advance(9_999);
    expect(subscribers(server).map((s) => s.name)).toContain('webhook-app');
    await advance(1);
    const sync = await watcher.sock.nextEvent('SyncError');
    expect(JSON.stringify(sync)).toMatch(/did not answer within 10 s/);
    expect(subscribers(server).map((s) => s.name)).not.toContain('webhook-app');
    expect(server.websub!.size).toBe(0);
  });

  it('HUB-WEBSUB-05: no heartbeats go to callbacks', async () => {
    const cb = await callback();
    const { server, advance } = await serve({ heartbeatMs: 1000 });
    await subscribeVerified(server, cb);
    const stu3 = await subscribeAndOpen(server.url, TOPIC, 'Patient-open');
    await advance(3500);
    await stu3.sock.next((f) => f?.event?.['hub.event'] === 'heartbeat', 'a heartbeat on the STU3 socket');
    await publish(server.url, patientOpen('p1', 'e1'));
    await cb.waitFor(1, (r) => r.method === 'POST');
    expect(cb.deliveries.map((d) => d.event['hub.event'])).toEqual(['Patient-open']);
  });

  it('HUB-WEBSUB-05: a huge answer body costs nothing: it is not read, the ack is the status and the next delivery follows', async () => {
    const cb = await callback();
    const { server } = await serve();
    await subscribeVerified(server, cb);
    cb.answer = 'huge';
    await publish(server.url, patientOpen('p1', 'e1'));
    await publish(server.url, patientOpen('p2', 'e2'));
    await cb.waitFor(2, (r) => r.method === 'POST', 'both deliveries');
    await until(() => subscribers(server)[0]?.pending === 0, 'both answers');
    expect(subscribers(server)[0]!.lastAck?.status).toBe(200);
  });

  it('HUB-WEBSUB-03: a verification answered with a huge body is read only up to a cap and does not activate', async () => {
    const cb = await callback();
    cb.verify = 'huge';
    const { server } = await serve();
    const ended = nextLog(server.hub, 'denied');
    await postSubscription(server.url, webhookParams(cb.url));
    await ended;
    expect(subscribers(server)).toHaveLength(0);
    expect((await fetch(`${server.url}/${TOPIC}`)).status).toBe(200); // the hub serves on
  });
});

describe('HUB-WEBSUB-05: bad callbacks cost their own slot, never the hub', () => {
  it('HUB-WEBSUB-05: next to callbacks that hang, redirect, stream a huge body or reset, a good callback and an STU3 app get every event in order', async () => {
    const { server, advance } = await serve({ ackTimeoutMs: 10_000 });
    const behaviours = ['hold', 302, 'huge', 'reset'] as const;
    const bad: CallbackServer[] = [];
    for (const [i, answer] of behaviours.entries()) {
      const cb = await callback(`/bad-${i}`);
      await subscribeVerified(server, cb, { 'subscriber.name': `bad-${String(answer)}` });
      cb.answer = answer;
      bad.push(cb);
    }
    const good = await callback('/good');
    good.secret = 'good-secret';
    await subscribeVerified(server, good, { 'subscriber.name': 'good', 'hub.secret': 'good-secret' });
    const stu3 = await subscribeAndOpen(server.url, TOPIC, 'Patient-open', { name: 'stu3' });
    const sent: string[] = [];
    for (let i = 1; i <= 5; i++) {
      expect((await publish(server.url, patientOpen(`p${i}`, `b${i}`))).status).toBe(202);
      sent.push(`b${i}`);
    }
    const opens = () => good.deliveries.filter((d) => d.event['hub.event'] === 'Patient-open');
    await good.waitFor(5, (r) => r.method === 'POST' && JSON.parse(r.body).event['hub.event'] === 'Patient-open', 'five events at the good callback');
    expect(opens().map((d) => d.id)).toEqual(sent);
    // It also heard, as SyncErrors, about the callbacks that failed.
    expect(good.deliveries.some((d) => d.event['hub.event'] === 'syncerror')).toBe(true);
    expect(good.badSignatures).toBe(0);
    for (const id of sent) {
      const event = await stu3.sock.nextEvent('Patient-open');
      expect(event.id).toBe(id);
      stu3.sock.ack(event);
    }
    expect((await fetch(`${server.url}/${TOPIC}`)).status).toBe(200);
    // The hanging callback holds its first POST: it never saw a second one.
    expect(bad[0]!.deliveries.map((d) => d.id)).toEqual(['b1']);
    await advance(10_000);
    const names = subscribers(server).map((s) => s.name);
    expect(names).not.toContain('bad-hold');
    expect(names).toEqual(expect.arrayContaining(['good', 'stu3', 'bad-302', 'bad-huge', 'bad-reset']));
  });
});

describe('HUB-WEBSUB-06: the proposal path {topic}/websub', () => {
  it('HUB-WEBSUB-06: POST there takes a form subscription with the topic from the path and the channel type implied', async () => {
    const cb = await callback();
    const { server } = await serve();
    const connected = nextLog(server.hub, 'connect');
    const res = await fetch(`${server.url}/${TOPIC}/websub`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.events': 'Patient-open', 'hub.callback': cb.url }).toString(),
    });
    expect(res.status).toBe(202);
    await connected;
    expect(cb.verifications[0]!.url.searchParams.get('hub.topic')).toBe(TOPIC);
  });

  it('HUB-WEBSUB-06: POST there takes a JSON context change for the path topic; a body naming another topic gets 400', async () => {
    const cb = await callback();
    const { server } = await serve();
    await subscribeVerified(server, cb);
    const ok = await publish(`${server.url}/${TOPIC}/websub`, patientOpen('p1', 'via-websub'));
    expect(ok.status).toBe(202);
    await cb.waitFor(1, (r) => r.method === 'POST');
    expect(cb.deliveries[0].id).toBe('via-websub');
    const other = await publish(`${server.url}/${TOPIC}/websub`, { ...patientOpen('p2', 'x'), event: { ...patientOpen('p2', 'x').event, 'hub.topic': 'T-other' } });
    expect(other.status).toBe(400);
    const sub = await fetch(`${server.url}/${TOPIC}/websub`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ 'hub.mode': 'subscribe', 'hub.topic': 'T-other', 'hub.events': 'Patient-open', 'hub.callback': cb.url }),
    });
    expect(sub.status).toBe(400);
  });

  it('HUB-WEBSUB-06: GET there answers like the pull context; without --websub the path is 404', async () => {
    const { server } = await serve();
    const empty = (await (await fetch(`${server.url}/${TOPIC}/websub`)).json()) as any;
    expect(empty).toMatchObject({ id: expect.any(String), timestamp: expect.any(String), event: { 'hub.topic': TOPIC, context: [] } });
    await publish(server.url, patientOpen('p1', 'e1'));
    const res = await fetch(`${server.url}/${TOPIC}/websub`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.event).toMatchObject({ 'hub.topic': TOPIC, 'hub.event': 'Patient-open', context: expect.arrayContaining([{ key: 'patient', resource: { resourceType: 'Patient', id: 'p1' } }]) });
    const { server: plain } = await serve({ websub: false });
    expect((await fetch(`${plain.url}/${TOPIC}/websub`)).status).toBe(404);
  });
});

describe('HUB-WEBSUB-07: the in-page hub never calls out', () => {
  it('HUB-WEBSUB-07: the wire without a webhook door (the in-page hub) refuses webhook subscriptions with 400 and a reason', async () => {
    const { hub } = await makeHub();
    const wire = createWireHandler(hub, { hubUrl: 'https://page.test/fhircast/hub' });
    const res = await wire.handle(
      new Request('https://page.test/fhircast/hub', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(webhookParams('http://127.0.0.1:9/cb')).toString(),
      }),
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/in-page hub never calls out/);
    expect(hub.inspect().topics).toHaveLength(0);
  });
});

describe('HUB-WEBSUB-07: secrets', () => {
  it('HUB-WEBSUB-07: hub.secret never appears in the log, in inspect() or in storage', async () => {
    const cb = await callback();
    cb.verify = 'wrong';
    const log: string[] = [];
    const { server } = await serve({ log });
    const secret = 'never-shown-secret-8812';
    const ended = nextLog(server.hub, 'denied');
    const entries: unknown[] = [];
    server.hub.observe((e) => entries.push(e));
    await postSubscription(server.url, webhookParams(cb.url, { 'hub.secret': secret }));
    await ended;
    cb.verify = 'echo';
    await subscribeVerified(server, cb, { 'hub.secret': secret });
    expect(log.some((l) => l.includes('did not verify'))).toBe(true);
    expect(JSON.stringify([log, entries, server.hub.inspect()])).not.toContain(secret);
  });
});

describe('--websub on the command line and in the protocol list', () => {
  it('HUB-WEBSUB-01: --websub and repeatable --websub-allow parse; --websub-allow alone is a usage error', async () => {
    const { parseCommandLine } = await import('../../../src/server/args.js');
    const cmd = parseCommandLine(['serve', '--websub', '--websub-allow', 'http://localhost:9000', '--websub-allow=https://app.example.org', '--port', '0']);
    expect(cmd).toMatchObject({ command: 'serve', args: { websub: true, websubAllow: ['http://localhost:9000', 'https://app.example.org'], port: 0 } });
    expect((parseCommandLine(['serve']) as any).args.websub).toBeUndefined();
    expect(() => parseCommandLine(['serve', '--websub-allow', 'http://localhost:9000'])).toThrow(/needs --websub/);
    expect(() => parseCommandLine(['serve', '--websub', '--websub-allow', 'http://localhost:9000/path'])).toThrow(/origin/);
  });

  it('HUB-WEBSUB-06 / HUB-PULL-02: with --websub the protocol list names websub at {topic}/websub; without, it does not', async () => {
    const { server } = await serve();
    const list = ((await (await fetch(`${server.url}/${TOPIC}/protocols`)).json()) as any).protocols;
    expect(list.find((p: any) => p.name === 'websub')).toEqual({ name: 'websub', url: `${server.url}/${TOPIC}/websub` });
    const { server: plain } = await serve({ websub: false });
    const plainList = ((await (await fetch(`${plain.url}/${TOPIC}/protocols`)).json()) as any).protocols;
    expect(plainList.map((p: any) => p.name)).not.toContain('websub');
  });
});

describe.skipIf(DIST_MISSING)('the tabcast process with --websub (needs npm run build)', () => {
  it('HUB-WEBSUB-01 / HUB-WEBSUB-04: `tabcast serve --websub` says what it calls back, verifies a callback and POSTs to it', async () => {
    const cb = await callback();
    const hub = await HubProcess.start(['--port', '0', '--heartbeat-ms', '0', '--websub']);
    await until(() => /WebSub callbacks on: the hub calls back only the loopback hosts/.test(hub.stdout), 'the WebSub line after the listening line');
    const res = await postSubscription(hub.url, webhookParams(cb.url, { 'hub.secret': 'cli-secret' }));
    expect(res.status).toBe(202);
    cb.secret = 'cli-secret';
    await cb.waitFor(1, (r) => r.method === 'GET', 'the verification');
    // Live or as catch-up once the verification lands, the event reaches the callback either way.
    expect((await publish(hub.url, patientOpen('p1', 'cli-1'))).status).toBe(202);
    await cb.waitFor(1, (r) => r.method === 'POST', 'a delivery from the process');
    expect(cb.deliveries[0].id).toBe('cli-1');
    expect(cb.badSignatures).toBe(0);
    expect(hub.stdout + hub.stderr).not.toContain('cli-secret');
  });
});
