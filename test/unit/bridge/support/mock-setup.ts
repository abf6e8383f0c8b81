/** A bridge wired to a ScriptedRemote (mock-socket + fake fetch) and a local engine, on manual timers. */
import { WebSocket as MockWebSocket } from 'mock-socket';
import { startBridge, type Bridge, type BridgeConfig, type BridgeTuning } from '../../../../src/bridge/index.js';
import type { Hub } from '../../../../src/hub/index.js';
import { ManualTimers } from './manual-timers.js';
import { localApp, localHub, until, waitForState } from './local.js';
import { ScriptedRemote, type ConfirmationStyle } from './scripted-remote.js';

export const LOCAL = 'T-local';
export const REMOTE = 'T-remote';

export interface MockSetup {
  timers: ManualTimers;
  remote: ScriptedRemote;
  hub: Hub;
  app: ReturnType<typeof localApp>;
  bridge: Bridge;
}

const live: MockSetup[] = [];

/** Starts a bridge against a scripted remote. `connect: false` returns before waiting for `connected`. */
export async function mockBridge(
  options: {
    config?: Partial<BridgeConfig>;
    confirmation?: ConfirmationStyle;
    tuning?: Partial<BridgeTuning>;
    prepare?: (remote: ScriptedRemote, hub: Hub) => void | Promise<void>;
    connect?: boolean;
    random?: () => number;
    /** A local engine of the test's own (default: one on the manual clock, ack timeout off). */
    hub?: Hub;
  } = {},
): Promise<MockSetup> {
  const timers = new ManualTimers();
  const remote = new ScriptedRemote(REMOTE);
  remote.confirmation = options.confirmation ?? 'stu3';
  const hub = options.hub ?? (await localHub(timers.clock));
  const app = localApp(hub, LOCAL);
  await options.prepare?.(remote, hub);
  const bridge = startBridge(
    { topic: LOCAL, remoteHubUrl: remote.hubUrl, remoteTopic: REMOTE, ...options.config },
    {
      hub,
      fetch: remote.fetch,
      WebSocket: MockWebSocket,
      clock: timers.clock,
      random: options.random ?? (() => 0.5),
      timers: timers.timers,
      tuning: options.tuning,
    },
  );
  const setup = { timers, remote, hub, app, bridge };
  live.push(setup);
  if (options.connect !== false) await waitForState(bridge, 'connected');
  return setup;
}

/** Stops every bridge and mock server a test made (mock-socket allows one Server per URL). */
export async function cleanupMocks(): Promise<void> {
  for (const s of live.splice(0)) {
    await s.bridge.stop().catch(() => undefined);
    s.remote.stop();
  }
}

/** Waits (real time) until the remote has a socket open from the bridge. */
export const remoteConnected = (remote: ScriptedRemote, n = 1) => until(() => remote.connections >= n, `${n} socket(s) at the scripted remote`);

/** A Patient entry. */
export const patient = (id: string) => ({ key: 'patient', resource: { resourceType: 'Patient', id } });
