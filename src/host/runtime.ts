/**
 * The host: one engine serving every client of the origin, whichever door it runs behind (a
 * SharedWorker, or the leader tab when there is none). The door builds the engine and calls
 * `accept` for each client; everything else (sessions, sockets, liveness, bridges) lives here.
 */
import type { Hub } from '../hub/index.js';
import { DEFAULT_BODY_LIMIT_BYTES } from '../wire/types.js';
import { BridgeHost, type BridgeRegistryLike } from './bridges.js';
import { LazyWires } from './lazy-wires.js';
import { holdLock, randomId, type LockManagerLike } from '../link/locks.js';
import { hostLockName, type Link } from '../link/messages.js';
import { refuseClient } from './refuse.js';
import { ClientSession, type SessionHost } from './session.js';

/** What a door gives the host. */
export interface HostRuntimeOptions {
  hub: Hub;
  locks: LockManagerLike;
  /** src/bridge's registry, when the door wires it in; without it `hub.bridge()` answers 501. */
  bridges?: BridgeRegistryLike;
  /** Largest request body, context change or frame, in bytes. Default 1 MiB. */
  bodyLimitBytes?: number;
  /**
   * Called once the host has retired and written everything, with the function that frees the
   * host lock. A worker just closes (its locks go with it, so no page reconnects to a closing
   * worker); a leader tab frees the lock itself. Without it, the lock is freed.
   */
  onRetired?: (releaseHostLock: () => void) => void;
  /** Told about failures that are the host's own fault, for the door's console. */
  onInternalError?: (error: unknown) => void;
}

/** The running host. */
export class HostRuntime implements SessionHost {
  readonly hostId = randomId();
  readonly hub: Hub;
  readonly locks: LockManagerLike;
  readonly bridges: BridgeHost;
  readonly bodyLimitBytes: number;
  /** The STU3 surface of `hub.fetch` and `hub.WebSocket`, per hub.url. */
  readonly wires: LazyWires;
  private readonly sessions = new Map<ClientSession, (() => void) | undefined>();
  private releaseHostLock?: () => void;
  private retiring = false;

  private constructor(private readonly options: HostRuntimeOptions) {
    this.hub = options.hub;
    this.locks = options.locks;
    this.bridges = new BridgeHost(options.bridges);
    this.bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
    this.wires = new LazyWires(this.hub, { bodyLimitBytes: this.bodyLimitBytes, onInternalError: (error) => this.reportInternal(error) });
  }

  /**
   * Starts a host. It takes its host lock first: pages wait on that lock, so they learn at once
   * when this host dies (worker terminated, leader tab closed), with no polling.
   */
  static async start(options: HostRuntimeOptions): Promise<HostRuntime> {
    const runtime = new HostRuntime(options);
    runtime.releaseHostLock = await holdLock(options.locks, hostLockName(runtime.hostId));
    await runtime.bridges.resume().catch((error: unknown) => runtime.reportInternal(error));
    return runtime;
  }

  /**
   * Serves one client on `control`. Its events link arrives with hello (a transferred port) or,
   * on the leader-tab bus, is given here. `onEnded` runs once the session is over.
   */
  accept(control: Link, events?: Link, onEnded?: () => void): ClientSession | undefined {
    if (this.retiring) {
      refuseClient(control, new Error('it is restarting for a newer tabcast; connect again in a moment'));
      return undefined;
    }
    const session = new ClientSession(this, control, events);
    this.sessions.set(session, onEnded);
    return session;
  }

  /** How many clients are connected (for tests and the inspector). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** A session is over. */
  ended(session: ClientSession): void {
    const onEnded = this.sessions.get(session);
    this.sessions.delete(session);
    // After the current task: a `bye` still has its reply to send on the session's links.
    if (onEnded) setTimeout(onEnded, 0);
  }

  /** Logs a host fault through the door. */
  reportInternal(error: unknown): void {
    this.options.onInternalError?.(error);
  }

  /**
   * Stops serving so that a newer host can start: open sockets close with 1001 (no SyncError),
   * sessions end, state is flushed, then the host lock is freed: that tells every page to reconnect.
   */
  retire(): void {
    if (this.retiring) return;
    this.retiring = true;
    const flushed = Promise.all([this.hub.shutdown(), this.bridges.shutdown()]);
    for (const session of this.sessions.keys()) session.end('retired');
    void flushed
      .catch((error: unknown) => this.reportInternal(error))
      .finally(() => {
        const release = () => this.releaseHostLock?.();
        if (this.options.onRetired) this.options.onRetired(release);
        else release();
      });
  }
}
