/**
 * The bridge against real remote hubs on 127.0.0.1: `tabcast serve` (src/server's startServer)
 * and, for crashes, the same engine + wire + socket door with its connections cut. `ws` is the
 * WebSocket (Node 20 has none); fetch is Node's own. Restarts keep state in a data file.
 * The sockets are real; the bridge's clock and timers are manual, so a reconnect happens when a
 * test moves time past the backoff, never by waiting.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startBridge, type Bridge, type BridgeConfig } from '../../../src/bridge/index.js';
import { lmdbStorage } from '../../../src/adapters/lmdb-storage.js';
import type { Hub } from '../../../src/hub/index.js';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { FakeClock } from '../support/harness.js';
import { startCrashableRemote } from './support/crashable-remote.js';
import { currentPatient, localApp, localHub, patientOpen, restartThreeTimes, until, waitForState } from './support/local.js';
import { ManualTimers } from './support/manual-timers.js';

const LOCAL = 'T-local';
const REMOTE = 'T-remote';
const FAST = { backoffBaseMs: 20, backoffMaxMs: 200, confirmationTimeoutMs: 3000, requestTimeoutMs: 3000 };

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

/** A bridge on `manual`'s clock and timers. */
function bridgeTo(hub: Hub, manual: ManualTimers, remoteHubUrl: string, extra: Partial<BridgeConfig> = {}): Bridge {
  const deps = { hub, fetch: (url: string, init: RequestInit) => fetch(url, init), WebSocket, clock: manual.clock, timers: manual.timers, random: () => 0.5, tuning: FAST };
  const bridge = startBridge({ topic: LOCAL, remoteHubUrl, remoteTopic: REMOTE, ...extra }, deps);
  cleanups.push(() => bridge.stop());
  return bridge;
}

async function serve(options: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  const server = await startServer({ port: 0, heartbeatMs: 0, ...options });
  cleanups.push(() => server.close());
  return server;
}

/** What an application at the remote does: POST a context change to hub.url. */
async function remotePublish(hubUrl: string, body: unknown): Promise<void> {
  const res = await fetch(hubUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(202);
}

/** An application subscribed at the remote over a real WebSocket; it acks every event. */
async function remoteApp(hubUrl: string) {
  const res = await fetch(hubUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': REMOTE, 'hub.events': '*' }).toString(),
  });
  const { 'hub.channel.endpoint': endpoint } = (await res.json()) as { 'hub.channel.endpoint': string };
  const events: any[] = [];
  const ws = new WebSocket(endpoint);
  cleanups.push(() => ws.close(1000));
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data));
    if (!frame.event || frame.event['hub.event'] === 'heartbeat') return;
    events.push(frame);
    ws.send(JSON.stringify({ id: frame.id, status: 200 }));
  });
  await new Promise((resolve) => ws.once('open', resolve));
  return { events, ids: () => events.map((e) => e.id as string) };
}

describe('against tabcast serve', () => {
  it('relays events both ways: a local publish reaches a remote app, a remote publish reaches a local app, each exactly once', async () => {
    const server = await serve();
    const manual = new ManualTimers();
    const hub = await localHub(manual.clock);
    const app = localApp(hub, LOCAL);
    const bridge = bridgeTo(hub, manual, server.url);
    await waitForState(bridge, 'connected');
    const far = await remoteApp(server.url);

    await hub.publish(patientOpen(LOCAL, 'p1', 'local-1'));
    await until(() => far.ids().includes('local-1'), 'the remote app to get local-1');
    await remotePublish(server.url, patientOpen(REMOTE, 'p2', 'remote-1'));
    await until(() => app.ids().includes('remote-1'), 'the local app to get remote-1');
    await until(() => bridge.status().eventsOut === 1 && bridge.status().eventsIn === 1, 'the counters');

    expect(far.ids()).toEqual(['local-1', 'remote-1']);
    expect(app.ids()).toEqual(['local-1', 'remote-1']);
    expect(far.events[0].event['hub.topic']).toBe(REMOTE);
    expect(app.events[1].event['hub.topic']).toBe(LOCAL);
    expect(currentPatient(server.hub, REMOTE)).toBe('p2');
    expect(currentPatient(hub, LOCAL)).toBe('p2');
    expect(bridge.status().lastRttMs).toBeGreaterThanOrEqual(0);
  });

  it('keeps content-sharing versions apart: updates go both ways with the version each hub assigned', async () => {
    const server = await serve();
    const manual = new ManualTimers();
    const hub = await localHub(manual.clock);
    const app = localApp(hub, LOCAL);
    const bridge = bridgeTo(hub, manual, server.url);
    await waitForState(bridge, 'connected');
    const report = { key: 'report', resource: { resourceType: 'DiagnosticReport', id: 'dr-1', status: 'preliminary' } };
    const pat = { key: 'patient', resource: { resourceType: 'Patient', id: 'p1' } };
    await hub.publish({ id: 'open-1', event: { 'hub.topic': LOCAL, 'hub.event': 'DiagnosticReport-open', context: [report, pat] } });
    const update = (topic: string, id: string, version: string, obs: string) => ({
      id,
      event: {
        'hub.topic': topic,
        'hub.event': 'DiagnosticReport-update',
        'context.versionId': version,
        context: [
          { key: 'report', reference: { reference: 'DiagnosticReport/dr-1' } },
          { key: 'updates', resource: { resourceType: 'Bundle', id: `b-${id}`, type: 'transaction', entry: [{ request: { method: 'PUT' }, resource: { resourceType: 'Observation', id: obs, status: 'preliminary' } }] } },
        ],
      },
    });
    // local update, on the local version: the bridge must send the remote's version instead
    await hub.publish(update(LOCAL, 'upd-local', hub.getContext(LOCAL)['context.versionId']!, 'obs-1'));
    await until(() => bridge.status().eventsOut === 2, 'both events at the remote');
    expect(app.named('syncerror')).toEqual([]);
    // remote update, on the remote version: the bridge must apply it on the local version
    await remotePublish(server.url, update(REMOTE, 'upd-remote', server.hub.getContext(REMOTE)['context.versionId']!, 'obs-2'));
    await until(() => app.ids().includes('upd-remote'), 'the remote update locally');
    const content = (h: Hub, t: string) => h.getContext(t).context.find((e) => e.key === 'content')?.resource as unknown as { entry: Array<{ resource: { id: string } }> };
    expect(content(hub, LOCAL).entry.map((e) => e.resource.id)).toEqual(['obs-1', 'obs-2']);
    expect(content(server.hub, REMOTE).entry.map((e) => e.resource.id)).toEqual(['obs-1', 'obs-2']);
  });

  it('stops waiting for a token on 401, and works with the right Bearer token', async () => {
    const server = await serve({ users: { secret: 'app-secret', groups: [['alice']] } });
    const manual = new ManualTimers();
    const hub = await localHub(manual.clock);
    const wrong = bridgeTo(hub, manual, server.url, { token: 'not-it' });
    const s = await waitForState(wrong, 'stopped');
    expect(s.lastError).toContain('401');
    expect(s.lastError).not.toContain('not-it');
    const right = bridgeTo(hub, manual, server.url, { token: 'app-secret', remoteTopic: 'T-other' });
    await waitForState(right, 'connected');
  });

  it('ends as denied when the remote ends the subscription (lease expired on the remote clock)', async () => {
    const clock = new FakeClock();
    const server = await serve({ clock });
    const manual = new ManualTimers();
    const hub = await localHub(manual.clock);
    const bridge = bridgeTo(hub, manual, server.url);
    await waitForState(bridge, 'connected');
    clock.advance(7201_000);
    server.hub.tick();
    const s = await waitForState(bridge, 'denied');
    expect(s.lastError).toContain('lease of 7200 s expired');
    const subscribers = hub.inspect().topics.find((t) => t.topic === LOCAL)!.subscribers;
    expect(subscribers.map((x) => x.name)).not.toContain('tabcast bridge');
  });
});

