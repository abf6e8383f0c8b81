/**
 * The bridge's `2019` dialect (channels.md §4, HUB-ENV-03) against `tabcast serve --users` (the
 * server library with a users file, on 127.0.0.1): GetTopic, Bearer, the envelope both ways,
 * context adoption, and three restarts of the remote (state kept in a data file).
 * The sockets are real; the bridge's clock and timers are manual (a reconnect happens when the test
 * moves time past the backoff), so nothing here waits on real time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { lmdbStorage } from '../../../src/adapters/lmdb-storage.js';
import { BridgeRegistry, startBridge, type Bridge, type BridgeConfig } from '../../../src/bridge/index.js';
import { isHubError } from '../../../src/protocol/index.js';
import type { Hub } from '../../../src/hub/index.js';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { DIST_MISSING, HubProcess } from '../server/support.js';
import { currentPatient, localApp, localHub, patientOpen, restartThreeTimes, until, waitForState } from './support/local.js';
import { ManualTimers } from './support/manual-timers.js';

const LOCAL = 'T-local-2019';
const SECRET = 'the-app-wide-secret-of-2019';
const USERS = { secret: SECRET, groups: [['alice', 'alice-on-the-ris']] };
const BEARER = { authorization: `Bearer ${SECRET}` };
const FAST = { backoffBaseMs: 20, backoffMaxMs: 200, confirmationTimeoutMs: 3000, requestTimeoutMs: 3000 };

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

async function serve(port = 0, dataFile?: string): Promise<RunningServer> {
  const server = await startServer({ port, heartbeatMs: 0, users: USERS, ...(dataFile ? { storage: lmdbStorage(dataFile) } : {}) });
  cleanups.push(() => server.close());
  return server;
}

/** Every URL the bridge fetched (never with the secret printed: tests look at paths). */
function recordingFetch(urls: string[]) {
  return (url: string, init: RequestInit) => {
    urls.push(url);
    return fetch(url, init);
  };
}

/** Frames the bridge wrote on its sockets, parsed. */
const bridgeFrames: any[] = [];
class RecordingWebSocket extends WebSocket {
  override send(data: any, ...rest: any[]): void {
    bridgeFrames.push(JSON.parse(String(data)));
    (super.send as (...a: unknown[]) => void)(data, ...rest);
  }
}

/** A 2019-dialect bridge on `manual`'s clock and timers. */
function bridge2019(hub: Hub, manual: ManualTimers, remoteHubUrl: string, urls: string[] = [], extra: Partial<BridgeConfig> = {}): Bridge {
  const bridge = startBridge(
    { topic: LOCAL, remoteHubUrl, dialect: '2019', getTopic: { username: 'alice', secret: SECRET }, ...extra },
    { hub, fetch: recordingFetch(urls), WebSocket: RecordingWebSocket as never, clock: manual.clock, timers: manual.timers, random: () => 0.5, tuning: FAST },
  );
  cleanups.push(() => bridge.stop());
  return bridge;
}

async function topicOf(hubUrl: string, user: string): Promise<string> {
  const res = await fetch(`${hubUrl}/gettopic?username=${user}&secret=${SECRET}`);
  return ((await res.json()) as { 'hub.topic': string })['hub.topic'];
}

/** A 2019-style application at the remote: subscribes with Bearer and the envelope, answers `{statusCode}`. */
async function remoteApp2019(hubUrl: string, topic: string) {
  const res = await fetch(hubUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...BEARER },
    body: new URLSearchParams({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': '*', 'hub.channel.dialect': '2019', 'subscriber.name': 'ris' }).toString(),
  });
  const { 'hub.channel.endpoint': endpoint } = (await res.json()) as { 'hub.channel.endpoint': string };
  const events: any[] = [];
  const ws = new WebSocket(endpoint);
  cleanups.push(() => ws.close(1000));
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data));
    if (!frame.body) return;
    events.push(frame.body);
    ws.send(JSON.stringify({ timestamp: new Date().toISOString(), status: 'OK', statusCode: '200' }));
  });
  await new Promise((resolve) => ws.once('open', resolve));
  return { ids: () => events.map((e) => e.id as string) };
}

async function remotePublish(hubUrl: string, body: unknown): Promise<void> {
  const res = await fetch(hubUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...BEARER }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(202);
}

const bridgeSub = (server: RunningServer) => server.hub.inspect().topics.flatMap((t) => t.subscribers).find((s) => s.name === 'tabcast bridge');

