/**
 * One STOMP 1.2 connection over the engine (channels.md §1). Sans-I/O: the door feeds it socket
 * data and the close, gives it a clock, and calls `tick()` at the deadline it reports (heart-beats).
 * Frames run one at a time in arrival order; a frame that must wait for the engine (CONNECT with a
 * secret, SEND until its change is accepted or refused) holds back the ones after it, so a refused
 * SEND is the last thing the connection does.
 */
import { HubError } from '../protocol/index.js';
import type { ConnectionHandle } from '../hub/index.js';
import { dispatchFrame, type FrameContext } from './commands.js';
import { errorAnswer } from './error-frame.js';
import { encodeFrame, headerOf, HEART_BEAT, StompProtocolError, type StompFrame } from './frame.js';
import type { HeartBeatOffer, HeartBeatPlan } from './heart-beat.js';
import { Liveness } from './liveness.js';
import { StompParser } from './parser.js';
import type { StompHub } from './stomp-hub.js';
import type { StompSubscription, SubscriptionHost } from './subscription.js';

/** The transport side of a STOMP connection. */
export interface StompSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
}

/** Settings of one connection. */
export interface StompSessionOptions {
  hub: StompHub;
  socket: StompSocket;
  now: () => number;
  /** This connection's id, sent as CONNECTED's `session`. */
  sessionId: string;
  /** Largest frame (and WebSocket message) in bytes. */
  maxFrameBytes: number;
  /** The hub's heart-beat offer. Default 10 s both ways. */
  heartBeat?: HeartBeatOffer;
  /** CONNECTED's `server` header. */
  serverName: string;
  /** Told the earliest time `tick()` is due whenever it moves earlier (undefined: none). */
  onWake?: (at: number | undefined) => void;
  /** Told about failures that are not the client's fault; the client gets a 500 ERROR without detail. */
  onInternalError?: (error: unknown) => void;
}

/** WebSocket close codes after an ERROR (documented in docs/stomp.md). */
export const CLOSE_AFTER_DISCONNECT = 1000;
export const CLOSE_AFTER_ERROR = 1008;
export const CLOSE_TOO_BIG = 1009;
/** How the engine hears of a client that went silent past its heart-beat: a drop (SyncError), as on STU3. */
const SILENT_PEER = 1006;

type Item = { frame: StompFrame } | { failure: StompProtocolError };

/** A STOMP connection: feed it with `receive` and `closed`, like any engine connection. */
export class StompSession implements ConnectionHandle, SubscriptionHost {
  state: 'new' | 'connected' | 'closed' = 'new';
  /** CONNECT's `client-id` or `login`: the name SyncErrors give this client's subscriptions. */
  subscriberName: string | undefined;
  readonly liveness: Liveness;
  readonly subscriptions = new Map<string, StompSubscription>();
  private readonly tokens = new Map<string, StompSubscription>();
  private readonly parser: StompParser;
  private readonly queue: Item[] = [];
  private busy = false;
  private tokenCount = 0;

  constructor(readonly options: StompSessionOptions) {
    this.parser = new StompParser(options.maxFrameBytes);
    this.liveness = new Liveness(options.now(), options.onWake);
  }

  /** The heart-beats agreed on CONNECT. */
  get plan(): HeartBeatPlan {
    return this.liveness.plan;
  }

  set plan(plan: HeartBeatPlan) {
    this.liveness.plan = plan;
  }

  // ---- input from the door ----------------------------------------------------------------

  /** Data from the client: text or bytes of one WebSocket message. */
  receive(data: unknown): void {
    if (this.state === 'closed') return;
    const chunk = typeof data === 'string' || data instanceof Uint8Array ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : undefined;
    if (chunk === undefined) return;
    this.liveness.heard(this.options.now());
    try {
      for (const frame of this.parser.push(chunk).frames) this.queue.push({ frame });
    } catch (error) {
      this.queue.push({ failure: error instanceof StompProtocolError ? error : new StompProtocolError('the frame cannot be read') });
    }
    this.pump();
    this.rearm();
  }

  /** The socket closed: the subscriptions end; a close other than normal raises a SyncError each, as on STU3. */
  closed(code: number): void {
    if (this.state === 'closed') return;
    this.end(code);
  }

  /** Runs what is due: the hub's heart-beat, and the close of a client silent past twice its interval. */
  tick(): void {
    const due = this.liveness.due(this.options.now());
    if (this.state !== 'connected') return this.rearm();
    if (due.silentForMs !== undefined) {
      const agreed = this.plan.expectEveryMs;
      this.fail(new HubError(408, 'processing', `no frame or heart-beat from the client for ${due.silentForMs} ms (agreed every ${agreed} ms)`), { engineCode: SILENT_PEER });
      return;
    }
    if (due.beat) this.sendRaw(HEART_BEAT);
    this.rearm();
  }

