/** BridgeRegistry: one bridge per key, configurations stored without tokens, resumed after a host restart. */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as MockWebSocket } from 'mock-socket';
import { BridgeRegistry, type BridgeKv } from '../../../src/bridge/index.js';
import type { Hub } from '../../../src/hub/index.js';
import { FakeClock } from '../support/harness.js';
import { ManualTimers } from './support/manual-timers.js';
import { localHub, until, waitForState } from './support/local.js';
import { ScriptedRemote } from './support/scripted-remote.js';

const remotes: ScriptedRemote[] = [];
const registries: BridgeRegistry[] = [];
afterEach(async () => {
  for (const r of registries.splice(0)) await r.shutdown();
  for (const r of remotes.splice(0)) r.stop();
});

/** A Map behind the kv interface, recording every write. */
function memoryKv() {
  const data = new Map<string, unknown>();
  const writes: string[] = [];
  const kv: BridgeKv = {
    async get(key) {
      return data.has(key) ? JSON.parse(JSON.stringify(data.get(key))) : undefined;
    },
    async set(key, value) {
      writes.push(JSON.stringify(value));
      data.set(key, JSON.parse(JSON.stringify(value)));
    },
    async del(key) {
      data.delete(key);
    },
  };
  return { kv, data, writes };
}

function host(kv: BridgeKv, remote: ScriptedRemote, hub: Hub) {
  const timers = new ManualTimers();
  const registry = new BridgeRegistry({ hub, kv, fetch: remote.fetch, WebSocket: MockWebSocket, clock: timers.clock, timers: timers.timers, random: () => 0.5 });
  registries.push(registry);
  return { registry, timers };
}

function scripted(): ScriptedRemote {
  const remote = new ScriptedRemote('T-remote');
  remotes.push(remote);
  return remote;
}

const base = (remote: ScriptedRemote) => ({ topic: 'T-local', remoteHubUrl: remote.hubUrl, remoteTopic: 'T-remote' });

describe('BridgeRegistry', () => {
  it('returns the same bridge for a second open with the same (topic, remoteHubUrl, remoteTopic), another for another remote topic', async () => {
    const remote = scripted();
    const { registry } = host(memoryKv().kv, remote, await localHub(new FakeClock()));
    const a = await registry.open(base(remote));
    const b = await registry.open({ ...base(remote), events: ['Patient-open'] });
    const c = await registry.open({ ...base(remote), remoteTopic: 'T-other' });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(registry.list().map((e) => e.config.remoteTopic)).toEqual(['T-remote', 'T-other']);
    await waitForState(a, 'connected');
    expect(remote.subscribes).toHaveLength(2);
  });

  it('stores the configuration without the token, and list() never shows it', async () => {
    const remote = scripted();
    const store = memoryKv();
    const { registry } = host(store.kv, remote, await localHub(new FakeClock()));
    const bridge = await registry.open({ ...base(remote), token: 'tok-do-not-store', dialect: 'topic-path' });
    await waitForState(bridge, 'connected');
    expect(store.writes.join('\n')).not.toContain('tok-do-not-store');
    expect(JSON.stringify(registry.list())).not.toContain('tok-do-not-store');
    expect(store.data.get('tabcast.bridges')).toEqual([{ config: { topic: 'T-local', remoteHubUrl: remote.hubUrl, remoteTopic: 'T-remote', dialect: 'topic-path' }, needsToken: true }]);
  });

  it('after a host restart resumes tokenless bridges at once and keeps token bridges stopped until open() brings a token, then resumes that same bridge', async () => {
    const remote = scripted();
    remote.acceptToken = undefined;
    const store = memoryKv();
    const first = host(store.kv, remote, await localHub(new FakeClock()));
    await waitForState(await first.registry.open({ ...base(remote), remoteTopic: 'T-open' }), 'connected');
    await waitForState(await first.registry.open({ ...base(remote), token: 'tok-1' }), 'connected');
    await first.registry.shutdown();
    registries.splice(registries.indexOf(first.registry), 1);

    const second = host(store.kv, remote, await localHub(new FakeClock()));
    const resumed = await second.registry.resumeAll();
    expect(resumed).toHaveLength(2);
    const [open, needsToken] = resumed as [typeof resumed[0], typeof resumed[0]];
    await waitForState(open, 'connected');
    expect(needsToken.status()).toMatchObject({ state: 'stopped', lastError: expect.stringContaining('waiting for a token') });
    const again = await second.registry.open({ ...base(remote), token: 'tok-2' });
    expect(again).toBe(needsToken);
    await waitForState(needsToken, 'connected');
    expect(remote.subscribes.at(-1)!.authorization).toBe('Bearer tok-2');
  });

  it('resumeAll(getToken) resumes token bridges with the token the host gives for their config', async () => {
    const remote = scripted();
    const store = memoryKv();
    await store.kv.set('tabcast.bridges', [{ config: base(remote), needsToken: true }]);
    const { registry } = host(store.kv, remote, await localHub(new FakeClock()));
    const asked: string[] = [];
    const [bridge] = await registry.resumeAll((config) => {
      asked.push(config.topic);
      return 'tok-from-host';
    });
    await waitForState(bridge!, 'connected');
    expect(asked.length).toBeGreaterThanOrEqual(1);
    expect(asked[0]).toBe('T-local');
    expect(remote.subscribes[0]!.authorization).toBe('Bearer tok-from-host');
  });

  it('forgets the stored configuration when the bridge is stopped', async () => {
    const remote = scripted();
    const store = memoryKv();
    const { registry } = host(store.kv, remote, await localHub(new FakeClock()));
    const bridge = await registry.open(base(remote));
    await waitForState(bridge, 'connected');
    await bridge.stop();
    await until(() => !store.data.has('tabcast.bridges'), 'the stored list to go');
    expect(registry.list()).toEqual([]);
  });

  it('no longer stores a denied bridge (it would only be denied again), but still lists it; a new open replaces it', async () => {
    const remote = scripted();
    const store = memoryKv();
    const { registry } = host(store.kv, remote, await localHub(new FakeClock()));
    const bridge = await registry.open(base(remote));
    await waitForState(bridge, 'connected');
    remote.send({ 'hub.mode': 'denied', 'hub.topic': 'T-remote', 'hub.events': '', 'hub.reason': 'go away' });
    await waitForState(bridge, 'denied');
    await until(() => !store.data.has('tabcast.bridges'), 'the stored list to go');
    expect(registry.list().map((e) => e.status.state)).toEqual(['denied']);
    const fresh = await registry.open(base(remote));
    expect(fresh).not.toBe(bridge);
    await waitForState(fresh, 'connected');
  });

  it('marks a bridge that hit 401 as needing a token, so a restarted host waits for one', async () => {
    const remote = scripted();
    remote.acceptToken = 'good';
    const store = memoryKv();
    const { registry } = host(store.kv, remote, await localHub(new FakeClock()));
    const bridge = await registry.open(base(remote));
    await waitForState(bridge, 'stopped');
    await until(() => (store.data.get('tabcast.bridges') as Array<{ needsToken: boolean }>)?.[0]?.needsToken === true, 'needsToken to be stored');
    const same = await registry.open({ ...base(remote), token: 'good' });
    expect(same).toBe(bridge);
    await waitForState(bridge, 'connected');
  });
});
