/**
 * One WebSocket connection to a remote hub's endpoint, and what keeps it trustworthy: the wait for
 * the confirmation, the heartbeat watchdog and the lease renewal. It reads the frames and reports
 * what they mean; whether to reconnect or give up is the remote link's call (./remote-link.ts).
 * A retired session ignores everything that still arrives for it.
 */
import type { Dialect } from './dialects.js';
import { frameText, MAX_REMOTE_FRAME_CHARS, oversizedFrameId, readFrame, type RemoteFrame, type RemoteNotification } from './frames.js';
import { RemoteError } from './remote-http.js';
import { messageOf } from './status-board.js';
import type { BridgeTuning, Timers, WebSocketConstructor, WebSocketLike } from './types.js';

const OPEN = 1;
const RENEW_RETRY_MS = 30_000;

/** What every session of one bridge shares. */
export interface SessionOptions {
  WebSocket: WebSocketConstructor;
  dialect: Dialect;
  remoteTopic: string;
  tuning: Pick<BridgeTuning, 'confirmationTimeoutMs' | 'assumedLeaseSeconds' | 'heartbeatSilenceFactor' | 'renewAtFraction'>;
  timers: Timers;
  /** Renews the lease of this endpoint; resolves with the endpoint granted. */
  resubscribe(endpoint: string): Promise<string>;
}

/** What a session reports. */
export interface SessionEvents {
  /** The first confirmation arrived: the subscription is live. */
  confirmed(): void;
  notification(notification: RemoteNotification): void;
  /** The connection can no longer be trusted; with `keepEndpoint` the subscription may still live. */
  lost(why: string, keepEndpoint: boolean): void;
  /** The socket closed (code 1006 when the close event named none). */
  closed(code: number, reason: string): void;
  /** The remote refused the subscription for good. */
  denied(why: string): void;
  /** The remote answered a renewal with 401. */
  unauthorized(why: string): void;
  /** The renewal granted another endpoint. */
  moved(endpoint: string): void;
}

/** One connection to a remote endpoint. */
export class RemoteSession {
  private isConfirmed = false;
  private leaseSeconds: number;
  private heartbeatMs: number | undefined;
  private retired = false;
  private readonly socket: WebSocketLike;
  private readonly timers: { confirm?: unknown; silence?: unknown; renew?: unknown } = {};
  /** With a dialect whose answers carry no id: notifications in arrival order, with their status once known. */
  private readonly unanswered: Array<{ id: string | undefined; status?: number }> = [];

  /** Opens a socket to `endpoint` and starts waiting for the confirmation; throws what the WebSocket constructor throws. */
  constructor(
    readonly endpoint: string,
    private readonly o: SessionOptions,
    private readonly events: SessionEvents,
  ) {
    this.leaseSeconds = o.tuning.assumedLeaseSeconds;
    const socket = new o.WebSocket(endpoint);
    this.socket = socket;
    socket.addEventListener('error', () => undefined); // a close event follows
    socket.addEventListener('message', (event: { data?: unknown }) => this.onFrame(event?.data));
    socket.addEventListener('close', (event: { code?: unknown; reason?: unknown }) => {
      events.closed(typeof event?.code === 'number' ? event.code : 1006, typeof event?.reason === 'string' ? event.reason : '');
    });
    const wait = o.tuning.confirmationTimeoutMs;
    this.timers.confirm = o.timers.set(() => events.lost(`the remote hub sent no confirmation within ${wait} ms`, false), wait);
  }

  /** True once the remote confirmed the subscription on this connection. */
  get confirmed(): boolean {
    return this.isConfirmed;
  }

  /** Answers a notification (fhircast-spec.md §3.4.1) while the socket is open. */
  ack(id: string, status: number): void {
    if (this.retired || this.socket.readyState !== OPEN) return;
    if (this.o.dialect.answersWithoutId) return this.answerInOrder(id, status);
    this.write({ id, status });
  }

  /** The remote takes an answer without id for its oldest unanswered notification: answer in arrival order. */
  private answerInOrder(id: string | undefined, status: number): void {
    const waiting = this.unanswered.find((u) => u.status === undefined && u.id === id);
    if (waiting) waiting.status = status;
    while (this.unanswered[0]?.status !== undefined) {
      const done = this.unanswered.shift()!;
      this.write(this.o.dialect.answerFrame?.(done.status!, Date.now()) ?? { status: done.status });
    }
  }

  private write(frame: unknown): void {
    try {
      this.socket.send(JSON.stringify(frame));
    } catch {
      // the close event will follow
    }
  }

