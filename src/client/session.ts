/**
 * One session with a host: hello, the page's liveness lock, and the watch on the host's lock.
 * A session is lost when its host goes away (worker terminated, leader tab closed, retired), and
 * then every call still waiting on it fails at once instead of hanging.
 */
import { transfer, wrap, type Endpoint } from 'comlink';
import { HubError } from '../protocol/outcome.js';
import { holdLock, randomId, watchLock, type LockManagerLike } from '../link/locks.js';
import type { PublishResult } from '../hub/index.js';
import { TaskBatcher, unbatch } from '../link/batching.js';
import { CLIENT_LOCK_PREFIX, HOST_PROTOCOL, hostLockName, type ClientMessage, type HostApi, type HostMessage, type Result, type Welcome } from '../link/messages.js';
import { requestText } from './request-text.js';
import type { Transport } from './transports.js';

/** A live session. */
export interface Session {
  /** The host's control API (every method already returns a promise, so Comlink's proxy has the same type). */
  readonly api: HostApi;
  readonly welcome: Welcome;
  /** Sends on the events link. */
  post(message: ClientMessage): void;
  /** A context change on the events link: one message out, one back, no Comlink proxy. */
  publish(body: unknown): Promise<Result<PublishResult>>;
  /** Settles (with the error to give waiting calls) once the host is gone. */
  readonly lost: Promise<HubError>;
  /** True from the moment the host is known to be gone (before `lost`'s handlers have run). */
  readonly isLost: boolean;
  /** Waits for `promise`, unless the session is lost first. */
  unlessLost<T>(promise: Promise<T>): Promise<T>;
  /** Lets go of the host: frees the page's lock and closes the links. */
  dispose(): void;
}

/** What hello tells the host about this page. */
export interface HelloInfo {
  appName?: string;
  hubUrl: string;
}

const gone = new WeakSet<object>();

/** The error of calls cut off by a lost host; tabcast reconnects by itself. */
export function hostGoneError(): HubError {
  const error = new HubError(503, 'transient', 'the tabcast hub went away (its worker or leader tab stopped) before answering; it is reconnecting, so the call may be retried');
  gone.add(error);
  return error;
}

/** True for the error `hostGoneError` makes. */
export const isHostGone = (error: unknown): boolean => typeof error === 'object' && error !== null && gone.has(error);

/** Thrown by `openSession` when it asked an older host to retire: open again once it is gone. */
export class HostRetired extends Error {}

/** The value of a Result, or its HubError rebuilt on this side. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw HubError.from(result.error.status, result.error.outcome);
}

/**
 * The calls waiting on one session, failed together when it is lost. Each call is forgotten as soon
 * as it settles: racing every call against the session's never-settling `lost` promise left one
 * reaction (about 200 bytes) on it per call for the life of the tab.
 */
export class WaitingCalls {
  private readonly rejecters = new Set<(error: HubError) => void>();
  private failure: HubError | undefined;

  /** Waits for `promise`, unless `failAll` comes first. */
  unlessLost<T>(promise: Promise<T>): Promise<T> {
    if (this.failure) {
      promise.catch(() => undefined); // the call may still fail on a closed channel: nobody waits for it
      return Promise.reject(this.failure);
    }
    return new Promise<T>((resolve, reject) => {
      this.rejecters.add(reject);
      promise.then(
        (value) => {
          this.rejecters.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          this.rejecters.delete(reject);
          reject(error);
        },
      );
    });
  }

  /** Fails every waiting call, and every later one, with `error`. */
  failAll(error: HubError): void {
    this.failure ??= error;
    for (const reject of this.rejecters) reject(this.failure);
    this.rejecters.clear();
  }

  /** How many calls are waiting (for tests). */
  get size(): number {
    return this.rejecters.size;
  }
}

/** Opens a session over `transport`. Messages from the host go to `onMessage`. */
export async function openSession(transport: Transport, info: HelloInfo, locks: LockManagerLike, onMessage: (message: HostMessage, session: Session) => void): Promise<Session> {
  const channels = await transport();
  const api = wrap<HostApi>(channels.control as unknown as Endpoint) as unknown as HostApi;
  const stopWatching = new AbortController();
  const waiting = new WaitingCalls();
  let resolveLost!: (error: HubError) => void;
  const lost = new Promise<HubError>((resolve) => (resolveLost = resolve));
  let isLost = false;
  const markLost = (error: HubError) => {
    isLost = true;
    resolveLost(error);
    waiting.failAll(error);
  };
  let release = () => {};
  // Lean publishes waiting for their `published` reply, by counter id; a lost host answers none.
  const replies = new Map<number, (result: Result<PublishResult>) => void>();
  let lastPublish = 0;
  void lost.then(() => replies.clear());
  // What the page posts during one task (a burst of publishes, the acks of a batch of notifications) leaves as one message.
  const outbox = new TaskBatcher<ClientMessage>((data) => channels.events.postMessage(data));
  const session: Session = {
    api,
    welcome: { hostId: '', protocol: 0, hubUrl: info.hubUrl },
    post: (message) => outbox.post(message),
    publish: (body) =>
      waiting.unlessLost(
        new Promise((resolve) => {
          const id = ++lastPublish;
          outbox.post({ t: 'publish', id, text: requestText(body) }); // a body that is not plain JSON throws here, before it is awaited
          replies.set(id, resolve);
        }),
      ),
    lost,
    get isLost() {
      return isLost;
    },
    unlessLost: (promise) => waiting.unlessLost(promise),
    dispose() {
      stopWatching.abort();
      release();
      channels.dispose();
    },
  };
  channels.events.addEventListener('message', (event) => {
    for (const message of unbatch(event.data) as HostMessage[]) {
      if (message?.t !== 'published') onMessage(message, session);
      else {
        replies.get(message.id)?.(message.result);
        replies.delete(message.id);
      }
    }
  });
  channels.events.start?.();
  void channels.failed.then(markLost);
  try {
    const hello = { protocol: HOST_PROTOCOL, appName: info.appName, hubUrl: info.hubUrl, events: channels.hostEvents };
    const welcome = unwrap(await waiting.unlessLost(api.hello(transfer(hello, channels.hostEvents ? [channels.hostEvents] : []))));
    Object.assign(session, { welcome });
    if (welcome.protocol < HOST_PROTOCOL) {
      // A host from an older deploy: ask it to stop, wait until it has, and let the caller open again.
      unwrap(await waiting.unlessLost(api.retire()));
      await new Promise<void>((resolve) => watchLock(locks, hostLockName(welcome.hostId), resolve));
      throw new HostRetired('the hub ran an older tabcast and was replaced');
    }
    const lockName = CLIENT_LOCK_PREFIX + randomId();
    release = await holdLock(locks, lockName);
    // Only now, with the lock held, may the host start waiting on it: else it could win it first.
    unwrap(await waiting.unlessLost(api.watch(lockName)));
    watchLock(locks, hostLockName(welcome.hostId), () => markLost(hostGoneError()), stopWatching.signal);
    return session;
  } catch (error) {
    session.dispose();
    throw error;
  }
}