describe('HUB-ENV-03: the 2019 bridge dialect against tabcast serve --users', () => {
  it('HUB-ENV-03: gets the topic by GetTopic, subscribes in the 2019 envelope with Bearer, relays both ways once, with no echo', async () => {
    bridgeFrames.length = 0;
    const server = await serve();
    const remoteTopic = await topicOf(server.url, 'alice-on-the-ris');
    const manual = new ManualTimers();
    const hub = await localHub(manual.clock);
    const app = localApp(hub, LOCAL);
    const urls: string[] = [];
    const bridge = bridge2019(hub, manual, server.url, urls);
    await waitForState(bridge, 'connected');
    expect(urls.some((u) => new URL(u).pathname.endsWith('/gettopic'))).toBe(true);
    expect(bridgeSub(server)).toMatchObject({ channel: '2019' });
    const ris = await remoteApp2019(server.url, remoteTopic);

    await hub.publish(patientOpen(LOCAL, 'p1', 'local-1'));
    await until(() => ris.ids().includes('local-1'), 'the RIS to get local-1');
    await remotePublish(server.url, patientOpen(remoteTopic, 'p2', 'remote-1'));
    await until(() => app.ids().includes('remote-1'), 'the local app to get remote-1');
    await until(() => bridge.status().eventsOut === 1 && bridge.status().eventsIn === 1, 'the counters');
    // The bridge answered every enveloped notification (its own echo included) with {statusCode}.
    await until(() => bridgeSub(server)?.pending === 0 && bridgeSub(server)?.lastAck?.status === 200, 'the bridge to answer the remote');
    expect(app.ids().filter((id) => id === 'local-1')).toHaveLength(1);
    expect(app.ids().filter((id) => id === 'remote-1')).toHaveLength(1);
    expect(ris.ids().filter((id) => id === 'local-1')).toHaveLength(1);
    expect(ris.ids()).not.toContain('remote-1-echo');
    expect(currentPatient(hub, LOCAL)).toBe('p2');
    // Two notifications came (local-1's echo and remote-1): two flat answers, no ids.
    expect(bridgeFrames.length).toBeGreaterThanOrEqual(2);
    for (const f of bridgeFrames) expect([...Object.keys(f)].sort()).toEqual(['status', 'statusCode', 'timestamp']);
    expect(bridgeFrames.every((f) => f.statusCode === '200' && f.status === 'OK')).toBe(true);
  });

  it('HUB-ENV-03: adopts the remote context on connect from {topic}/context, which the remote lists', async () => {
    const server = await serve();
    const remoteTopic = await topicOf(server.url, 'alice');
    await remotePublish(server.url, patientOpen(remoteTopic, 'already-open', 'before-bridge'));
    const manual = new ManualTimers();
    const hub = await localHub(manual.clock);
    const urls: string[] = [];
    const bridge = bridge2019(hub, manual, server.url, urls);
    await waitForState(bridge, 'connected');
    await until(() => currentPatient(hub, LOCAL) === 'already-open', 'the remote context adopted');
    const paths = urls.map((u) => new URL(u).pathname);
    expect(paths).toContain(`/fhircast/hub/${remoteTopic}/protocols`);
    expect(paths).toContain(`/fhircast/hub/${remoteTopic}/context`);
  });

  it('HUB-ENV-03: getTopic with token or remoteTopic is a 400 HubError; the secret is never in config, status or the registry store', async () => {
    const manual = new ManualTimers();
    const hub = await localHub(manual.clock);
    for (const extra of [{ token: 'x' }, { remoteTopic: 'T-x' }]) {
      let error: unknown;
      try {
        startBridge({ topic: LOCAL, remoteHubUrl: 'http://127.0.0.1:9/fhircast/hub', dialect: '2019', getTopic: { username: 'alice', secret: SECRET }, ...extra }, { hub, fetch, WebSocket, clock: manual.clock, timers: manual.timers });
      } catch (e) {
        error = e;
      }
      expect(isHubError(error) && error.status === 400, String(error)).toBe(true);
    }
    const server = await serve();
    const store = new Map<string, unknown>();
    const kv = { get: async (k: string) => store.get(k), set: async (k: string, v: unknown) => void store.set(k, v), del: async (k: string) => void store.delete(k) };
    const registry = new BridgeRegistry({ hub, fetch: (u, i) => fetch(u, i), WebSocket, kv, clock: manual.clock, timers: manual.timers, tuning: FAST });
    cleanups.push(() => registry.shutdown());
    const bridge = await registry.open({ topic: LOCAL, remoteHubUrl: server.url, dialect: '2019', getTopic: { username: 'alice', secret: SECRET } });
    await waitForState(bridge, 'connected');
    expect(bridge.config).toMatchObject({ dialect: '2019', getTopic: { username: 'alice' } });
    expect(JSON.stringify([bridge.config, bridge.status(), registry.list(), [...store.values()]])).not.toContain(SECRET);
    expect(JSON.stringify([...store.values()])).toContain('alice');
    // A second open for the same username finds the same bridge.
    expect(await registry.open({ topic: LOCAL, remoteHubUrl: server.url, dialect: '2019', getTopic: { username: 'alice', secret: SECRET } })).toBe(bridge);
  });

  it('HUB-ENV-03: hub.bridge() in a page may ask for dialect 2019 with getTopic; the host checks both', async () => {
    const { bridgeRequest } = await import('../../../src/host/arguments.js');
    const base = { topic: LOCAL, remoteHubUrl: 'https://pacs.test/fhircast/hub' };
    expect(bridgeRequest({ ...base, dialect: '2019', getTopic: { username: 'alice', secret: 's' } })).toMatchObject({ dialect: '2019', getTopic: { username: 'alice', secret: 's' } });
    expect(() => bridgeRequest({ ...base, dialect: '2020' })).toThrow(/2019/);
    expect(() => bridgeRequest({ ...base, dialect: '2019', getTopic: { username: 'alice' } })).toThrow(/getTopic\.secret/);
  });

  it('HUB-ENV-03: after a host restart a getTopic bridge waits for its secret, then resumes', async () => {
    const server = await serve();
    const manual = new ManualTimers();
    const hub = await localHub(manual.clock);
    const store = new Map<string, unknown>();
    const kv = { get: async (k: string) => store.get(k), set: async (k: string, v: unknown) => void store.set(k, v), del: async (k: string) => void store.delete(k) };
    const first = new BridgeRegistry({ hub, fetch: (u, i) => fetch(u, i), WebSocket, kv, clock: manual.clock, timers: manual.timers, tuning: FAST });
    const b1 = await first.open({ topic: LOCAL, remoteHubUrl: server.url, dialect: '2019', getTopic: { username: 'alice', secret: SECRET } });
    await waitForState(b1, 'connected');
    await first.shutdown();
    const second = new BridgeRegistry({ hub, fetch: (u, i) => fetch(u, i), WebSocket, kv, clock: manual.clock, timers: manual.timers, tuning: FAST });
    cleanups.push(() => second.shutdown());
    const [resumed] = await second.resumeAll();
    expect(resumed!.status().state).toBe('stopped');
    const again = await second.open({ topic: LOCAL, remoteHubUrl: server.url, dialect: '2019', getTopic: { username: 'alice', secret: SECRET } });
    expect(again).toBe(resumed);
    await waitForState(again, 'connected');
  });

  it('HUB-ENV-03: a wrong secret or an unknown user stops the bridge with a reason', async () => {
    const server = await serve();
    const manual = new ManualTimers();
    const hub = await localHub(manual.clock);
    const bridge = bridge2019(hub, manual, server.url, [], { getTopic: { username: 'nobody', secret: SECRET } });
    const status = await waitForState(bridge, 'denied');
    expect(status.lastError).toMatch(/gettopic/);
  });
});

