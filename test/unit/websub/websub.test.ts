/**
 * WebSub callbacks on `tabcast serve --websub` (channels.md §3): a real hub on 127.0.0.1 and a
 * real callback listener (node:http). Every timeout runs on ManualTimers (a fake clock): the
 * verification's 5 s, a delivery's ack timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Hub, HubLogEntry } from '../../../src/hub/index.js';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { ManualTimers, settle } from '../bridge/support/manual-timers.js';
import { cleanup, DIST_MISSING, HubProcess, postSubscription, publish, subscribeAndOpen, track } from '../server/support.js';
import { CallbackServer } from './support.js';
import { until } from '../bridge/support/local.js';
import { createWireHandler } from '../../../src/wire/index.js';
import { makeHub } from '../support/harness.js';

const TOPIC = 'T-websub';
const listeners: CallbackServer[] = [];
afterEach(async () => {
  await cleanup();
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

async function callback(path?: string): Promise<CallbackServer> {
  const cb = await CallbackServer.start(path);
  listeners.push(cb);
  return cb;
}

async function serve(options: { websub?: boolean; allow?: string[]; ackTimeoutMs?: number; heartbeatMs?: number; log?: string[]; users?: { secret: string; groups: string[][] } } = {}) {
  const timers = new ManualTimers();
  const server = track(
    await startServer({
      port: 0,
      heartbeatMs: options.heartbeatMs ?? 0,
      ackTimeoutMs: options.ackTimeoutMs,
      clock: timers.clock,
      log: (line) => options.log?.push(line),
      users: options.users,
      ...(options.websub === false ? {} : { websub: { allow: options.allow ?? [], timers: { set: timers.setTimeout, clear: timers.clearTimeout } } }),
    }),
  );
  /** Moves the fake clock: the adapter's timers fire and the engine runs its deadlines. */
  const advance = async (ms: number) => {
    await timers.advance(ms);
    server.hub.tick();
    await settle();
  };
  return { server, timers, advance };
}

function webhookParams(callbackUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'hub.channel.type': 'webhook', 'hub.mode': 'subscribe', 'hub.topic': TOPIC, 'hub.events': 'Patient-open,Patient-close,SyncError', 'hub.callback': callbackUrl, ...extra };
}

/** Resolves with the next log entry of `type` (and `match`) the engine emits. */
function nextLog(hub: Hub, type: HubLogEntry['type'], match: (e: HubLogEntry) => boolean = () => true): Promise<HubLogEntry> {
  return new Promise((resolve) => {
    const off = hub.observe((e) => {
      if (e.type === type && match(e)) {
        off();
        resolve(e);
      }
    });
  });
}

/** Subscribes a webhook and resolves once the callback verified and the engine connected it. */
async function subscribeVerified(server: RunningServer, cb: CallbackServer, extra: Record<string, string> = {}): Promise<void> {
  const connected = nextLog(server.hub, 'connect');
  const res = await postSubscription(server.url, webhookParams(cb.url, extra));
  expect(res.status, await res.clone().text()).toBe(202);
  await connected;
}

function patientOpen(pid: string, id: string) {
  return { timestamp: '2026-01-01T00:00:00Z', id, event: { 'hub.topic': TOPIC, 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: pid } }] } };
}

const subscribers = (server: RunningServer) => server.hub.inspect().topics.find((t) => t.topic === TOPIC)?.subscribers ?? [];

describe('HUB-WEBSUB-01: webhooks only with --websub', () => {
  it('HUB-WEBSUB-01 / HUB-SUB-03: without --websub a webhook subscription gets 400 and the callback hears nothing', async () => {
    const cb = await callback();
    const { server } = await serve({ websub: false });
    const res = await postSubscription(server.url, webhookParams(cb.url));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/webhook/);
    await settle();
    expect(cb.requests).toHaveLength(0);
  });

  it('HUB-WEBSUB-01: with --websub, webhook and websub channel types with hub.callback answer 202', async () => {
    const cb = await callback();
    const { server } = await serve();
    for (const type of ['webhook', 'websub']) {
      const res = await postSubscription(server.url, webhookParams(`${cb.url}/${type}`, { 'hub.channel.type': type }));
      expect(res.status).toBe(202);
    }
    await cb.waitFor(2, (r) => r.method === 'GET', 'verifications');
    const missing = await postSubscription(server.url, { ...webhookParams(cb.url), 'hub.callback': '' });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toMatch(/hub\.callback/);
  });
});

