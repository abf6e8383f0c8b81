/**
 * The bridge's connection to the remote hub across reconnects: subscribe, open the endpoint
 * (./remote-session.ts keeps each connection), and after any drop reconnect with backoff,
 * reopening the old endpoint first when the subscription may still live. It also decides when the
 * bridge has to give up: a denial, or a token that no longer works.
 *
 * The link's whole life is one `LinkState` (as `ws` keeps a socket's in one readyState); every
 * handler first asks which state it is in. The transitions, and nothing else:
 *
 * | from                       | on                                                   | to                                   |
 * | -------------------------- | ---------------------------------------------------- | ------------------------------------ |
 * | idle, stopped              | `start`                                              | connecting (attempt 0)               |
 * | idle                       | `park` (a resumed bridge without a token)            | waitingForToken                      |
 * | connecting                 | token, then a subscription (or the kept endpoint)    | opening                              |
 * | connecting                 | a failure that may pass (network, 5xx, 429)          | backoff (attempt + 1)                |
 * | opening                    | the remote's confirmation                            | open                                 |
 * | open                       | `inStep` (queue sent, remote context adopted)        | open, attempt 0                      |
 * | open                       | the renewal names another endpoint                   | opening (that endpoint)              |
 * | opening, open              | lost, closed, or a publish that broke the connection | backoff (attempt + 1)¹               |
 * | connecting, opening, open  | 401, the first in a row, with `getToken`             | backoff (0 ms, same attempt)         |
 * | connecting, opening, open  | any other 401, or `getToken` throws                  | waitingForToken                      |
 * | connecting, opening, open  | a denial or a 4xx                                    | denied                               |
 * | backoff                    | its timer                                            | connecting                           |
 * | waitingForToken            | `tokenArrived` (the bridge calls `start` next)       | stopped                              |
 * | any but denied             | `stop`                                               | stopped (unsubscribes, closes 1000)  |
 *
 * ¹ The confirmed endpoint is kept for the next connecting when the subscription may still live
 * at the remote (an abnormal close, a silent remote, a failed publish); otherwise it subscribes anew.
 * `denied` is final; `waitingForToken` ends only through `tokenArrived`.
 */
import type { RemoteNotification } from './frames.js';
import { backoffDelay } from './memory.js';
import { RemoteError, type RemoteHub } from './remote-http.js';
import { RemoteSession, type SessionOptions } from './remote-session.js';
import type { RemoteSubscription } from './remote-subscription.js';
import { messageOf, type StatusBoard } from './status-board.js';
import type { BridgeTuning, Timers } from './types.js';

