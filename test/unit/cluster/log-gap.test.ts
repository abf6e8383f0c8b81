/**
 * HUB-CLUSTER-05 (issue 15): a replica that falls behind the trimmed change log must never diverge
 * in silence. In-process instances on a real redis-server; the instance that falls behind reaches
 * Redis through a proxy that holds back Redis's replies (as if it were frozen) while another
 * instance goes on, and the test trims the log meanwhile as `XADD MAXLEN ~` does once it passes
 * its length. The normal paths (start-up on a trimmed log, Redis back empty, entries of an older
 * version) must not be taken for a gap.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { appendChange, readFrom } from '../../../src/cluster/change-log.js';
import { clusterKeys } from '../../../src/cluster/keys.js';
import { LOG_START } from '../../../src/cluster/log-position.js';
import { isTopicBoundError } from '../../../src/cluster/topic-registry.js';
import { main, type CliIo } from '../../../src/server/cli.js';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { fresh, patientOpen } from '../wire/support.js';
import { cleanup, getContext, LISTENING, postSubscription, publish, subscribeAndOpen, track, type TestSocket } from '../server/support.js';
import { HoldingProxy } from './holding-proxy.js';
import { findRedisServer, RedisServer } from './redis-server.js';

const KEYS = clusterKeys();
const GAP_REASON = /^this instance missed (\d+) changes? of the shared log \(it fell more than 10,000 entries behind\); restart it$/;

/** What each test started, stopped after it. */
const started: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  await cleanup();
  // Last started, first stopped: instances before the proxy and Redis they use.
  for (let s = started.pop(); s; s = started.pop()) await s.close();
});

async function redisServer(): Promise<{ server: RedisServer; client: Redis }> {
  const server = await RedisServer.start();
  const client = new Redis(server.url);
  started.push({ close: () => server.stop() }, { close: () => client.quit() });
  return { server, client };
}

async function holdingProxy(redis: RedisServer): Promise<HoldingProxy> {
  const proxy = await HoldingProxy.start(redis.port);
  started.push(proxy);
  return proxy;
}

/** An in-process instance; its log lines are kept. */
async function instance(redisUrl: string, id: string): Promise<{ server: RunningServer; lines: string[] }> {
  const lines: string[] = [];
  const server = track(await startServer({ port: 0, heartbeatMs: 0, ackTimeoutMs: 0, redis: redisUrl, instanceId: id, log: (l) => lines.push(l) }));
  return { server, lines };
}

const patientOf = (frame: any): string => frame.event.context.find((c: any) => c.key === 'patient').resource.id;

/**
 * Makes the instance behind `proxy` miss changes: its replies are held while `others` takes
 * p1..p4 on `topic`, then the log is trimmed to its last entry (p4), then the replies go on.
 */
async function fallBehind(proxy: HoldingProxy, client: Redis, others: RunningServer, topic: string): Promise<void> {
  proxy.hold();
  for (const id of ['p1', 'p2', 'p3', 'p4']) expect((await publish(others.url, patientOpen(topic, id))).status).toBe(202);
  await client.xtrim(KEYS.log, 'MAXLEN', 1);
  proxy.release();
}

/** Resolves once every frame the hub sent before now has arrived (a pong follows them on the same connection). */
function framesSoFar(sock: TestSocket): Promise<void> {
  return new Promise((resolve) => {
    sock.ws.once('pong', () => resolve());
    sock.ws.ping();
  });
}

