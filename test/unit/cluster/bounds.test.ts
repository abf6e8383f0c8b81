/**
 * HUB-CLUSTER-06: the bounds of HUB-BOUND hold cluster-wide. Two in-process `tabcast serve`
 * instances on one real redis-server, with the same small bounds: the topic bound counts every
 * instance's topics (and a race for the last slot has one winner), an idle topic is forgotten only
 * when no instance uses it, and the connect deadline of an endpoint holds on every instance.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hub, HubLogEntry } from '../../../src/hub/index.js';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { fresh, patientOpen, reportUpdate } from '../wire/support.js';
import { cleanup, postSubscription, publish, refusedUpgradeStatus, TestSocket, track, unsubscribe } from '../server/support.js';
import { findRedisServer, RedisServer } from './redis-server.js';

const REDIS = findRedisServer();
/** Small bounds, the same flags on both instances; the idle time is longer than the connect deadline. */
const BOUNDS = { maxTopics: 2, idleTopicMs: 1500, connectTimeoutMs: 800 };
/** How long a test waits for an engine event before failing (several idle periods). */
const EVENT_WAIT_MS = 10_000;

/** The same endpoint URL on another instance's port (a load balancer may send the upgrade anywhere). */
const onInstance = (endpoint: string, server: RunningServer) => endpoint.replace(/^ws:\/\/[^/]+/, `ws://${new URL(server.url).host}`);