interface Remote {
  url: string;
  stop(): Promise<void>;
  context(): string | undefined;
}

const modes: Array<[string, (port: number, dataDir: string, published: string[]) => Promise<Remote>]> = [
  [
    'tabcast serve restarted gracefully (close 1001)',
    async (port, dataDir, published) => {
      const server = await startServer({ port, heartbeatMs: 0, storage: lmdbStorage(dataDir) });
      server.hub.observe((e) => void (e.type === 'publish' && e.eventId && published.push(e.eventId)));
      return { url: server.url, stop: () => server.close(), context: () => currentPatient(server.hub, REMOTE) };
    },
  ],
  [
    'the remote crashed (connections cut, 1006)',
    async (port, dataDir, published) => {
      const remote = await startCrashableRemote({ port, dataDir, onPublish: (id) => published.push(id) });
      return { url: remote.url, stop: () => remote.kill(), context: () => currentPatient(remote.hub, REMOTE) };
    },
  ],
];

/** Each restart mode, for the STU3 bridge and for the STOMP bridge (HUB-STOMP-05: its SENDs and MESSAGEs survive as well). */
const restartCases = modes.flatMap(([name, launch]) => [
  { title: `the remote restarted three times mid-session: ${name}`, launch, dialect: undefined },
  { title: `HUB-STOMP-05 the stomp bridge, the remote restarted three times mid-session: ${name}`, launch, dialect: 'stomp' as const },
]);

describe.each(restartCases)('$title', ({ launch, dialect }) => {
  it('recovers each time; nothing queued is lost, nothing is delivered twice (by id), and both ends agree', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tabcast-bridge-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dataDir = join(dir, 'remote');
    const published: string[] = [];
    let remote = await launch(0, dataDir, published);
    cleanups.push(() => remote.stop());
    const port = Number(new URL(remote.url).port);
    const manual = new ManualTimers();
    const hub = await localHub(manual.clock);
    const app = localApp(hub, LOCAL);
    const bridge = bridgeTo(hub, manual, remote.url, dialect ? { dialect } : {});
    await waitForState(bridge, 'connected');

    const { localIds, remoteIds } = await restartThreeTimes({
      hub, app, bridge, manual, maxBackoffMs: FAST.backoffMaxMs, localTopic: LOCAL, remoteTopic: REMOTE, published,
      remotePublish: (body) => remotePublish(remote.url, body),
      stop: () => remote.stop(),
      relaunch: async () => void (remote = await launch(port, dataDir, published)),
    });

    const count = (list: string[], id: string) => list.filter((x) => x === id).length;
    expect(published.filter((id) => localIds.includes(id))).toEqual(localIds); // all of them, in order, once
    for (const id of remoteIds) expect(count(published, id)).toBe(1);
    expect(new Set(app.ids()).size).toBe(app.ids().length);
    expect([...app.ids()].sort()).toEqual([...localIds, ...remoteIds].sort());
    expect(remote.context()).toBe('p3c');
    expect(currentPatient(hub, LOCAL)).toBe('p3c');
    expect(bridge.status()).toMatchObject({ state: 'connected', eventsOut: 9, eventsIn: 3 });
  }, 60_000);
});