describe('HUB-ENV-03: the 2019 bridge and three restarts of tabcast serve --users', () => {
  it('HUB-ENV-03: recovers each time; nothing queued is lost, nothing is delivered twice, and both ends agree', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tabcast-2019-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dataFile = join(dir, 'remote');
    const published: string[] = [];
    const launch = async (port: number) => {
      const s = await serve(port, dataFile);
      s.hub.observe((e) => void (e.type === 'publish' && e.eventId && published.push(e.eventId)));
      return s;
    };
    let remote = await launch(0);
    const port = Number(new URL(remote.url).port);
    const remoteTopic = await topicOf(remote.url, 'alice');
    const manual = new ManualTimers();
    const hub = await localHub(manual.clock);
    const app = localApp(hub, LOCAL);
    const bridge = bridge2019(hub, manual, remote.url);
    await waitForState(bridge, 'connected');

    const { localIds, remoteIds } = await restartThreeTimes({
      hub, app, bridge, manual, maxBackoffMs: FAST.backoffMaxMs, localTopic: LOCAL, remoteTopic, published,
      remotePublish: (body) => remotePublish(remote.url, body),
      stop: () => remote.close(),
      relaunch: async () => {
        remote = await launch(port);
        expect(await topicOf(remote.url, 'alice')).toBe(remoteTopic);
      },
    });

    const count = (list: string[], id: string) => list.filter((x) => x === id).length;
    expect(published.filter((id) => localIds.includes(id))).toEqual(localIds);
    for (const id of remoteIds) expect(count(published, id)).toBe(1);
    for (const id of remoteIds) expect(count(app.ids(), id)).toBe(1);
    for (const id of localIds) expect(count(app.ids(), id)).toBe(1); // no echo came back as a second copy
    expect(currentPatient(remote.hub, remoteTopic)).toBe('p3c');
    await until(() => currentPatient(hub, LOCAL) === 'p3c', 'both ends to agree');
  });
});

