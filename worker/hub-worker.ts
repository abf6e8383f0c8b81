/**
 * The SharedWorker entry, built as dist/tabcast-worker.js. Wiring only: it builds the engine with
 * the browser's adapters and hands every connecting port to the host runtime (src/host).
 *
 * The same file serves the leader-tab mode: a page that has no SharedWorker imports it with
 * `import()`, where it starts nothing by itself and offers `startLeaderHost` instead.
 */
import { idbKeyValue, idbStorage } from '../src/adapters/idb-storage.js';
import { systemClock, systemTimers, timerDriver } from '../src/adapters/system-clock.js';
import { pooledRandom } from '../src/adapters/pooled-crypto.js';
import { webCrypto } from '../src/adapters/web-crypto.js';
// The engine's own module, not the hub barrel: the barrel re-exports the users-file check, which
// would pull GetTopic's identity code into the first load.
import { Hub } from '../src/hub/hub.js';
import { DEFAULT_BOUNDS } from '../src/hub/bounds.js';
import type { BridgeRegistryLike } from '../src/host/bridges.js';
import { LazyBridgeRegistry } from '../src/host/lazy-bridge-registry.js';
import { Bus } from '../src/link/bus.js';
import { holdLock, platformLocks, type LockManagerLike } from '../src/link/locks.js';
import { HUB_LOCK, type Link } from '../src/link/messages.js';
import { HostRuntime } from '../src/host/runtime.js';
import { serveBus } from '../src/host/serve-bus.js';
import { refuseClient } from '../src/host/refuse.js';

/** IndexedDB database of the bridges' configurations (never their tokens). */
const BRIDGE_DATABASE = 'tabcast-bridges';

/** The bits of SharedWorkerGlobalScope used here (the DOM lib has no worker scope types). */
interface SharedWorkerScope {
  onconnect: ((event: MessageEvent) => void) | null;
  close(): void;
}

function requireLocks(): LockManagerLike {
  const locks = platformLocks();
  if (!locks) throw new Error('tabcast needs the Web Locks API (navigator.locks), which browsers offer only in secure contexts (https or localhost)');
  return locks;
}

/**
 * The worker's bounds on state (HUB-BOUND-03..06): the constants of DESIGN.md. A browser hub has no
 * flags; inspect() shows these.
 */
const WORKER_BOUNDS = DEFAULT_BOUNDS;

/**
 * Group commit: a batch of changed records is written this long after the first change of it. An
 * IndexedDB put clones its value on the worker's thread, so a write started at once delays the next
 * message (a subscriber's echo, the next publish of a burst) by that clone; a few ms later, the
 * notifications of the changes are already out and several changes share one transaction. The 202
 * of a publish comes that much later (it waits for durability).
 */
const GROUP_COMMIT_MS = 4;

/** The engine over IndexedDB, WebCrypto, the system clock and real timers. */
async function startEngine(): Promise<Hub> {
  let hub: Hub | undefined;
  const timers = timerDriver(() => hub?.tick());
  hub = await Hub.create({
    clock: systemClock,
    crypto: pooledRandom(webCrypto),
    storage: idbStorage(),
    bounds: WORKER_BOUNDS,
    // A malformed stored record is left out and listed in inspect().storage (HUB-SEC-15): the hub starts.
    malformedRecords: 'drop',
    // The hub answers its pages without waiting for zod (dist/tabcast-change.js, fetched at once):
    // a change that comes first waits for it.
    changeParser: 'background',
    onWake: timers.onWake,
    scheduleWrite: (startBatch) => setTimeout(startBatch, GROUP_COMMIT_MS),
    onStorageError: (error) => console.error('tabcast: the hub could not store its state', error),
  });
  return hub;
}

/** Bridges to remote hubs use the worker's own network; their configurations persist in IndexedDB. */
function createBridgeRegistry(hub: Hub): BridgeRegistryLike {
  return new LazyBridgeRegistry({
    hub,
    fetch: (url, init) => globalThis.fetch(url, init),
    WebSocket: globalThis.WebSocket,
    clock: systemClock,
    timers: systemTimers,
    kv: idbKeyValue(BRIDGE_DATABASE),
  });
}

async function startHost(locks: LockManagerLike, onRetired: (releaseHostLock: () => void) => void): Promise<HostRuntime> {
  const hub = await startEngine();
  return HostRuntime.start({
    hub,
    locks,
    bridges: createBridgeRegistry(hub),
    onRetired,
    onInternalError: (error) => console.error('tabcast: hub fault', error),
  });
}

function runSharedWorker(scope: SharedWorkerScope): void {
  const runtime = (async () => {
    const locks = requireLocks();
    // One host per origin: a worker that is still closing, or a leader tab, lets go first.
    await holdLock(locks, HUB_LOCK);
    // Retired, the worker closes; its locks are freed only once it is gone, so pages reconnect to a new one.
    const host = await startHost(locks, () => scope.close());
    // Pages in leader-tab mode (forced, or from a browser without SharedWorker) find this host on the bus too.
    serveBus(host, new Bus(host.hostId));
    return host;
  })();
  runtime.catch((error: unknown) => console.error('tabcast: the hub could not start', error));
  scope.onconnect = (event) => {
    const port = event.ports[0] as unknown as Link | undefined;
    if (!port) return;
    runtime.then(
      (host) => host.accept(port, undefined, () => port.close?.()),
      (error: unknown) => refuseClient(port, error),
    );
  };
}

/**
 * Leader-tab mode: runs the host in this page and serves the other tabs over the bus. The caller
 * already holds the hub lock. Resolves once serving; `retired` settles when a newer host took over.
 */
export async function startLeaderHost(): Promise<{ hostId: string; retired: Promise<void> }> {
  const locks = requireLocks();
  let stop: (() => void) | undefined;
  let retired!: () => void;
  const done = new Promise<void>((resolve) => (retired = resolve));
  const runtime = await startHost(locks, (releaseHostLock) => {
    stop?.();
    releaseHostLock();
    retired();
  });
  stop = serveBus(runtime, new Bus(runtime.hostId));
  return { hostId: runtime.hostId, retired: done };
}

// Imported by a page (leader-tab mode) this is false, and the module only offers startLeaderHost.
const SharedScope = (globalThis as { SharedWorkerGlobalScope?: abstract new () => unknown }).SharedWorkerGlobalScope;
// The on-demand chunks import this entry by its plain URL. A worker started from a URL with a query
// (data-worker-url=…?v=2, the e2e tests' unique URLs) then evaluates a second copy of this module,
// which must not start a second host: it would wait for the hub lock forever and take over onconnect.
const STARTED = Symbol.for('tabcast.shared-worker.started');
const scope = globalThis as unknown as Record<symbol, boolean>;
if (SharedScope && globalThis instanceof SharedScope && !scope[STARTED]) {
  scope[STARTED] = true;
  runSharedWorker(globalThis as unknown as SharedWorkerScope);
}
