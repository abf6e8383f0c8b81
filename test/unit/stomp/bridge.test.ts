/**
 * Bridge dialect `stomp` (issue 13) against `tabcast serve`'s STOMP door on 127.0.0.1: a local
 * topic relayed both ways over `{hub.url}/websocket`, the remote's context adopted by pull context.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startBridge, type Bridge, type BridgeConfig } from '../../../src/bridge/index.js';
import type { Hub } from '../../../src/hub/index.js';
import { startServer, type RunningServer, type ServerOptions } from '../../../src/server/index.js';
import { currentPatient, localApp, localHub, patientOpen, until, waitForState } from '../bridge/support/local.js';
import { StompApp } from './support.js';

const LOCAL = 'T-local';
const REMOTE = 'T-remote';
const FAST = { backoffBaseMs: 20, backoffMaxMs: 200, confirmationTimeoutMs: 3000, requestTimeoutMs: 3000 };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

async function serve(options: ServerOptions = {}): Promise<RunningServer> {
  const server = await startServer({ port: 0, heartbeatMs: 0, ...options });
  cleanups.push(() => server.close());
  return server;
}

function bridgeTo(hub: Hub, remoteHubUrl: string, extra: Partial<BridgeConfig> = {}): Bridge {
  const bridge = startBridge({ topic: LOCAL, remoteHubUrl, remoteTopic: REMOTE, dialect: 'stomp', events: ['Patient-open', 'Patient-close'], ...extra }, { hub, fetch: (url, init) => fetch(url, init), WebSocket: WebSocket as never, tuning: FAST });
  cleanups.push(() => bridge.stop());
  return bridge;
}

/** A STOMP app at the remote, subscribed to the remote topic (stompjs over ws). */
async function remoteStompApp(server: RunningServer) {
  const app = new StompApp(`${server.url.replace(/^http/, 'ws')}/websocket`);
  cleanups.push(() => app.client.deactivate({ force: true }));
  await app.connected;
  app.subscribe(`/hub/fhircast/${REMOTE}/Patient-open`, { receipt: 'ready' });
  await new Promise((resolve) => app.client.watchForReceipt('ready', resolve));
  return app;
}

describe('bridge dialect stomp against tabcast serve', () => {
  it('HUB-STOMP-05 HUB-STOMP-04 relays both ways: a local publish is SENT to the remote, a remote MESSAGE is published locally, once each', async () => {
    const server = await serve();
    const hub = await localHub();
    const app = localApp(hub, LOCAL);
    const bridge = bridgeTo(hub, server.url);
    await waitForState(bridge, 'connected');
    const remoteSubs = server.hub.inspect().topics.find((t) => t.topic === REMOTE)!.subscribers;
    expect(remoteSubs.map((s) => [s.channel, s.name])).toEqual([
      ['stomp', 'tabcast bridge'],
      ['stomp', 'tabcast bridge'],
    ]);
    const far = await remoteStompApp(server);

    await hub.publish(patientOpen(LOCAL, 'p1', 'local-1'));
    const seen = await far.nextEvent((b) => b.id === 'local-1');
    expect(seen.body.event['hub.topic']).toBe(REMOTE);

    await far.sendWithReceipt(`/hub/fhircast/${REMOTE}/Patient-open`, patientOpen(REMOTE, 'p2', 'remote-1'));
    await until(() => app.ids().includes('remote-1'), 'the local app to get remote-1');
    await until(() => bridge.status().eventsOut === 1 && bridge.status().eventsIn === 1, 'the counters');
    expect(app.ids().filter((id) => id === 'local-1' || id === 'remote-1')).toEqual(['local-1', 'remote-1']);
    expect(currentPatient(hub, LOCAL)).toBe('p2');
  });

  it('HUB-PULL-01 on connecting, the bridge adopts the remote\'s current context read by pull context', async () => {
    const server = await serve();
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patientOpen(REMOTE, 'p-remote', 'before')) });
    expect(res.status).toBe(202);
    const hub = await localHub();
    const bridge = bridgeTo(hub, server.url);
    await waitForState(bridge, 'connected');
    await until(() => currentPatient(hub, LOCAL) === 'p-remote', 'the remote context adopted');
  });

  it('HUB-STOMP-02 with a users file the token goes on CONNECT; a wrong one stops the bridge until a token comes', async () => {
    const SECRET = 'bridge-secret-0123456789';
    const server = await serve({ users: { secret: SECRET, groups: [['alice']] } });
    const hub = await localHub();
    const good = bridgeTo(hub, server.url, { token: SECRET });
    await waitForState(good, 'connected');
    await good.stop();
    const bad = bridgeTo(hub, server.url, { token: 'wrong' });
    const status = await waitForState(bad, 'stopped');
    expect(status.lastError).toMatch(/passcode|secret/);
  });

  it('HUB-STOMP-08 a remote event the local hub refuses is NACKed with the local status: the remote\'s other apps get a SyncError', async () => {
    const server = await serve();
    const hub = await localHub();
    const bridge = bridgeTo(hub, server.url, { events: ['DiagnosticReport-update'] });
    await waitForState(bridge, 'connected');
    const watcher = new StompApp(`${server.url.replace(/^http/, 'ws')}/websocket`);
    cleanups.push(() => watcher.client.deactivate({ force: true }));
    await watcher.connected;
    watcher.subscribe(`/hub/fhircast/${REMOTE}/SyncError`, { receipt: 'w' });
    await new Promise((resolve) => watcher.client.watchForReceipt('w', resolve));
    // An update of a report the local hub has never seen: refused locally (404), so the bridge NACKs it.
    const remote = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timestamp: new Date().toISOString(), id: 'upd-1', event: { 'hub.topic': REMOTE, 'hub.event': 'DiagnosticReport-open', context: [{ key: 'report', resource: { resourceType: 'DiagnosticReport', id: 'dr-1', status: 'final' } }, { key: 'patient', resource: { resourceType: 'Patient', id: 'p' } }] } }) });
    expect(remote.status).toBe(202);
    const version = ((await (await fetch(`${server.url}/${REMOTE}`)).json()) as any)['context.versionId'];
    const update = { timestamp: new Date().toISOString(), id: 'upd-2', event: { 'hub.topic': REMOTE, 'hub.event': 'DiagnosticReport-update', 'context.versionId': version, context: [{ key: 'report', reference: { reference: 'DiagnosticReport/dr-1' } }, { key: 'updates', resource: { resourceType: 'Bundle', id: 'b', type: 'transaction', entry: [] } }] } };
    expect((await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(update) })).status).toBe(202);
    const syncError = await watcher.nextEvent((b) => b.event['hub.event'] === 'syncerror');
    expect(JSON.stringify(syncError.body)).toContain('upd-2');
  });
});