/** Resolves with the first entry of the hub's log that matches, from now on. */
function logged(hub: Hub, match: (entry: HubLogEntry) => boolean, what: string): Promise<HubLogEntry> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out waiting for ${what}`));
    }, EVENT_WAIT_MS);
    const stop = hub.observe((entry) => {
      if (!match(entry)) return;
      clearTimeout(timer);
      stop();
      resolve(entry);
    });
  });
}

/** Resolves when the hub ends the subscription named `name`. */
const gone = (hub: Hub, name: string) => logged(hub, (e) => e.type === 'denied' && e.subscriber === name, `${name} ending`);

function patientClose(topic: string, patientId: string) {
  return { timestamp: '2026-01-01T10:00:00.000Z', id: fresh('ev'), event: { 'hub.topic': topic, 'hub.event': 'Patient-close', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: patientId } }] } };
}

function subscribeParams(topic: string, name: string): Record<string, string> {
  return { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'Patient-open,Patient-close', 'subscriber.name': name };
}

/** Subscribes through `issuer` and opens the endpoint on `opener`; resolves after the confirmation. */
async function subscribeVia(issuer: RunningServer, opener: RunningServer, topic: string, name: string) {
  const res = await postSubscription(issuer.url, subscribeParams(topic, name));
  expect(res.status, await res.clone().text()).toBe(202);
  const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
  const sock = await TestSocket.open(onInstance(endpoint, opener));
  await sock.next((f) => f['hub.mode'] === 'subscribe', 'the confirmation');
  return { endpoint, sock };
}

/** Polls inspect() until the cluster's topic count is `n` (it follows Redis at each health check; bounded). */
async function clusterTopicsBecome(server: RunningServer, n: number): Promise<void> {
  for (let i = 0; i < 80 && server.hub.inspect().clusterTopics !== n; i++) await new Promise((r) => setTimeout(r, 100));
  expect(server.hub.inspect().clusterTopics).toBe(n);
}

describe.skipIf(!REDIS)(`HUB-CLUSTER-06 bounds over two instances${REDIS ? '' : ' (skipped: redis-server is not installed; run `sudo apt-get install -y redis-server`)'}`, () => {
  let redis: RedisServer;
  let a: RunningServer;
  let b: RunningServer;

  beforeEach(async () => {
    redis = await RedisServer.start();
    const start = (instanceId: string) => startServer({ port: 0, heartbeatMs: 0, ackTimeoutMs: 0, redis: redis.url, instanceId, bounds: BOUNDS });
    a = track(await start('a'));
    b = track(await start('b'));
  });

  afterEach(async () => {
    await cleanup();
    await redis?.stop();
  });

  it('HUB-CLUSTER-06 HUB-BOUND-05 HUB-BOUND-07 --max-topics counts the topics of every instance: the third topic gets 503 with a reason on either instance; existing topics keep working', async () => {
    const [t1, t2, t3] = [fresh('t1'), fresh('t2'), fresh('t3')];
    expect((await publish(a.url, patientOpen(t1, 'p'))).status).toBe(202);
    await subscribeVia(b, b, t2, 'held-on-b');
    for (const server of [a, b]) {
      const res = await publish(server.url, patientOpen(t3, 'p'));
      expect(res.status).toBe(503);
      const outcome = await res.json();
      expect(outcome.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(outcome)).toMatch(/cluster holds 2 topics over all its instances, its limit/);
      const sub = await postSubscription(server.url, subscribeParams(t3, 'refused'));
      expect(sub.status).toBe(503);
      expect(await sub.text()).toMatch(/cluster holds 2 topics/);
    }
    // Existing topics, wherever they were made, keep working on both instances.
    expect((await publish(a.url, patientOpen(t2, 'q'))).status).toBe(202);
    expect((await postSubscription(b.url, subscribeParams(t1, 'second'))).status).toBe(202);
    expect(a.hub.topicIds()).not.toContain(t3);
    expect(b.hub.topicIds()).not.toContain(t3);
    for (const server of [a, b]) {
      await clusterTopicsBecome(server, 2);
      expect(server.hub.inspect().bounds.maxTopics).toBe(2);
    }
  });

  it('HUB-CLUSTER-06 HUB-BOUND-05 racing for the last slot through two instances: exactly one new topic gets 202, the others 503', async () => {
    expect((await publish(b.url, patientOpen(fresh('first'), 'p'))).status).toBe(202);
    const racers = [fresh('r1'), fresh('r2'), fresh('r3'), fresh('r4')];
    const answers = await Promise.all([
      publish(a.url, patientOpen(racers[0]!, 'p')),
      publish(b.url, patientOpen(racers[1]!, 'p')),
      postSubscription(a.url, subscribeParams(racers[2]!, 'racer-a')),
      postSubscription(b.url, subscribeParams(racers[3]!, 'racer-b')),
    ]);
    expect(answers.filter((r) => r.status === 202)).toHaveLength(1);
    expect(answers.filter((r) => r.status === 503)).toHaveLength(3);
    await clusterTopicsBecome(a, 2);
    // A refused subscription left no topic behind on the instance that made it.
    const winner = racers[answers.findIndex((r) => r.status === 202)]!;
    for (const [i, racer] of racers.entries()) if (racer !== winner) expect((i % 2 === 0 ? a : b).hub.topicIds()).not.toContain(racer);
  });

  it('HUB-CLUSTER-06 HUB-BOUND-05 a subscriber on B keeps its topic alive on A past the idle time; once nothing uses it, every instance forgets it and its slot is free', async () => {
    const t = fresh('kept');
    const held = await subscribeVia(b, b, t, 'held-on-b');
    // An open context that is closed again: the topic is then held only by the subscriber.
    expect((await publish(a.url, patientOpen(t, 'p'))).status).toBe(202);
    await held.sock.nextEvent('Patient-open');
    expect((await publish(a.url, patientClose(t, 'p'))).status).toBe(202);
    await held.sock.nextEvent('Patient-close');
    // A's copy of the subscription never connects there, so A finds the topic idle and asks the cluster.
    const kept = await logged(a.hub, (e) => e.type === 'keep' && e.topic === t, 'A keeping the idle topic');
    expect(String(kept.detail)).toMatch(/subscription on another instance/);
    expect(a.hub.topicIds()).toContain(t);
    // Its slot is still taken: one more topic fits, a second does not.
    const busy = fresh('busy');
    expect((await publish(a.url, patientOpen(busy, 'p'))).status).toBe(202); // stays: an open context
    expect((await publish(b.url, patientOpen(fresh('over'), 'p'))).status).toBe(503);
    // The subscriber leaves (through A, which does not hold its socket): now nothing uses the topic.
    const forgotOnA = logged(a.hub, (e) => e.type === 'forget' && e.topic === t, 'A forgetting the topic');
    const forgotOnB = logged(b.hub, (e) => e.type === 'forget' && e.topic === t, 'B forgetting the topic');
    expect((await unsubscribe(a.url, t, held.endpoint)).status).toBe(202);
    await Promise.all([forgotOnA, forgotOnB]);
    for (const server of [a, b]) {
      expect(server.hub.topicIds()).not.toContain(t);
      expect(server.hub.topicIds()).toContain(busy);
      expect(server.hub.inspect().forgotten.topics).toBeGreaterThanOrEqual(1);
    }
    // The freed slot takes a new topic, on either instance; the one after it is refused again.
    expect((await publish(b.url, patientOpen(fresh('next'), 'p'))).status).toBe(202);
    expect((await publish(a.url, patientOpen(fresh('over'), 'p'))).status).toBe(503);
  }, 20_000);

  it('HUB-CLUSTER-06 HUB-BOUND-06 an endpoint issued on A and never opened is refused with 404 on B and on A after the connect deadline; one opened in time reopens on B', async () => {
    const t = fresh('deadline');
    const res = await postSubscription(a.url, subscribeParams(t, 'never-opened'));
    expect(res.status).toBe(202);
    const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
    const opened = await subscribeVia(a, a, t, 'opened-in-time');
    // Both instances drop their copies at the deadline (awaited on their logs, not slept on).
    await Promise.all([gone(a.hub, 'never-opened'), gone(b.hub, 'never-opened'), gone(b.hub, 'opened-in-time')]);
    expect(await refusedUpgradeStatus(onInstance(endpoint, b))).toBe(404);
    expect(await refusedUpgradeStatus(onInstance(endpoint, a))).toBe(404);
    // The one opened in time lost its socket (1006); it may be reopened on B after the deadline.
    opened.sock.close();
    await opened.sock.closed;
    const again = await TestSocket.open(onInstance(opened.endpoint, b));
    expect((await again.next((f) => f['hub.mode'] === 'subscribe', 'the confirmation on B'))['hub.topic']).toBe(t);
  }, 20_000);

  it('HUB-CLUSTER-06 HUB-BOUND-05 a refused first change of a topic gives its slot back at once', async () => {
    expect((await publish(a.url, patientOpen(fresh('t1'), 'p'))).status).toBe(202);
    const refused = await publish(a.url, reportUpdate(fresh('never'), 'dr-1', 'v-1', 'obs-1'));
    expect(refused.status).toBe(404);
    expect((await publish(a.url, patientOpen(fresh('t2'), 'p'))).status).toBe(202);
  });

  it('HUB-CLUSTER-06 HUB-BOUND-05 a slot taken by an instance that died before any other instance learnt its topic is freed within an idle period', async () => {
    expect((await publish(a.url, patientOpen(fresh('t1'), 'p'))).status).toBe(202);
    // What a subscribe leaves when its instance dies between storing it and announcing it: a registered topic no replica holds.
    const direct = new Redis(redis.url);
    try {
      await direct.sadd('tabcast:topics', 'orphan');
    } finally {
      direct.disconnect();
    }
    await clusterTopicsBecome(a, 2);
    expect((await publish(b.url, patientOpen(fresh('t2'), 'p'))).status).toBe(503);
    await clusterTopicsBecome(a, 1);
    expect((await publish(b.url, patientOpen(fresh('t2'), 'p'))).status).toBe(202);
  }, 20_000);

  it('HUB-CLUSTER-06 HUB-BOUND-05 with Redis away a subscription that would create a topic gets 503 and leaves nothing; one to a topic held keeps working', async () => {
    const held = fresh('held');
    expect((await publish(a.url, patientOpen(held, 'p'))).status).toBe(202);
    redis.pause();
    try {
      // The health check notices within a second; until then a subscribe waits for the command timeout.
      for (let i = 0; i < 50 && (await fetch(`${a.url}/healthz`)).status !== 503; i++) await new Promise((r) => setTimeout(r, 100));
      const fresher = fresh('new');
      const refused = await postSubscription(a.url, subscribeParams(fresher, 'new-topic'));
      expect(refused.status).toBe(503);
      expect(await refused.text()).toMatch(/topic bound cannot be checked without Redis/);
      expect(a.hub.topicIds()).not.toContain(fresher);
      expect((await postSubscription(a.url, subscribeParams(held, 'known-topic'))).status).toBe(202);
    } finally {
      redis.resume();
    }
  }, 20_000);
});
