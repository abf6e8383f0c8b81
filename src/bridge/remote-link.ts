/**
 * The bridge's connection to the remote hub across reconnects: subscribe, open the endpoint
 * (./remote-session.ts keeps each connection), and after any drop reconnect with backoff,
 * reopening the old endpoint first when the subscription may still live. It also decides when the
 * bridge has to give up: a denial, or a token that no longer works.
 */
import type { RemoteNotification } from './frames.js';
import { backoffDelay } from './memory.js';
import { RemoteError, type RemoteHub } from './remote-http.js';
import { RemoteSession, type SessionOptions } from './remote-session.js';
import type { RemoteSubscription } from './remote-subscription.js';
import { messageOf, type StatusBoard } from './status-board.js';
import type { BridgeTuning, Timers } from './types.js';

/** What a remote link is built from. */
export interface RemoteLinkOptions {
  remote: RemoteHub;
  subscription: RemoteSubscription;
  /** How each connection is opened and kept. */
  session: SessionOptions;
  tuning: Pick<BridgeTuning, 'backoffBaseMs' | 'backoffMaxMs'>;
  timers: Timers;
  random: () => number;
  status: StatusBoard;
}

/** What the link hands back to the bridge. */
export interface RemoteLinkHost {
  /** A new connection was confirmed: time to catch up with the remote. */
  confirmed(session: RemoteSession): void;
  /** A notification arrived on the current connection. */
  notification(session: RemoteSession, notification: RemoteNotification): void;
  /** The link gave up (denied, or waiting for a token): the bridge leaves the local side too. */
  finished(): void;
}

/** The connection to the remote hub, across reconnects. */
export class RemoteLink {
  private session: RemoteSession | undefined;
  /** An endpoint worth reopening before subscribing again (the subscription may still live). */
  private endpoint: string | undefined;
  private attempt = 0;
  private attemptGeneration = 0;
  private retryTimer: unknown;
  private ended = false;
  private waiting = false;
  private unauthorizedInARow = 0;

  constructor(
    private readonly o: RemoteLinkOptions,
    private readonly host: RemoteLinkHost,
  ) {}

  /** True while stopped because the remote wants a (new) token. */
  get waitingForToken(): boolean {
    return this.waiting;
  }

  /** True from `start` until the link stops or gives up. */
  get running(): boolean {
    return !this.ended;
  }

  /** Holds a link back until a token comes (a bridge resumed without one). */
  park(): void {
    this.ended = true;
    this.waiting = true;
  }

  /** Ends the wait for a token; `start` follows. */
  tokenArrived(): void {
    this.waiting = false;
  }

  /** Starts connecting. */
  start(): void {
    this.ended = false;
    this.attempt = 0;
    this.unauthorizedInARow = 0;
    this.o.status.set({ state: 'connecting' });
    void this.connect();
  }

  /** Unsubscribes at the remote and closes the socket with 1000. Resolves whether the link was running. */
  async stop(): Promise<boolean> {
    const wasRunning = !this.ended;
    this.ended = true;
    this.waiting = false;
    this.o.timers.clear(this.retryTimer);
    const s = this.session;
    s?.retire();
    this.session = undefined;
    if (this.o.status.get().state !== 'denied') this.o.status.set({ state: 'stopped' });
    const endpoint = s?.confirmed ? s.endpoint : this.endpoint;
    this.endpoint = undefined;
    if (wasRunning && endpoint) await this.o.remote.unsubscribe(endpoint, this.o.subscription.token).catch(() => undefined);
    s?.close(1000, 'bridge stopped');
    return wasRunning;
  }

  /** True while `s` is the connection in use; anything older is ignored. */
  isCurrent(s: RemoteSession): boolean {
    return s === this.session && !this.ended;
  }

  /** The confirmed connection to send on, or undefined while there is none. */
  confirmedSession(): RemoteSession | undefined {
    return !this.ended && this.session?.confirmed ? this.session : undefined;
  }

  /** The bridge caught up with the remote on `s`: connected, and the backoff starts over. */
  inStep(s: RemoteSession): void {
    if (!this.isCurrent(s)) return;
    this.attempt = 0;
    this.o.status.set({ state: 'connected' });
  }

  /** Gives up on a connection the bridge no longer trusts, and reconnects. */
  drop(s: RemoteSession, why: string, keepEndpoint: boolean): void {
    if (s !== this.session) return;
    this.endpoint = keepEndpoint && s.confirmed ? s.endpoint : undefined;
    this.endSession();
    this.scheduleRetry(why);
  }

