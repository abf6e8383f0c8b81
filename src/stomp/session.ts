/**
 * One STOMP 1.2 connection over the engine (channels.md §1). Sans-I/O: the door feeds it socket
 * data and the close, gives it a clock, and calls `tick()` at the deadline it reports (heart-beats).
 * Frames run one at a time in arrival order; a frame that must wait for the engine (CONNECT with a
 * secret, SEND until its change is accepted or refused) holds back the ones after it, so a refused
 * SEND is the last thing the connection does.
 */
import { HubError, isHubError } from '../protocol/index.js';
import type { ConnectionHandle } from '../hub/index.js';
import { dispatchFrame, type FrameContext } from './commands.js';
import { encodeFrame, HEART_BEAT, StompProtocolError, type StompFrame } from './frame.js';
import type { HeartBeatOffer, HeartBeatPlan } from './heart-beat.js';
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
  plan: HeartBeatPlan = { sendEveryMs: 0, expectEveryMs: 0 };
  readonly subscriptions = new Map<string, StompSubscription>();
  private readonly tokens = new Map<string, StompSubscription>();
  private readonly parser: StompParser;
  private readonly queue: Item[] = [];
  private busy = false;
  private tokenCount = 0;
  private lastHeard: number;
  private lastSent: number;
  private armedAt: number | undefined;

  constructor(readonly options: StompSessionOptions) {
    this.parser = new StompParser(options.maxFrameBytes);
    this.lastHeard = this.lastSent = options.now();
  }

  // ---- input from the door ----------------------------------------------------------------

  /** Data from the client: text or bytes of one WebSocket message. */
  receive(data: unknown): void {
    if (this.state === 'closed') return;
    const chunk = typeof data === 'string' || data instanceof Uint8Array ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : undefined;
    if (chunk === undefined) return;
    this.lastHeard = this.options.now();
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
    this.armedAt = undefined;
    if (this.state !== 'connected') return this.rearm();
    const now = this.options.now();
    const { sendEveryMs, expectEveryMs } = this.plan;
    if (expectEveryMs > 0 && now - this.lastHeard > 2 * expectEveryMs) {
      this.fail(new HubError(408, 'processing', `no frame or heart-beat from the client for ${now - this.lastHeard} ms (agreed every ${expectEveryMs} ms)`), { engineCode: SILENT_PEER });
      return;
    }
    if (sendEveryMs > 0 && now - this.lastSent >= sendEveryMs) this.sendRaw(HEART_BEAT);
    this.rearm();
  }

  /** The next time `tick()` has work, if any. */
  nextDeadline(): number | undefined {
    if (this.state !== 'connected') return undefined;
    const times: number[] = [];
    if (this.plan.sendEveryMs > 0) times.push(this.lastSent + this.plan.sendEveryMs);
    if (this.plan.expectEveryMs > 0) times.push(this.lastHeard + 2 * this.plan.expectEveryMs + 1);
    return times.length === 0 ? undefined : Math.min(...times);
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
    const tooBig = error instanceof StompProtocolError && error.tooLarge;
    let hubError: HubError;
    if (isHubError(error)) hubError = error;
    else if (error instanceof StompProtocolError) hubError = new HubError(tooBig ? 413 : 400, tooBig ? 'too-long' : 'structure', error.message);
    else {
      this.options.onInternalError?.(error);
      hubError = new HubError(500, 'exception', 'the hub failed to process this frame; it keeps serving');
    }
    const headers: Array<[string, string]> = [
      ['message', hubError.message],
      ['status', String(hubError.status)],
      ['content-type', 'application/fhir+json'],
    ];
    if (extra.receipt !== undefined) headers.push(['receipt-id', extra.receipt]);
    if (extra.subscription !== undefined) headers.push(['subscription', extra.subscription]);
    this.write({ command: 'ERROR', headers, body: JSON.stringify(hubError.outcome) });
    this.end(extra.engineCode ?? 1000);
    this.closeSocket(tooBig ? CLOSE_TOO_BIG : CLOSE_AFTER_ERROR, hubError.message);
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
    this.lastSent = this.options.now();
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
      let waiting: Promise<void> | void;
      try {
        waiting = dispatchFrame(this as FrameContext, item.frame);
      } catch (error) {
        this.fail(error);
        return;
      }
      if (waiting) {
        this.busy = true;
        waiting
          .catch((error: unknown) => this.fail(error))
          .finally(() => {
            this.busy = false;
            this.pump();
            this.rearm();
          });
      }
    }
  }

  /** Reports the next deadline when it is earlier than the one the door already waits for. */
  rearm(): void {
    const at = this.nextDeadline();
    if (at === undefined) {
      if (this.armedAt !== undefined) this.options.onWake?.(undefined);
      this.armedAt = undefined;
      return;
    }
    if (this.armedAt !== undefined && this.armedAt <= at) return;
    this.armedAt = at;
    this.options.onWake?.(at);
  }
}