/** Where the link is in its life (see the table above). `endpoint`: a subscription worth reopening. */
export type LinkState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'connecting'; readonly attempt: number; readonly endpoint: string | undefined }
  | { readonly kind: 'backoff'; readonly attempt: number; readonly endpoint: string | undefined; readonly timer: unknown }
  | { readonly kind: 'opening'; readonly attempt: number; readonly session: RemoteSession; readonly endpoint: string | undefined }
  | { readonly kind: 'open'; readonly attempt: number; readonly session: RemoteSession }
  | { readonly kind: 'waitingForToken' }
  | { readonly kind: 'denied' }
  | { readonly kind: 'stopped' };

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
  private state: LinkState = { kind: 'idle' };
  /** 401s in a row across attempts (not lifecycle): the second one stops the link. */
  private unauthorizedInARow = 0;

  constructor(
    private readonly options: RemoteLinkOptions,
    private readonly host: RemoteLinkHost,
  ) {}

  /** True while stopped because the remote wants a (new) token. */
  get waitingForToken(): boolean {
    return this.state.kind === 'waitingForToken';
  }

  /** True from construction or `start` until the link stops or gives up. */
  get running(): boolean {
    return isRunning(this.state);
  }

  /** Holds a link back until a token comes (a bridge resumed without one). */
  park(): void {
    if (this.state.kind === 'idle') this.state = { kind: 'waitingForToken' };
  }

  /** Ends the wait for a token; `start` follows. */
  tokenArrived(): void {
    if (this.state.kind === 'waitingForToken') this.state = { kind: 'stopped' };
  }

  /** Starts connecting. */
  start(): void {
    if (this.state.kind !== 'idle' && this.state.kind !== 'stopped') return;
    this.unauthorizedInARow = 0;
    this.options.status.set({ state: 'connecting' });
    void this.connect({ kind: 'connecting', attempt: 0, endpoint: undefined });
  }

  /** Unsubscribes at the remote and closes the socket with 1000. Resolves whether the link was running. */
  async stop(): Promise<boolean> {
    const was = this.state;
    const wasRunning = isRunning(was);
    if (was.kind === 'backoff') this.options.timers.clear(was.timer);
    const session = was.kind === 'opening' || was.kind === 'open' ? was.session : undefined;
    session?.retire();
    this.state = { kind: 'stopped' };
    if (this.options.status.get().state !== 'denied') this.options.status.set({ state: 'stopped' });
    const endpoint = endpointOf(was);
    if (wasRunning && endpoint) await this.options.remote.unsubscribe(endpoint, this.options.subscription.token).catch(() => undefined);
    session?.close(1000, 'bridge stopped');
    return wasRunning;
  }

  /** True while `s` is the connection in use; anything older is ignored. */
  isCurrent(s: RemoteSession): boolean {
    return this.session() === s;
  }

  /** The confirmed connection to send on, or undefined while there is none. */
  confirmedSession(): RemoteSession | undefined {
    return this.state.kind === 'open' ? this.state.session : undefined;
  }

  /** The bridge caught up with the remote on `s`: connected, and the backoff starts over. */
  inStep(s: RemoteSession): void {
    if (this.state.kind !== 'open' || this.state.session !== s) return;
    this.state = { kind: 'open', attempt: 0, session: s };
    this.options.status.set({ state: 'connected' });
  }

  /** Gives up on a connection the bridge no longer trusts, and reconnects. */
  drop(s: RemoteSession, why: string, keepEndpoint: boolean): void {
    const state = this.state;
    if ((state.kind !== 'opening' && state.kind !== 'open') || state.session !== s) return;
    s.close(4000, 'reconnecting');
    this.backoff(state.attempt, keepEndpoint && state.kind === 'open' ? s.endpoint : undefined, why);
  }

  /** The remote answered 401: one more try at once with a fresh token, if there is a way to get one. */
  unauthorized(why: string): void {
    const state = this.state;
    if (state.kind !== 'connecting' && state.kind !== 'opening' && state.kind !== 'open' && state.kind !== 'backoff') return;
    if (this.options.subscription.refreshable && ++this.unauthorizedInARow < 2) {
      this.session()?.close(4000, 'reconnecting');
      if (state.kind === 'backoff') this.options.timers.clear(state.timer);
      this.options.status.set({ state: 'reconnecting', lastError: why });
      this.retryAfter(0, state.attempt, endpointOf(state));
      return;
    }
    this.needToken(why);
  }

  /** The session of an opening or open link. */
  private session(): RemoteSession | undefined {
    return this.state.kind === 'opening' || this.state.kind === 'open' ? this.state.session : undefined;
  }

  /** One attempt: a token, a subscription unless an endpoint is kept, then the socket. */
  private async connect(attempt: Extract<LinkState, { kind: 'connecting' }>): Promise<void> {
    this.state = attempt;
    // Anything that moved the link on meanwhile (stop, a 401, a denial) makes this attempt stale.
    const stale = () => this.state !== attempt;
    try {
      await this.options.subscription.refreshToken();
    } catch (error) {
      // A GetTopic call fails like any call to the remote (retry, 401, denial); getToken is the page's.
      if (stale()) return;
      if (error instanceof RemoteError) this.attemptFailed(attempt, error);
      else this.needToken(`getToken failed: ${messageOf(error)}`);
      return;
    }
    if (stale()) return;
    let url = attempt.endpoint;
    if (!url) {
      try {
        url = await this.subscribe();
      } catch (error) {
        if (!stale()) this.attemptFailed(attempt, error);
        return;
      }
      if (stale()) {
        void this.options.remote.unsubscribe(url, this.options.subscription.token).catch(() => undefined);
        return;
      }
    }
    this.openSocket(url, attempt.attempt, attempt.endpoint);
  }

  /** Subscribes; with the default event list, a 400 narrows it once to what the remote supports. */
  private async subscribe(): Promise<string> {
    const { subscription } = this.options;
    try {
      const url = await subscription.subscribe();
      this.unauthorizedInARow = 0;
      return url;
    } catch (error) {
      if (!(await subscription.narrow(error))) throw error;
      return subscription.subscribe();
    }
  }

  private attemptFailed(attempt: Extract<LinkState, { kind: 'connecting' }>, error: unknown): void {
    if (error instanceof RemoteError && error.status === 401) this.unauthorized(error.message);
    else if (error instanceof RemoteError && !error.transient) this.deny(error.message);
    else this.backoff(attempt.attempt, undefined, messageOf(error));
  }

  /** opening: a socket to `url`. `endpoint` is the kept subscription being reopened, if any. */
  private openSocket(url: string, attempt: number, endpoint: string | undefined): void {
    let s: RemoteSession;
    try {
      s = new RemoteSession(url, this.options.session, {
        confirmed: () => {
          if (this.state.kind !== 'opening' || this.state.session !== s) return;
          this.state = { kind: 'open', attempt: this.state.attempt, session: s };
          this.host.confirmed(s);
        },
        notification: (n) => this.host.notification(s, n),
        lost: (why, keepEndpoint) => this.drop(s, why, keepEndpoint),
        // After an abnormal close the subscription may still live at the remote: reopen it first.
        closed: (code, reason) => this.drop(s, `the remote hub closed the connection (code ${code}${reason ? `: ${reason}` : ''})`, code !== 1000 && code !== 1001),
        denied: (why) => {
          if (this.isCurrent(s)) this.deny(why);
        },
        unauthorized: (why) => {
          if (this.isCurrent(s)) this.unauthorized(why);
        },
        moved: (next) => {
          if (this.state.kind !== 'open' || this.state.session !== s) return;
          s.close(1000, 'moving to the renewed endpoint');
          this.openSocket(next, this.state.attempt, next);
        },
      });
    } catch (error) {
      this.backoff(attempt, undefined, `cannot open the remote endpoint: ${messageOf(error)}`);
      return;
    }
    this.state = { kind: 'opening', attempt, session: s, endpoint };
  }

  /** backoff: the next attempt after the delay for `attempt`, reopening `endpoint` if given. */
  private backoff(attempt: number, endpoint: string | undefined, why: string): void {
    const { tuning } = this.options;
    const delay = backoffDelay(attempt, tuning.backoffBaseMs, tuning.backoffMaxMs, this.options.random);
    this.options.status.set({ state: 'reconnecting', lastError: why });
    this.retryAfter(delay, attempt + 1, endpoint);
  }

  private retryAfter(delay: number, attempt: number, endpoint: string | undefined): void {
    const timer = this.options.timers.set(() => {
      if (this.state === waiting) void this.connect({ kind: 'connecting', attempt, endpoint });
    }, delay);
    const waiting: LinkState = { kind: 'backoff', attempt, endpoint, timer };
    this.state = waiting;
  }

  private needToken(why: string): void {
    this.finish({ kind: 'waitingForToken' }, 'stopped', `${why}. The bridge stopped: open it again with a valid token`);
  }

  private deny(why: string): void {
    this.finish({ kind: 'denied' }, 'denied', why);
  }

  /** Ends the link for good (denied) or until a new token comes (waitingForToken). */
  private finish(next: LinkState, status: 'denied' | 'stopped', why: string): void {
    const state = this.state;
    if (!isRunning(state)) return;
    if (state.kind === 'backoff') this.options.timers.clear(state.timer);
    this.session()?.close(1000, status === 'denied' ? 'subscription denied' : 'token needed');
    this.state = next;
    this.host.finished();
    this.options.status.set({ state: status, lastError: why });
  }
}

/** Running: not given up and not stopped (an idle link counts, so events before `start` are queued). */
function isRunning(state: LinkState): boolean {
  return state.kind !== 'waitingForToken' && state.kind !== 'denied' && state.kind !== 'stopped';
}

/** The subscription at the remote that is worth reopening, or unsubscribing on stop. */
function endpointOf(state: LinkState): string | undefined {
  switch (state.kind) {
    case 'connecting':
    case 'backoff':
    case 'opening':
      return state.endpoint;
    case 'open':
      return state.session.endpoint;
    default:
      return undefined;
  }
}