  /** Stops the timers and ignores the socket from now on; it stays open until `close`. */
  retire(): void {
    this.retired = true;
    this.o.timers.clear(this.timers.confirm);
    this.o.timers.clear(this.timers.silence);
    this.o.timers.clear(this.timers.renew);
  }

  /** Retires the session and closes the socket, whatever state it is in. */
  close(code: number, reason: string): void {
    this.retire();
    try {
      if (this.socket.readyState <= OPEN) this.socket.close(code, reason);
    } catch {
      // already closed
    }
  }

  private onFrame(data: unknown): void {
    if (this.retired) return;
    const text = frameText(data);
    if (text === undefined) return;
    this.armSilence();
    if (text.length > MAX_REMOTE_FRAME_CHARS) {
      // Every other way into the hub is bounded at 1 MiB (HUB-SEC-08); a remote is no exception.
      const id = oversizedFrameId(text);
      if (this.o.dialect.answersWithoutId) this.unanswered.push({ id });
      if (id || this.o.dialect.answersWithoutId) this.ack(id!, 413);
      return;
    }
    const frame = readFrame(text);
    if (frame.kind === 'ignored' && this.o.dialect.isGreeting?.(parsed(text))) return this.onConfirmation({ kind: 'confirmation' });
    switch (frame.kind) {
      case 'confirmation':
        return this.onConfirmation(frame);
      case 'denial':
        return this.events.denied(frame.reason ? `the remote hub denied the subscription: ${frame.reason}` : 'the remote hub denied the subscription');
      case 'heartbeat':
        this.heartbeatMs = frame.periodMs ?? this.o.dialect.heartbeatMs;
        this.armSilence();
        return;
      case 'notification':
        if (this.o.dialect.answersWithoutId) {
          // A notification without id can only be answered at once: nothing will name it later.
          this.unanswered.push({ id: frame.notification.id, ...(frame.notification.id ? {} : { status: 200 }) });
        }
        return this.events.notification(frame.notification);
      default:
        return; // garbage, acks, OHIF-style echoes of the endpoint: ignored
    }
  }

  private onConfirmation(frame: Extract<RemoteFrame, { kind: 'confirmation' }>): void {
    const problem = this.o.dialect.checkConfirmation(frame, this.o.remoteTopic);
    if (problem) return this.events.lost(problem, false);
    this.o.timers.clear(this.timers.confirm);
    this.leaseSeconds = frame.leaseSeconds ?? this.o.tuning.assumedLeaseSeconds;
    this.scheduleRenewal();
    if (this.isConfirmed) return; // a fresh confirmation after a renewal
    this.isConfirmed = true;
    this.events.confirmed();
  }

  /** Once heartbeats are seen, silence for a few periods means the connection is gone (sleep, proxies). */
  private armSilence(): void {
    if (this.heartbeatMs === undefined) return;
    this.o.timers.clear(this.timers.silence);
    const ms = this.heartbeatMs * this.o.tuning.heartbeatSilenceFactor;
    this.timers.silence = this.o.timers.set(() => this.events.lost(`the remote hub went silent: no heartbeat for ${Math.round(ms / 1000)} s`, true), ms);
  }

  private scheduleRenewal(): void {
    this.o.timers.clear(this.timers.renew);
    this.timers.renew = this.o.timers.set(() => void this.renew(), Math.max(1000, this.leaseSeconds * 1000 * this.o.tuning.renewAtFraction));
  }

  /** Renews the remote lease; a failure that may pass is retried on this connection. */
  private async renew(): Promise<void> {
    if (this.retired) return;
    let url: string;
    try {
      url = await this.o.resubscribe(this.endpoint);
    } catch (error) {
      if (this.retired) return;
      const status = error instanceof RemoteError ? error.status : undefined;
      if (status === 404) this.events.lost(`renewing the lease: the remote hub no longer knows the subscription`, false);
      else if (status === 401) this.events.unauthorized(messageOf(error));
      else if (error instanceof RemoteError && !error.transient) this.events.denied(`the remote hub refused to renew the lease: ${error.message}`);
      else this.timers.renew = this.o.timers.set(() => void this.renew(), RENEW_RETRY_MS);
      return;
    }
    if (this.retired) return;
    if (url !== this.endpoint) return this.events.moved(url); // some hubs hand out a new endpoint on renewal
    this.scheduleRenewal(); // the fresh confirmation reschedules with the granted lease
  }
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
