/**
 * hub.bridge() plumbing: the bridge lives in the host (a stand-in registry here), the page's handle
 * mirrors its status in a plain property, pushed over the events link, also after a reconnect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import type { Bridge, BridgeConfig, BridgeStatus } from '../../../src/bridge/types.js';
import type { BridgeRegistryLike } from '../../../src/host/bridges.js';
import { refuseClient } from '../../../src/host/refuse.js';
import { openSession } from '../../../src/client/session.js';
import { channelTransport, HUB_URL, openPage, startHost, until, type RigHost } from './support/rig.js';
import { FakeLocks } from './support/fake-locks.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A bridge whose status the test drives. */
class StandInBridge implements Bridge {
  private current: BridgeStatus = { state: 'connecting', eventsIn: 0, eventsOut: 0 };
  private readonly listeners = new Set<(status: BridgeStatus) => void>();
  constructor(readonly config: BridgeConfig) {}
  status = () => ({ ...this.current });
  onStatus(listener: (status: BridgeStatus) => void) {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  set(status: Partial<BridgeStatus>) {
    this.current = { ...this.current, ...status };
    for (const l of this.listeners) l(this.status());
  }
  async stop() {
    this.set({ state: 'stopped' });
  }
}

/** A registry that keeps its bridges across hosts, as the IndexedDB-backed one does. */
function standInRegistry(bridges: StandInBridge[]): BridgeRegistryLike {
  return {
    open: async (config) => {
      const bridge = new StandInBridge(config);
      bridges.push(bridge);
      return bridge;
    },
    resumeAll: async () => bridges.filter((b) => b.status().state !== 'stopped'),
    shutdown: async () => undefined,
  };
}

describe('hub.bridge()', () => {
  it('returns a handle whose status follows the bridge in the host, across a reconnect, until stop()', async () => {
    const locks = new FakeLocks();
    const storage = memoryStorage();
    const bridges: StandInBridge[] = [];
    let host: RigHost = await startHost(locks, storage, {}, standInRegistry(bridges));
    const page = await openPage(locks, channelTransport(() => host), 'Bridging');
    cleanup.push(() => host.die(), () => page.hub.close());

    const handle = await page.hub.bridge({ topic: 't', remoteHubUrl: 'https://remote.example/hub', token: 'secret' });
    expect(handle.status).toEqual({ state: 'connecting', eventsIn: 0, eventsOut: 0 });
    const seen: BridgeStatus[] = [];
    const off = handle.onStatus((status) => seen.push(status));
    bridges[0]!.set({ state: 'connected', lastRttMs: 12 });
    await until(() => handle.status.state === 'connected', 'the pushed status');
    expect(seen).toEqual([{ state: 'connected', eventsIn: 0, eventsOut: 0, lastRttMs: 12 }]);

    const old = host;
    host = await startHost(locks, storage, {}, standInRegistry(bridges));
    old.die();
    bridges[0]!.set({ eventsOut: 3 }); // the new host resumed this bridge: the page follows it again
    await until(() => handle.status.eventsOut === 3, 'the status through the new host');

    off();
    await handle.stop();
    expect(handle.status.state).toBe('stopped');
    expect(seen.map((s) => s.state)).not.toContain('stopped');
  });

  it('a host without bridge support answers 501 with a reason', async () => {
    const locks = new FakeLocks();
    const host = await startHost(locks);
    const page = await openPage(locks, channelTransport(() => host), 'No bridges');
    cleanup.push(() => host.die(), () => page.hub.close());
    await expect(page.hub.bridge({ topic: 't', remoteHubUrl: 'https://r/hub' })).rejects.toMatchObject({ status: 501, message: expect.stringContaining('without bridge support') });
  });
});

describe('a host that could not start', () => {
  it('answers hello with a 503 naming the cause', async () => {
    const locks = new FakeLocks();
    const transport = async () => {
      const control = new MessageChannel();
      refuseClient(control.port1 as never, new Error('IndexedDB refused to open'));
      const events = new MessageChannel();
      cleanup.push(() => control.port1.close());
      return { control: control.port2 as never, events: events.port1 as never, hostEvents: events.port2, failed: new Promise<never>(() => undefined), dispose: () => (control.port2.close(), events.port1.close()) };
    };
    await expect(openSession(transport, { hubUrl: HUB_URL }, locks.context(), () => undefined)).rejects.toMatchObject({
      status: 503,
      message: 'the tabcast hub could not start: IndexedDB refused to open',
    });
  });
});
