/**
 * HUB-CLUSTER: three `tabcast serve --redis` child processes on one real redis-server (loopback,
 * persistence off), with subscribers spread over all three and endpoints opened on an instance
 * other than the one that issued them, as a round-robin load balancer does.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientOpen, reportOpen, reportUpdate } from '../wire/support.js';
import { TestSocket, getContext, postSubscription, publish, subscribeAndOpen } from '../server/support.js';
import { findRedisServer, freePort, RedisServer } from './redis-server.js';
import { Instance } from './serve-instances.js';

const REDIS = findRedisServer();
const FLAGS = ['--ack-timeout-ms', '0', '--heartbeat-ms', '0'];

/** The same endpoint URL on another instance's port (a load balancer may send the upgrade anywhere). */
const onInstance = (endpoint: string, inst: Instance) => endpoint.replace(/^ws:\/\/[^/]+/, `ws://${new URL(inst.url).host}`);

async function subscribeVia(issuer: Instance, opener: Instance, topic: string, events: string, name: string) {
  const res = await postSubscription(issuer.url, { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': events, 'subscriber.name': name });
  expect(res.status).toBe(202);
  const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
  const sock = await TestSocket.open(onInstance(endpoint, opener));
  await sock.next((f) => f['hub.mode'] === 'subscribe', 'the confirmation');
  return { endpoint, sock };
}

/** Polls /healthz until it answers `status` (bounded: a state change is awaited, not slept on). */
async function healthBecomes(inst: Instance, status: number): Promise<any> {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${inst.url}/healthz`).catch(() => undefined);
    if (res?.status === status) return res.json();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`healthz of ${inst.id} never answered ${status}`);
}

describe.skipIf(!REDIS)(`HUB-CLUSTER three instances on one Redis${REDIS ? '' : ' (skipped: redis-server is not installed; run `sudo apt-get install -y redis-server`)'}`, () => {
  let redis: RedisServer;
  let a: Instance, b: Instance, c: Instance;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => Instance.start(redis.url, id, FLAGS))) as [Instance, Instance, Instance];
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    expect([a, b, c].filter((i) => i?.crashed).map((i) => i.id)).toEqual([]); // no instance died on its own
    await Promise.all([a, b, c].filter(Boolean).map((i) => i.kill()));
    await redis?.stop();
  });

  it('HUB-CLUSTER-05 /healthz names the instance and Redis; healthz is not a topic', async () => {
    for (const inst of [a, b, c]) {
      const res = await fetch(`${inst.url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ instance: inst.id, redis: 'ok' });
    }
    expect((await publish(`${a.url}/healthz`, patientOpen('healthz', 'p'))).status).toBe(400);
    expect((await publish(a.url, patientOpen('healthz', 'p'))).status).toBe(400);
    const sub = await postSubscription(b.url, { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': 'healthz', 'hub.events': 'Patient-open' });
    expect(sub.status).toBe(400);
  });

  it('HUB-CLUSTER-01 HUB-CLUSTER-02 changes through every instance reach every subscriber once, in one order; endpoints open on any instance; get-context agrees', async () => {
    const topic = `t-order-${Date.now()}`;
    const instances = [a, b, c];
    const subs = [];
    // Six subscribers: each issued by one instance and opened on the next (round robin).
    for (let i = 0; i < 6; i++) {
      const s = await subscribeVia(instances[i % 3]!, instances[(i + 1) % 3]!, topic, 'Patient-open', `viewer-${i}`);
      sockets.push(s.sock);
      subs.push(s);
    }
    // Nine opens, three through each instance, all at once.
    const bodies = Array.from({ length: 9 }, (_, i) => patientOpen(topic, `p-${i}`));
    const answers = await Promise.all(bodies.map((body, i) => publish(instances[i % 3]!.url, body)));
    expect(answers.map((r) => r.status)).toEqual(Array(9).fill(202));
    const orders: string[][] = [];
    for (const s of subs) {
      const seen: string[] = [];
      for (let k = 0; k < 9; k++) seen.push((await s.sock.nextEvent('Patient-open')).id);
      orders.push(seen);
    }
    // Exactly once: nine distinct ids, all of them, and nothing more arrives after a marker.
    expect(new Set(orders[0]).size).toBe(9);
    expect([...orders[0]!].sort()).toEqual(bodies.map((b) => b.id).sort());
    for (const o of orders) expect(o).toEqual(orders[0]);
    // A publisher retrying an event (same id) through another instance gets 202 and nobody gets it twice.
    expect((await publish(c.url, bodies[0])).status).toBe(202);
    const marker = patientOpen(topic, 'marker');
    expect((await publish(b.url, marker)).status).toBe(202);
    for (const s of subs) expect((await s.sock.nextEvent('Patient-open')).id).toBe(marker.id);
    // get-context after the 202: the same current context and version on every instance.
    const contexts = await Promise.all(instances.map((i) => getContext(i.url, topic)));
    expect(contexts[0].context[0].resource.id).toBe('marker');
    for (const ctx of contexts) expect(ctx).toEqual(contexts[0]);
    // HUB-PULL-01 on every instance too: the open event that made it current, with get-context's entries.
    for (const inst of instances) {
      const pulled = await (await fetch(`${inst.url}/${topic}/context`)).json();
      expect(pulled).toMatchObject({ id: marker.id, event: { 'hub.topic': topic, 'hub.event': 'Patient-open', context: contexts[0].context } });
    }
  });

  it('HUB-CLUSTER-03 two updates with the same context.versionId on two instances: one 202, one 409, applied once', async () => {
    const topic = `t-version-${Date.now()}`;
    const watcher = await subscribeVia(c, c, topic, 'DiagnosticReport-open,DiagnosticReport-update', 'watcher');
    sockets.push(watcher.sock);
    expect((await publish(a.url, reportOpen(topic, 'dr-1', 'pt-1'))).status).toBe(202);
    const v1 = (await watcher.sock.nextEvent('DiagnosticReport-open')).event['context.versionId'];
    const first = reportUpdate(topic, 'dr-1', v1, 'obs-a');
    const second = reportUpdate(topic, 'dr-1', v1, 'obs-b');
    const [ra, rb] = await Promise.all([publish(a.url, first), publish(b.url, second)]);
    expect([ra.status, rb.status].sort()).toEqual([202, 409]);
    const winner = ra.status === 202 ? first : second;
    const update = await watcher.sock.nextEvent('DiagnosticReport-update');
    expect(update.id).toBe(winner.id);
    expect(update.event['context.priorVersionId']).toBe(v1);
    // Nothing applied twice: a marker open comes next, and every instance holds one observation.
    expect((await publish(c.url, reportOpen(topic, 'dr-2', 'pt-1'))).status).toBe(202);
    expect((await watcher.sock.nextEvent('DiagnosticReport-open')).event.context[0].resource.id).toBe('dr-2');
    const reopened = reportOpen(topic, 'dr-1', 'pt-1');
    expect((await publish(b.url, reopened)).status).toBe(202);
    for (const inst of [a, b, c]) {
      const ctx = await getContext(inst.url, topic);
      const bundle = ctx.context.find((e: any) => e.key === 'content').resource;
      expect(bundle.entry).toHaveLength(1);
    }
  });

  it('HUB-CLUSTER-04 a SyncError raised on one instance reaches SyncError subscribers on every other instance once; acks stay local', async () => {
    const topic = `t-sync-${Date.now()}`;
    const nacker = await subscribeVia(a, a, topic, 'Patient-open', 'nacker');
    const onB = await subscribeVia(b, b, topic, 'Patient-open,SyncError', 'on-b');
    const onC = await subscribeVia(a, c, topic, 'SyncError', 'on-c');
    sockets.push(nacker.sock, onB.sock, onC.sock);
    const open = patientOpen(topic, 'p-sync');
    expect((await publish(c.url, open)).status).toBe(202);
    nacker.sock.ack(await nacker.sock.nextEvent('Patient-open'), 500);
    onB.sock.ack(await onB.sock.nextEvent('Patient-open'));
    const atB = await onB.sock.nextEvent('syncerror');
    const atC = await onC.sock.nextEvent('syncerror');
    expect(atB.id).toBe(atC.id);
    const codes = atB.event.context[0].resource.issue[0].details.coding.map((x: any) => x.code);
    expect(codes).toContain(open.id);
    expect(codes).toContain('nacker');
    // Once: a later marker is the next frame each of them gets, no second SyncError before it.
    const marker = patientOpen(topic, 'after');
    expect((await publish(b.url, marker)).status).toBe(202);
    expect((await onB.sock.next()).id).toBe(marker.id);
    expect(onC.sock.frames.filter((f) => f?.event?.['hub.event']?.toLowerCase() === 'syncerror')).toHaveLength(1);
  });

  it('HUB-CLUSTER-02 a renewal and an unsubscribe sent to an instance that does not hold the socket reach the one that does', async () => {
    const topic = `t-renew-${Date.now()}`;
    const held = await subscribeVia(a, b, topic, 'Patient-open', 'held-on-b');
    sockets.push(held.sock);
    const params = { 'hub.channel.type': 'websocket', 'hub.topic': topic, 'hub.channel.endpoint': held.endpoint };
    const renewed = await postSubscription(c.url, { ...params, 'hub.mode': 'subscribe', 'hub.events': 'Patient-open,Patient-close' });
    expect(renewed.status).toBe(202);
    const confirmation = await held.sock.next((f) => f['hub.mode'] === 'subscribe', 'the renewal confirmation');
    expect(confirmation['hub.events']).toBe('Patient-open,Patient-close');
    const gone = await postSubscription(c.url, { ...params, 'hub.mode': 'unsubscribe' });
    expect(gone.status).toBe(202);
    expect((await held.sock.next((f) => f['hub.mode'] === 'denied', 'the denial'))['hub.topic']).toBe(topic);
    expect((await held.sock.closed).code).toBe(1000);
  });

  it('HUB-CLUSTER-05 Redis paused: context changes get 503 within 5 s and are never applied; recovery on its own when it resumes', async () => {
    const topic = `t-pause-${Date.now()}`;
    const watcher = await subscribeVia(a, b, topic, 'Patient-open', 'watcher');
    sockets.push(watcher.sock);
    redis.pause();
    try {
      const started = Date.now();
      const refused = patientOpen(topic, 'never');
      const res = await publish(a.url, refused);
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(JSON.stringify(await res.json())).toMatch(/Redis/);
      expect(await healthBecomes(b, 503)).toMatchObject({ instance: 'b', redis: 'down' });
    } finally {
      redis.resume();
    }
    await healthBecomes(a, 200);
    await healthBecomes(b, 200);
    const after = patientOpen(topic, 'after-resume');
    expect((await publish(a.url, after)).status).toBe(202);
    // The refused change never shows up: the first event after resuming is the new one.
    expect((await watcher.sock.nextEvent('Patient-open')).id).toBe(after.id);
    expect((await getContext(c.url, topic)).context[0].resource.id).toBe('after-resume');
  }, 20_000);

  it('HUB-CLUSTER-05 Redis back empty after a restart without persistence: instances write their state back and go on', async () => {
    const topic = `t-restart-${Date.now()}`;
    const watcher = await subscribeVia(c, a, topic, 'Patient-open', 'watcher');
    sockets.push(watcher.sock);
    expect((await publish(b.url, patientOpen(topic, 'before'))).status).toBe(202);
    await watcher.sock.nextEvent('Patient-open');
    await redis.restart();
    await healthBecomes(a, 200);
    await healthBecomes(b, 200);
    await healthBecomes(c, 200);
    for (const inst of [a, b, c]) expect((await getContext(inst.url, topic)).context[0].resource.id).toBe('before');
    const after = patientOpen(topic, 'after-restart');
    const r = await publish(c.url, after);
    expect(r.status, await r.text()).toBe(202);
    expect((await watcher.sock.nextEvent('Patient-open')).id).toBe(after.id);
    // A fresh instance started now loads the state written back.
    const d = await Instance.start(redis.url, 'd', FLAGS);
    try {
      expect((await getContext(d.url, topic)).context[0].resource.id).toBe('after-restart');
    } finally {
      await d.kill();
    }
  }, 20_000);

  it('HUB-CLUSTER-04 SIGKILL of one instance: its subscribers re-subscribe elsewhere and get their catch-up; the others see no gap', async () => {
    const topic = `t-kill-${Date.now()}`;
    const onA = await subscribeVia(a, a, topic, 'Patient-open', 'on-a');
    const onB = await subscribeVia(b, b, topic, 'Patient-open', 'on-b');
    const onC = await subscribeVia(c, c, topic, 'Patient-open', 'on-c');
    sockets.push(onA.sock, onB.sock, onC.sock);
    const first = patientOpen(topic, 'p-1');
    expect((await publish(c.url, first)).status).toBe(202);
    for (const s of [onA, onB, onC]) expect((await s.sock.nextEvent('Patient-open')).id).toBe(first.id);
    // Killed mid-publish: the change is applied on every surviving instance or on none, and a 202
    // means it was applied.
    const inFlight = patientOpen(topic, 'p-in-flight');
    const answer = publish(c.url, inFlight).then((r) => r.status, () => 'connection lost' as const);
    await c.kill();
    expect((await onC.sock.closed).code).toBe(1006);
    const outcome = await answer;
    const [atA, atB] = [await getContext(a.url, topic), await getContext(b.url, topic)];
    expect(atA).toEqual(atB);
    if (outcome === 202) expect(atA.context[0].resource.id).toBe('p-in-flight');
    if (atA.context[0].resource.id === 'p-in-flight') for (const s of [onA, onB]) expect((await s.sock.nextEvent('Patient-open')).id).toBe(inFlight.id);
    // The publisher learns which by sending the same event again elsewhere: 202, applied once.
    const retried = await publish(a.url, inFlight);
    expect(retried.status).toBe(202);
    if (atA.context[0].resource.id !== 'p-in-flight') for (const s of [onA, onB]) expect((await s.sock.nextEvent('Patient-open')).id).toBe(inFlight.id);
    const second = patientOpen(topic, 'p-2');
    expect((await publish(a.url, second)).status).toBe(202);
    // The moved subscriber re-subscribes on another instance and gets the current context as catch-up.
    const moved = await subscribeAndOpen(b.url, topic, 'Patient-open', { name: 'on-c-moved' });
    sockets.push(moved.sock);
    const catchUp = await moved.sock.nextEvent('Patient-open');
    expect(catchUp.event.context[0].resource.id).toBe('p-2');
    const third = patientOpen(topic, 'p-3');
    expect((await publish(b.url, third)).status).toBe(202);
    expect((await moved.sock.nextEvent('Patient-open')).id).toBe(third.id);
    for (const s of [onA, onB]) {
      expect((await s.sock.nextEvent('Patient-open')).id).toBe(second.id);
      expect((await s.sock.nextEvent('Patient-open')).id).toBe(third.id);
    }
  }, 20_000);

  it('HUB-CLUSTER-02 behind scripts/round-robin.mjs (one instance dead): subscribe, open the endpoint and publish through one port', async () => {
    const port = await freePort();
    const script = fileURLToPath(new URL('../../../scripts/round-robin.mjs', import.meta.url));
    const ports = [a, b, c].map((i) => new URL(i.url).port).join(',');
    const lb = spawn(process.execPath, [script, '--listen', String(port), '--to', ports], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        lb.stdout!.once('data', () => resolve());
        lb.once('exit', (code) => reject(new Error(`round-robin exited (${code})`)));
      });
      const hubUrl = `http://127.0.0.1:${port}/fhircast/hub`;
      const topic = `t-lb-${Date.now()}`;
      const viaLb = (endpoint: string) => endpoint.replace(/^ws:\/\/[^/]+/, `ws://127.0.0.1:${port}`);
      const socks = [];
      for (let i = 0; i < 3; i++) {
        const res = await postSubscription(hubUrl, { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'Patient-open' });
        expect(res.status).toBe(202);
        const sock = await TestSocket.open(viaLb(((await res.json()) as Record<string, string>)['hub.channel.endpoint']!));
        await sock.next((f) => f['hub.mode'] === 'subscribe', 'the confirmation');
        sockets.push(sock);
        socks.push(sock);
      }
      const open = patientOpen(topic, 'via-lb');
      expect((await publish(hubUrl, open)).status).toBe(202);
      for (const s of socks) expect((await s.nextEvent('Patient-open')).id).toBe(open.id);
    } finally {
      lb.kill('SIGTERM');
    }
  });
});