  /** The next time `tick()` has work, if any. */
  nextDeadline(): number | undefined {
    return this.state === 'connected' ? this.liveness.nextDeadline() : undefined;
  }

  // ---- SubscriptionHost ---------------------------------------------------------------------

  write(frame: StompFrame): void {
    if (this.state === 'closed') return;
    this.sendRaw(encodeFrame(frame));
  }

  newToken(): string {
    return `${this.options.sessionId}-${++this.tokenCount}`;
  }

  remember(token: string, subscription: StompSubscription): void {
    this.tokens.set(token, subscription);
  }

  forget(token: string): void {
    this.tokens.delete(token);
  }

  /** The subscription that issued an ack token, if it is still there. */
  subscriptionOf(token: string): StompSubscription | undefined {
    const sub = this.tokens.get(token);
    return sub && this.subscriptions.get(sub.id) === sub ? sub : undefined;
  }

  /** Forgets the tokens of a subscription that ended. */
  forgetTokens(subscription: StompSubscription): void {
    for (const [token, sub] of this.tokens) if (sub === subscription) this.tokens.delete(token);
  }

  endedByHub(subscription: StompSubscription, reason: string): void {
    this.subscriptions.delete(subscription.id);
    this.fail(new HubError(408, 'processing', reason), { subscription: subscription.id });
  }

  closedByHub(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.write({ command: 'ERROR', headers: [['message', reason || 'the hub closed this connection']], body: '' });
    this.end(1000);
    this.closeSocket(code, reason);
  }

  // ---- ERROR and close ------------------------------------------------------------------------

  /**
   * Answers a failure with ERROR (message, status, receipt-id, subscription, the OperationOutcome
   * as body) and closes. The subscriptions end with no SyncError unless `engineCode` says otherwise.
   */
  fail(error: unknown, extra: { receipt?: string; subscription?: string; engineCode?: number } = {}): void {
    if (this.state === 'closed') return;
    const answer = errorAnswer(error, extra, this.options.onInternalError);
    this.write(answer.frame);
    this.end(extra.engineCode ?? 1000);
    this.closeSocket(answer.tooLarge ? CLOSE_TOO_BIG : CLOSE_AFTER_ERROR, answer.reason);
  }

  /** DISCONNECT: subscriptions end quietly, then the socket closes normally. */
  disconnect(): void {
    this.end(1000);
    this.closeSocket(CLOSE_AFTER_DISCONNECT, 'disconnected');
  }

  private end(engineCode: number): void {
    this.state = 'closed';
    this.queue.length = 0;
    const subs = [...this.subscriptions.values()];
    this.subscriptions.clear();
    this.tokens.clear();
    for (const sub of subs) {
      sub.ending = true;
      // A STOMP subscription has no endpoint to reconnect to: whatever the close, it ends (and its lease never leaks).
      sub.handle?.closed(engineCode, { endSubscription: true });
    }
    this.rearm();
  }

  private closeSocket(code: number, reason: string): void {
    try {
      this.options.socket.close(code, reason);
    } catch {
      // already gone
    }
  }

  private sendRaw(text: string): void {
    this.liveness.sent(this.options.now());
    try {
      this.options.socket.send(text);
    } catch {
      // the transport is gone; its close report reaches us through `closed`
    }
  }

  // ---- the frame queue ------------------------------------------------------------------------

  private pump(): void {
    while (!this.busy && this.state !== 'closed' && this.queue.length > 0) {
      const item = this.queue.shift()!;
      if ('failure' in item) {
        this.fail(item.failure);
        return;
      }
      // An ERROR names the frame it answers by that frame's receipt, as STOMP 1.2 advises.
      const receipt = headerOf(item.frame, 'receipt');
      let waiting: Promise<void> | void;
      try {
        waiting = dispatchFrame(this as FrameContext, item.frame);
      } catch (error) {
        this.fail(error, { receipt });
        return;
      }
      if (waiting) {
        this.busy = true;
        waiting
          .catch((error: unknown) => this.fail(error, { receipt }))
          .finally(() => {
            this.busy = false;
            this.pump();
            this.rearm();
          });
      }
    }
  }

  /** Reports the next deadline to the door when it moved earlier. */
  rearm(): void {
    this.liveness.rearm(this.state === 'connected');
  }
}