describe('HUB-WEBSUB-02: where callbacks may point', () => {
  it('HUB-WEBSUB-02: a callback outside --websub-allow gets 400 with a reason, and no request ever reaches it', async () => {
    const cb = await callback();
    // Allowed: the same listener under the name localhost; refused: 127.0.0.1, which is not listed.
    const { server } = await serve({ allow: [`http://localhost:${cb.port}`] });
    const res = await postSubscription(server.url, webhookParams(cb.url));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/not allowed/);
    await publish(server.url, patientOpen('p1', 'e1'));
    await settle();
    expect(cb.requests).toHaveLength(0);
    const listed = await postSubscription(server.url, webhookParams(`http://localhost:${cb.port}/cb`));
    expect(listed.status).toBe(202);
    await cb.waitFor(1, (r) => r.method === 'GET', 'the verification of the listed origin');
  });

  it('HUB-WEBSUB-02 / HUB-WEBSUB-06 / HUB-ID-06: with --users webhooks and {topic}/websub need the Bearer secret; without it, 401 and no request to the callback', async () => {
    const cb = await callback();
    const { server } = await serve({ users: { secret: 'users-secret', groups: [['u1']] } });
    const res = await postSubscription(server.url, webhookParams(cb.url));
    expect(res.status).toBe(401);
    await settle();
    expect(cb.requests).toHaveLength(0);
    const connected = nextLog(server.hub, 'connect');
    expect((await postSubscription(server.url, webhookParams(cb.url), { authorization: 'Bearer users-secret' })).status).toBe(202);
    await connected;
    // The proposal's path asks for the same Bearer, for reading and for writing.
    expect((await fetch(`${server.url}/${TOPIC}/websub`)).status).toBe(401);
    expect((await fetch(`${server.url}/${TOPIC}/websub`, { headers: { authorization: 'Bearer users-secret' } })).status).toBe(200);
    expect((await publish(`${server.url}/${TOPIC}/websub`, patientOpen('p1', 'no-bearer'))).status).toBe(401);
    expect((await publish(`${server.url}/${TOPIC}/websub`, patientOpen('p1', 'bearer'), { authorization: 'Bearer users-secret' })).status).toBe(202);
  });

  it('HUB-WEBSUB-02: with no --websub-allow only loopback hosts are allowed, and only http(s)', async () => {
    const cb = await callback();
    const { server } = await serve();
    for (const bad of ['http://10.1.2.3:8080/cb', 'http://example.org/cb', 'ftp://127.0.0.1/cb', 'not a url', `http://user:pw@127.0.0.1:${cb.port}/cb`]) {
      const res = await postSubscription(server.url, webhookParams(bad));
      expect(res.status, bad).toBe(400);
    }
    await settle();
    expect(cb.requests).toHaveLength(0);
  });

  it('HUB-WEBSUB-02: a redirect is not followed: a verification answered 302 leaves the subscription inactive and the target unvisited', async () => {
    const target = await callback('/target');
    const cb = await callback();
    cb.verify = { redirect: target.url };
    const { server } = await serve();
    const ended = nextLog(server.hub, 'denied');
    expect((await postSubscription(server.url, webhookParams(cb.url))).status).toBe(202);
    await ended;
    await publish(server.url, patientOpen('p1', 'e1'));
    await settle();
    expect(target.requests).toHaveLength(0);
    expect(cb.deliveries).toHaveLength(0);
    expect(subscribers(server)).toHaveLength(0);
  });
});

