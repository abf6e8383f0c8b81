/**
 * Keeps a page connected: when its session is lost it opens a new one by itself (a fresh worker
 * or the next leader tab) and lets the hub client restore what the page had, without the app
 * doing anything. Calls made meanwhile wait for the new session.
 */
import { badRequest, HubError } from '../protocol/outcome.js';
import type { HostApi, Result } from '../link/messages.js';
import { HostRetired, isHostGone, unwrap, type Session } from './session.js';

/** Retries after a failed reopen wait this long, doubling up to the maximum. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;
/** A host that runs an older tabcast is asked to retire at most this often in a row. */
const MAX_RETIREMENTS = 3;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const closedError = () => new HubError(410, 'processing', 'this hub connection was closed with hub.close(); call connect() again');

/** The reconnecting connection of one `connect()`. */
export class HostConnection {
  private session?: Session;
  private reopening?: Promise<Session>;
  private closed = false;

  constructor(
    private readonly open: () => Promise<Session>,
    private readonly restore: (session: Session) => Promise<void>,
    private readonly onLost: (session: Session) => void,
  ) {}

  /** Opens the first session; its errors reach `connect()`'s caller. */
  async start(): Promise<void> {
    // Calls made before the first session is up (the drop-in's, made at once) wait for it.
    const opening = this.openFresh();
    this.reopening = opening;
    opening.catch(() => undefined); // reported to start()'s caller and to the calls that wait
    this.adopt(await opening);
  }

  /** The live session, waiting for a reconnect if there is none right now. */
  current(): Promise<Session> {
    if (this.closed) return Promise.reject(closedError());
    // A session whose host just went: once its loss is handled (below, in adopt) a reopen is under way.
    if (this.session?.isLost) return this.session.lost.then(() => this.current());
    if (this.session) return Promise.resolve(this.session);
    return this.reopening ?? Promise.reject(closedError());
  }

  /**
   * Runs a control call. If the host goes away meanwhile, the call fails with a 503, or, with
   * `retry` (calls that may safely run twice), runs again on the next session.
   */
  call<T>(invoke: (api: HostApi) => Promise<Result<T>>, retry = false): Promise<T> {
    return this.run((session) => session.unlessLost(invoke(session.api)), retry);
  }

  /** As `call`, for a request that uses the session itself (a lean publish on the events link). */
  async run<T>(invoke: (session: Session) => Promise<Result<T>>, retry = false): Promise<T> {
    for (;;) {
      const session = await this.current();
      try {
        return unwrap(await invoke(session));
      } catch (error) {
        if (error instanceof DOMException && error.name === 'DataCloneError') {
          throw badRequest(`the hub cannot be sent this value (${error.message.split('\n')[0]}): pass plain JSON data`, 'structure');
        }
        if (!(retry && isHostGone(error) && !this.closed)) throw error;
      }
    }
  }

  /** Says goodbye to the host (subscriptions end normally) and stops reconnecting. */
  async close(): Promise<void> {
    if (this.closed) return;
    const session = this.session;
    if (session) await session.unlessLost(session.api.bye()).catch(() => undefined);
    this.closed = true;
    this.session = undefined;
    session?.dispose();
  }

  private async openFresh(): Promise<Session> {
    for (let retired = 0; ; retired++) {
      try {
        return await this.open();
      } catch (error) {
        if (!(error instanceof HostRetired) || retired >= MAX_RETIREMENTS) throw error;
      }
    }
  }

  private adopt(session: Session): void {
    this.session = session;
    void session.lost.then(() => {
      if (this.session !== session) return;
      this.session = undefined;
      session.dispose();
      this.onLost(session);
      if (this.closed) return;
      this.reopening = this.reconnect();
      this.reopening.catch(() => undefined); // only a close ends it; waiting calls get that error
    });
  }

  private async reconnect(): Promise<Session> {
    for (let wait = FIRST_RETRY_MS; ; wait = Math.min(wait * 2, MAX_RETRY_MS)) {
      if (this.closed) throw closedError();
      try {
        const session = await this.openFresh();
        if (this.closed) {
          session.dispose();
          throw closedError();
        }
        this.adopt(session);
        // In the background: calls waiting for the session go ahead while subscriptions are restored.
        void this.restore(session).catch((error: unknown) => console.warn('tabcast: could not restore everything after reconnecting', error));
        return session;
      } catch (error) {
        if (this.closed) throw error;
        await delay(wait);
      }
    }
  }
}