/** Polls `check` until it holds (bounded): Redis's return is seen by the health check, which has no event of its own. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never: ${what}`);
}

describe.skipIf(!findRedisServer())('HUB-CLUSTER-05 a replica behind the trimmed log (issue 15)', () => {
  it('HUB-CLUSTER-05 a replica that missed changes goes down with the reason, answers 503 to changes, reads and subscriptions, and applies nothing after the gap', async () => {
    const { server: redis, client } = await redisServer();
    const proxy = await holdingProxy(redis);
    const a = await instance(redis.url, 'a');
    const b = await instance(proxy.url, 'b');
    const topic = fresh('gap');
    const { sock } = await subscribeAndOpen(b.server.url, topic, 'Patient-open');
    expect((await publish(a.server.url, patientOpen(topic, 'p0'))).status).toBe(202);
    expect(patientOf(await sock.nextEvent('Patient-open'))).toBe('p0');

    await fallBehind(proxy, client, a.server, topic);
    const reason = await b.server.diverged!;

    // Before the gap b may have read p1 (its blocked read was answered first); nothing after it.
    await framesSoFar(sock);
    const applied = sock.frames.filter((f) => f?.event?.['hub.event'] === 'Patient-open').map(patientOf);
    expect(['p0', 'p0,p1']).toContain(applied.join(','));
    const missed = applied.includes('p1') ? 2 : 3; // p1 (unless read), p2, p3 were trimmed away
    expect(reason).toMatch(GAP_REASON);
    expect(Number(GAP_REASON.exec(reason)![1])).toBe(missed);

    const health = await fetch(`${b.server.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ instance: 'b', redis: 'down', reason, missedChanges: missed });
    const change = await publish(b.server.url, patientOpen(topic, 'p5'));
    expect(change.status).toBe(503);
    expect(await change.text()).toContain(reason);
    const read = await fetch(`${b.server.url}/${topic}`);
    expect(read.status).toBe(503);
    expect(await read.text()).toContain(reason);
    const subscribe = await postSubscription(b.server.url, { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'Patient-open' });
    expect(subscribe.status).toBe(503);
    expect(b.lines.filter((l) => l.includes('missed'))).toEqual([`tabcast: ${reason}`]);

    // The others go on; the change b refused was applied nowhere.
    expect((await getContext(a.server.url, topic)).context[0].resource.id).toBe('p4');
    expect((await fetch(`${a.server.url}/healthz`)).status).toBe(200);
    expect(a.lines.filter((l) => l.includes('missed'))).toEqual([]);
  });

  it('HUB-CLUSTER-05 `tabcast serve` whose replica missed changes exits with code 1 and says why, so a supervisor restarts it', async () => {
    const { server: redis, client } = await redisServer();
    const proxy = await holdingProxy(redis);
    const a = await instance(redis.url, 'a');
    const err: string[] = [];
    let listening!: (url: string) => void;
    const url = new Promise<string>((resolve) => (listening = resolve));
    let stop: (() => void) | undefined;
    const io: CliIo = {
      out: (line) => {
        const m = LISTENING.exec(line);
        if (m) listening(m[1]!);
      },
      err: (line) => err.push(line),
      stopRequested: () => new Promise((resolve) => (stop = resolve)),
    };
    const exit = main(['serve', '--port', '0', '--heartbeat-ms', '0', '--redis', proxy.url, '--instance-id', 'c'], io);
    started.push({
      close: async () => {
        stop?.();
        await exit;
      },
    });
    const c = await url;
    const topic = fresh('gap-cli');
    expect((await publish(a.server.url, patientOpen(topic, 'p0'))).status).toBe(202);
    expect((await getContext(c, topic)).context[0].resource.id).toBe('p0'); // c has read the log so far

    await fallBehind(proxy, client, a.server, topic);
    expect(await exit).toBe(1);
    const said = err.filter((l) => l.includes('missed'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^tabcast: this instance missed [23] changes of the shared log .*; restart it$/);
    expect(err.at(-1)).toBe("tabcast: exiting with code 1 so that this instance is restarted; it reloads the cluster's state from Redis");
  });

  it('HUB-CLUSTER-01 an instance started on a trimmed log, and entries of an older version, are no gap', async () => {
    const { server: redis, client } = await redisServer();
    const a = await instance(redis.url, 'a');
    const topic = fresh('trimmed');
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) expect((await publish(a.server.url, patientOpen(topic, id))).status).toBe(202);
    await a.server.hub.flush();
    await client.xtrim(KEYS.log, 'MAXLEN', 2); // the log starts at entry 4 now, as after MAXLEN trimming
    const d = await instance(redis.url, 'd');
    expect((await getContext(d.server.url, topic)).context[0].resource.id).toBe('p5');
    // An instance of an older version appends entries without a number (here: a forget of a topic nobody holds).
    await client.xadd(KEYS.log, '*', 'c', JSON.stringify({ o: 'old.1', f: fresh('unknown') }));
    expect((await publish(a.server.url, patientOpen(topic, 'p6'))).status).toBe(202);
    expect((await publish(d.server.url, patientOpen(topic, 'p7'))).status).toBe(202);
    for (const inst of [a, d]) {
      expect((await getContext(inst.server.url, topic)).context[0].resource.id).toBe('p7');
      const health = await fetch(`${inst.server.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ instance: inst === a ? 'a' : 'd', redis: 'ok' });
      expect(inst.lines.filter((l) => l.includes('missed'))).toEqual([]);
    }
  });

  it('HUB-CLUSTER-05 Redis back empty starts a new log at number 1: no gap, every instance follows it', async () => {
    const { server: redis } = await redisServer();
    const a = await instance(redis.url, 'a');
    const b = await instance(redis.url, 'b');
    const topic = fresh('restart');
    for (const id of ['p1', 'p2', 'p3']) expect((await publish(a.server.url, patientOpen(topic, id))).status).toBe(202);
    expect((await getContext(b.server.url, topic)).context[0].resource.id).toBe('p3');
    await redis.restart();
    for (const inst of [a, b]) await until(async () => (await fetch(`${inst.server.url}/healthz`)).status === 200, `${inst.server.url} healthy again`);
    expect((await publish(a.server.url, patientOpen(topic, 'p4'))).status).toBe(202);
    expect((await publish(b.server.url, patientOpen(topic, 'p5'))).status).toBe(202);
    for (const inst of [a, b]) {
      expect((await getContext(inst.server.url, topic)).context[0].resource.id).toBe('p5');
      expect((await fetch(`${inst.server.url}/healthz`)).status).toBe(200);
      expect(inst.lines.some((l) => l.includes('came back without'))).toBe(true);
      expect(inst.lines.filter((l) => l.includes('missed'))).toEqual([]);
    }
  });

  it('HUB-CLUSTER-05 every appended entry takes the next number of one sequence; a refused change takes none', async () => {
    const { client } = await redisServer();
    const keys = clusterKeys('seq');
    await client.set(keys.epoch, 'e1');
    const append = (topic: string, epoch = 'e1') => appendChange(client, keys, epoch, Date.now() + 60_000, '{}', { topic, maxTopics: 1 });
    await append('A');
    await expect(append('B')).rejects.toSatisfy(isTopicBoundError);
    await expect(append('A', 'gone')).rejects.toThrow(/^EPOCH/);
    await append('A');
    const numbers: Array<number | undefined> = [];
    await readFrom(client, keys, LOG_START, (entry) => numbers.push(entry.sequence));
    expect(numbers).toEqual([1, 2]);
  });
});