describe('HUB-WEBSUB-03: verification of intent', () => {
  it('HUB-WEBSUB-03: the hub GETs the callback with mode, topic, events, challenge and lease; an echo activates it and catch-up follows', async () => {
    const cb = await callback();
    const { server } = await serve();
    await publish(server.url, patientOpen('p0', 'before'));
    await subscribeVerified(server, cb, { 'hub.lease_seconds': '600' });
    const q = cb.verifications[0]!.url.searchParams;
    expect(q.get('hub.mode')).toBe('subscribe');
    expect(q.get('hub.topic')).toBe(TOPIC);
    expect(q.get('hub.events')).toBe('Patient-open,Patient-close,SyncError');
    expect(q.get('hub.challenge')!.length).toBeGreaterThanOrEqual(16);
    expect(q.get('hub.lease_seconds')).toBe('600');
    await cb.waitFor(1, (r) => r.method === 'POST', 'the catch-up');
    expect(cb.deliveries.map((d) => d.id)).toEqual(['before']);
  });

  it('HUB-WEBSUB-03: a callback that answers without the exact challenge stays inactive and gets nothing', async () => {
    const cb = await callback();
    cb.verify = 'wrong';
    const { server } = await serve();
    const ended = nextLog(server.hub, 'denied');
    await postSubscription(server.url, webhookParams(cb.url));
    await ended;
    await publish(server.url, patientOpen('p1', 'e1'));
    await settle();
    expect(cb.deliveries).toHaveLength(0);
    expect(subscribers(server)).toHaveLength(0);
  });

  it('HUB-WEBSUB-03: a callback that hangs is given up after 5 s on the clock and never receives an event', async () => {
    const cb = await callback();
    cb.verify = 'hang';
    const { server, advance } = await serve();
    await postSubscription(server.url, webhookParams(cb.url));
    await cb.waitFor(1, (r) => r.method === 'GET', 'the verification');
    await advance(4999);
    expect(subscribers(server)).toHaveLength(1); // waiting, not yet given up
    expect(subscribers(server)[0]!.connected).toBe(false);
    const ended = nextLog(server.hub, 'denied');
    await advance(1);
    await ended;
    await publish(server.url, patientOpen('p1', 'e1'));
    await settle();
    expect(cb.deliveries).toHaveLength(0);
    expect(subscribers(server)).toHaveLength(0);
  });

  it('HUB-WEBSUB-03: unsubscribe answers 202, is verified with hub.mode=unsubscribe, and deliveries stop once it is', async () => {
    const cb = await callback();
    const { server } = await serve();
    await subscribeVerified(server, cb);
    const ended = nextLog(server.hub, 'denied');
    const res = await postSubscription(server.url, { 'hub.channel.type': 'webhook', 'hub.mode': 'unsubscribe', 'hub.topic': TOPIC, 'hub.callback': cb.url });
    expect(res.status).toBe(202);
    await ended;
    expect(cb.verifications.map((v) => v.url.searchParams.get('hub.mode'))).toEqual(['subscribe', 'unsubscribe']);
    await publish(server.url, patientOpen('p1', 'after'));
    await settle();
    expect(cb.deliveries).toHaveLength(0);
  });

  it('HUB-WEBSUB-03: subscribing the same callback again is verified again, then replaces its events and secret', async () => {
    const cb = await callback();
    const { server } = await serve();
    await subscribeVerified(server, cb, { 'hub.events': 'Patient-open', 'hub.secret': 'first' });
    const again = await postSubscription(server.url, webhookParams(cb.url, { 'hub.events': 'Patient-close', 'hub.secret': 'second' }));
    expect(again.status).toBe(202);
    await cb.waitFor(2, (r) => r.method === 'GET', 'the second verification');
    expect(cb.verifications[1]!.url.searchParams.get('hub.events')).toBe('Patient-close');
    await until(() => subscribers(server)[0]?.events === 'Patient-close', 'the new events to apply');
    expect(subscribers(server)).toHaveLength(1);
    cb.secret = 'second';
    await publish(server.url, patientOpen('p1', 'open-ignored'));
    await publish(server.url, { timestamp: '2026-01-01T00:00:00Z', id: 'closed', event: { 'hub.topic': TOPIC, 'hub.event': 'Patient-close', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p1' } }] } });
    await cb.waitFor(1, (r) => r.method === 'POST', 'the close');
    await settle();
    expect(cb.deliveries.map((d) => d.id)).toEqual(['closed']);
    expect(cb.badSignatures).toBe(0);
  });

  it('HUB-WEBSUB-03: an unsubscribe the callback does not confirm changes nothing', async () => {
    const cb = await callback();
    const { server } = await serve();
    await subscribeVerified(server, cb);
    cb.verify = 'refuse';
    await postSubscription(server.url, { 'hub.channel.type': 'webhook', 'hub.mode': 'unsubscribe', 'hub.topic': TOPIC, 'hub.callback': cb.url });
    await cb.waitFor(2, (r) => r.method === 'GET', 'the unsubscribe verification');
    await settle();
    await publish(server.url, patientOpen('p1', 'still'));
    await cb.waitFor(1, (r) => r.method === 'POST', 'a delivery');
    expect(cb.deliveries.map((d) => d.id)).toEqual(['still']);
  });
});

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