describe('HUB-ENV-03: answers on a 2019 connection', () => {
  it('HUB-ENV-03: answers carry no id, so they go out in the order the notifications came, whatever order the local hub settles them in', async () => {
    const { RemoteSession } = await import('../../../src/bridge/remote-session.js');
    const { dialect2019 } = await import('../../../src/bridge/dialect-2019.js');
    const sent: any[] = [];
    const listeners: Record<string, (e: any) => void> = {};
    class FakeSocket {
      readyState = 1;
      constructor(readonly url: string) {}
      send(data: string) {
        sent.push(JSON.parse(data));
      }
      close() {}
      addEventListener(type: string, fn: (e: any) => void) {
        listeners[type] = fn;
      }
    }
    const timers = { set: () => undefined, clear: () => undefined };
    let confirmed = false;
    const session = new RemoteSession(
      'ws://remote.test/ws/x',
      { WebSocket: FakeSocket as never, dialect: dialect2019, remoteTopic: 'T', tuning: { confirmationTimeoutMs: 1000, assumedLeaseSeconds: 7200, heartbeatSilenceFactor: 2.5, renewAtFraction: 0.8 }, timers, resubscribe: async (e) => e },
      { confirmed: () => (confirmed = true), notification: () => undefined, lost: () => undefined, closed: () => undefined, denied: () => undefined, unauthorized: () => undefined, moved: () => undefined },
    );
    listeners.message!({ data: JSON.stringify({ timestamp: 't', status: 'OK', statusCode: '200' }) });
    expect(confirmed).toBe(true);
    const env = (id: string) => ({ data: JSON.stringify({ header: { 'Content-Type': 'application/json' }, body: { id, timestamp: 't', event: { 'hub.topic': 'T', 'hub.event': 'Patient-open', context: [] } } }) });
    listeners.message!(env('a'));
    listeners.message!(env('b'));
    listeners.message!(env('c'));
    session.ack('b', 409);
    expect(sent).toEqual([]); // a is still unanswered: b's answer would be taken for a's
    session.ack('a', 200);
    session.ack('c', 200);
    expect(sent.map((f) => f.statusCode)).toEqual(['200', '409', '200']);
    expect(sent.map((f) => f.status)).toEqual(['OK', 'Error', 'OK']);
    expect(sent.every((f) => f.id === undefined)).toBe(true);
  });
});

describe.skipIf(DIST_MISSING)('HUB-ENV-03 against the tabcast process (needs npm run build)', () => {
  it('HUB-ENV-03: `tabcast serve --users FILE` as the remote: the 2019 bridge relays both ways, once each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tabcast-2019-cli-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const usersFile = join(dir, 'users.json');
    writeFileSync(usersFile, JSON.stringify(USERS));
    const remote = await HubProcess.start(['--port', '0', '--heartbeat-ms', '0', '--users', usersFile]);
    cleanups.push(() => remote.close());
    const remoteTopic = await topicOf(remote.url, 'alice');
    const manual = new ManualTimers();
    const hub = await localHub(manual.clock);
    const app = localApp(hub, LOCAL);
    const bridge = bridge2019(hub, manual, remote.url);
    await waitForState(bridge, 'connected');
    const ris = await remoteApp2019(remote.url, remoteTopic);
    await hub.publish(patientOpen(LOCAL, 'p1', 'cli-local'));
    await until(() => ris.ids().includes('cli-local'), 'the RIS to get cli-local');
    await remotePublish(remote.url, patientOpen(remoteTopic, 'p2', 'cli-remote'));
    await until(() => app.ids().includes('cli-remote'), 'the local app to get cli-remote');
    expect(app.ids().filter((id) => id === 'cli-local')).toHaveLength(1);
    expect(app.ids().filter((id) => id === 'cli-remote')).toHaveLength(1);
    expect(ris.ids().filter((id) => id === 'cli-local')).toHaveLength(1);
    expect(remote.stdout + remote.stderr).not.toContain(SECRET);
  });
});