  /** The remote answered 401: one more try at once with a fresh token, if there is a way to get one. */
  unauthorized(why: string): void {
    if (this.o.subscription.refreshable && ++this.unauthorizedInARow < 2) {
      this.endSession();
      this.o.status.set({ state: 'reconnecting', lastError: why });
      this.o.timers.clear(this.retryTimer);
      this.retryTimer = this.o.timers.set(() => void this.connect(), 0);
      return;
    }
    this.needToken(why);
  }

  private async connect(): Promise<void> {
    this.retryTimer = undefined;
    if (this.ended) return;
    const generation = ++this.attemptGeneration;
    const stale = () => this.ended || generation !== this.attemptGeneration;
    try {
      await this.o.subscription.refreshToken();
    } catch (error) {
      // A GetTopic call fails like any call to the remote (retry, 401, denial); getToken is the page's.
      if (stale()) return;
      if (error instanceof RemoteError) this.attemptFailed(error);
      else this.needToken(`getToken failed: ${messageOf(error)}`);
      return;
    }
    if (stale()) return;
    let url = this.endpoint;
    if (!url) {
      try {
        url = await this.subscribe();
      } catch (error) {
        if (!stale()) this.attemptFailed(error);
        return;
      }
      if (stale()) {
        void this.o.remote.unsubscribe(url, this.o.subscription.token).catch(() => undefined);
        return;
      }
    }
    this.openSocket(url);
  }

  /** Subscribes; with the default event list, a 400 narrows it once to what the remote supports. */
  private async subscribe(): Promise<string> {
    const { subscription } = this.o;
    try {
      const url = await subscription.subscribe();
      this.unauthorizedInARow = 0;
      return url;
    } catch (error) {
      if (!(await subscription.narrow(error))) throw error;
      return subscription.subscribe();
    }
  }

  private attemptFailed(error: unknown): void {
    if (error instanceof RemoteError && error.status === 401) this.unauthorized(error.message);
    else if (error instanceof RemoteError && !error.transient) this.deny(error.message);
    else this.scheduleRetry(messageOf(error));
  }

  private openSocket(url: string): void {
    // Callbacks trust that only the current session is live: never leave an older one open.
    if (this.session) this.endSession();
    let s: RemoteSession;
    try {
      s = new RemoteSession(url, this.o.session, {
        confirmed: () => {
          this.endpoint = s.endpoint;
          this.host.confirmed(s);
        },
        notification: (n) => this.host.notification(s, n),
        lost: (why, keepEndpoint) => this.drop(s, why, keepEndpoint),
        // After an abnormal close the subscription may still live at the remote: reopen it first.
        closed: (code, reason) => this.drop(s, `the remote hub closed the connection (code ${code}${reason ? `: ${reason}` : ''})`, code !== 1000 && code !== 1001),
        denied: (why) => this.deny(why),
        unauthorized: (why) => this.unauthorized(why),
        moved: (next) => {
          this.endSession(1000, 'moving to the renewed endpoint');
          this.openSocket(next);
        },
      });
    } catch (error) {
      this.endpoint = undefined;
      this.scheduleRetry(`cannot open the remote endpoint: ${messageOf(error)}`);
      return;
    }
    this.session = s;
  }

  private endSession(code = 4000, reason = 'reconnecting'): void {
    const s = this.session;
    if (!s) return;
    this.session = undefined;
    s.close(code, reason);
  }

  private scheduleRetry(why: string): void {
    if (this.ended) return;
    this.endSession();
    const { tuning } = this.o;
    const delay = backoffDelay(this.attempt++, tuning.backoffBaseMs, tuning.backoffMaxMs, this.o.random);
    this.o.status.set({ state: 'reconnecting', lastError: why });
    this.o.timers.clear(this.retryTimer);
    this.retryTimer = this.o.timers.set(() => void this.connect(), delay);
  }

  private needToken(why: string): void {
    this.waiting = true;
    this.finish('stopped', `${why}. The bridge stopped: open it again with a valid token`);
  }

  private deny(why: string): void {
    this.finish('denied', why);
  }

  /** Ends the link for good (denied) or until a new token comes (stopped). */
  private finish(state: 'denied' | 'stopped', why: string): void {
    if (this.ended) return;
    this.ended = true;
    this.o.timers.clear(this.retryTimer);
    this.endSession(1000, state === 'denied' ? 'subscription denied' : 'token needed');
    this.endpoint = undefined;
    this.host.finished();
    this.o.status.set({ state, lastError: why });
  }
}
