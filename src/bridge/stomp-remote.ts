/**
 * One STOMP 1.2 connection to a remote hub's `{hub.url}/websocket` (channels.md §1), as the `stomp`
 * bridge dialect uses it: CONNECT with the token, one SUBSCRIBE per event (client-individual acks),
 * MESSAGE frames as notifications, SEND with a receipt per outgoing event. The frame codec is
 * tabcast's own (src/stomp); the socket and the timers are injected.
 */
import { encodeFrame, headerOf, type StompFrame } from '../stomp/frame.js';
import { StompParser } from '../stomp/parser.js';
import type { RemoteNotification } from './frames.js';
import { RemoteError } from './remote-http.js';
import type { Timers, WebSocketConstructor, WebSocketLike } from './types.js';

/** The largest frame read from the remote hub (its own limit, channels.md §1). */
const MAX_FRAME_BYTES = 1024 * 1024;
/** Heart-beats asked of the remote hub; silence past 2.5 of them counts as a lost connection. */
const WANTED_HEART_BEAT_MS = 10_000;

/** What a STOMP connection tells its owner. */
export interface StompRemoteHost {
  /** CONNECTED and every SUBSCRIBE acknowledged by its RECEIPT. */
  ready(): void;
  /** A MESSAGE; `answer` ACKs (2xx) or NACKs it with the status. */
  notification(n: RemoteNotification, answer: (status: number) => void): void;
  /** The connection failed or closed; `status` is an ERROR frame's status when there was one. */
  lost(why: string, status: number | undefined): void;
}

/** Settings of one connection. */
export interface StompRemoteOptions {
  /** The remote hub.url (http(s)). */
  hubUrl: string;
  remoteTopic: string;
  events: readonly string[];
  token: string | undefined;
  /** CONNECT's `client-id`: the name the remote gives this bridge's subscriptions. */
  clientId: string;
  WebSocket: WebSocketConstructor;
  timers: Timers;
  /** How long CONNECT and the SUBSCRIBEs may take, and how long a SEND waits for its RECEIPT. */
  timeoutMs: number;
}

/** `ws(s)://…/websocket` for a remote hub.url. */
export function remoteStompUrl(hubUrl: string): string {
  return `${hubUrl.replace(/\/+$/, '').replace(/^http/, 'ws')}/websocket`;
}

/** `/hub/fhircast/<topic>/<event>`, each a percent-encoded path segment. */
function destination(topic: string, event: string): string {
  return `/hub/fhircast/${encodeURIComponent(topic)}/${encodeURIComponent(event)}`;
}

/** A live STOMP connection to the remote hub. */
export class StompRemote {
  private readonly socket: WebSocketLike;
  private readonly parser = new StompParser(MAX_FRAME_BYTES);
  private readonly receipts = new Map<string, { resolve: () => void; reject: (error: RemoteError) => void; timer: unknown }>();
  private counter = 0;
  private closed = false;
  private readyReceipt: string | undefined;
  private silenceLimitMs = 0;
  private silenceTimer: unknown;
  private connectTimer: unknown;

  constructor(
    private readonly o: StompRemoteOptions,
    private readonly host: StompRemoteHost,
  ) {
    // The constructor type names one argument; every real WebSocket takes the sub-protocols too.
    const Ctor = o.WebSocket as unknown as new (url: string, protocols: string[]) => WebSocketLike;
    this.socket = new Ctor(remoteStompUrl(o.hubUrl), ['v12.stomp']);
    this.socket.addEventListener('open' as 'message', () => this.onOpen());
    this.socket.addEventListener('message', (event: { data: unknown }) => this.onData(event.data));
    this.socket.addEventListener('close', (event: { code?: number; reason?: string }) => this.fail(`the remote hub closed the connection (code ${event.code ?? 1006}${event.reason ? `: ${event.reason}` : ''})`, undefined));
    this.socket.addEventListener('error', () => undefined);
    this.connectTimer = o.timers.set(() => this.fail(`no CONNECTED and RECEIPT from the remote STOMP endpoint within ${o.timeoutMs} ms`, undefined), o.timeoutMs);
  }

  /** SENDs a context change to its event's destination; resolves at its RECEIPT, rejects with a RemoteError. */
  send(request: { event?: { 'hub.event'?: unknown } }): Promise<void> {
    if (this.closed) return Promise.reject(new RemoteError('the STOMP connection is closed', undefined));
    const receipt = `send-${++this.counter}`;
    const name = String(request.event?.['hub.event'] ?? '');
    return new Promise<void>((resolve, reject) => {
      const timer = this.o.timers.set(() => {
        this.receipts.delete(receipt);
        reject(new RemoteError(`no RECEIPT for a SEND within ${this.o.timeoutMs} ms`, undefined));
      }, this.o.timeoutMs);
      this.receipts.set(receipt, { resolve, reject, timer });
      this.write({ command: 'SEND', headers: [['destination', destination(this.o.remoteTopic, name)], ['content-type', 'application/json'], ['receipt', receipt]], body: JSON.stringify(request) });
    });
  }

  /** DISCONNECT, then closes with 1000 (a stopped bridge). */
  close(): void {
    if (this.closed) return;
    this.write({ command: 'DISCONNECT', headers: [], body: '' });
    this.shut('bridge stopped');
    try {
      this.socket.close(1000, 'bridge stopped');
    } catch {
      // already closed
    }
  }

  private onOpen(): void {
    const headers: Array<[string, string]> = [
      ['accept-version', '1.2'],
      ['host', new URL(this.o.hubUrl).host],
      ['heart-beat', `0,${WANTED_HEART_BEAT_MS}`],
      ['client-id', this.o.clientId],
    ];
    if (this.o.token) headers.push(['passcode', this.o.token], ['Authorization', `Bearer ${this.o.token}`]);
    this.write({ command: 'CONNECT', headers, body: '' });
  }

  private onData(data: unknown): void {
    if (this.closed) return;
    this.armSilence();
    let frames: StompFrame[];
    try {
      const chunk = typeof data === 'string' ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : data instanceof Uint8Array ? data : String(data);
      frames = this.parser.push(chunk).frames;
    } catch (error) {
      this.fail(`the remote hub sent a frame that cannot be read: ${error instanceof Error ? error.message : String(error)}`, undefined);
      return;
    }
    for (const frame of frames) if (!this.closed) this.onFrame(frame);
  }

  private onFrame(frame: StompFrame): void {
    switch (frame.command) {
      case 'CONNECTED':
        return this.onConnected(frame);
      case 'RECEIPT':
        return this.onReceipt(headerOf(frame, 'receipt-id') ?? '');
      case 'MESSAGE':
        return this.onMessage(frame);
      case 'ERROR': {
        const status = Number(headerOf(frame, 'status'));
        const error = new RemoteError(headerOf(frame, 'message') ?? 'the remote hub sent ERROR', Number.isInteger(status) ? status : undefined);
        const pending = this.receipts.get(headerOf(frame, 'receipt-id') ?? '');
        if (pending) {
          // A refused SEND: its promise says why; the connection ends (STOMP closes after ERROR).
          this.receipts.delete(headerOf(frame, 'receipt-id')!);
          this.o.timers.clear(pending.timer);
          pending.reject(error);
        }
        return this.fail(error.message, error.status);
      }
      default:
        return undefined;
    }
  }

  private onConnected(frame: StompFrame): void {
    const [sx] = (headerOf(frame, 'heart-beat') ?? '0,0').split(',').map((v) => Number(v.trim()) || 0);
    this.silenceLimitMs = sx! > 0 ? Math.max(sx!, WANTED_HEART_BEAT_MS) * 2.5 : 0;
    this.armSilence();
    this.readyReceipt = `subscribed-${++this.counter}`;
    this.o.events.forEach((event, i) => {
      const headers: Array<[string, string]> = [
        ['id', `s${i}`],
        ['destination', destination(this.o.remoteTopic, event)],
        ['ack', 'client-individual'],
      ];
      if (i === this.o.events.length - 1) headers.push(['receipt', this.readyReceipt!]);
      this.write({ command: 'SUBSCRIBE', headers, body: '' });
    });
  }

  private onReceipt(id: string): void {
    if (id === this.readyReceipt) {
      this.readyReceipt = undefined;
      this.o.timers.clear(this.connectTimer);
      this.host.ready();
      return;
    }
    const pending = this.receipts.get(id);
    if (!pending) return;
    this.receipts.delete(id);
    this.o.timers.clear(pending.timer);
    pending.resolve();
  }

  private onMessage(frame: StompFrame): void {
    const token = headerOf(frame, 'ack');
    const answer = (status: number) => {
      if (this.closed || token === undefined) return;
      const ok = status >= 200 && status <= 299;
      this.write({ command: ok ? 'ACK' : 'NACK', headers: ok ? [['id', token]] : [['id', token], ['status', String(status)]], body: '' });
    };
    let body: unknown;
    try {
      body = JSON.parse(frame.body);
    } catch {
      return answer(400);
    }
    const n = body as RemoteNotification;
    if (typeof n !== 'object' || n === null || typeof n.event !== 'object' || n.event === null) return answer(400);
    this.host.notification(n, answer);
  }

  private armSilence(): void {
    this.o.timers.clear(this.silenceTimer);
    if (this.silenceLimitMs > 0) this.silenceTimer = this.o.timers.set(() => this.fail(`no heart-beat from the remote hub for ${this.silenceLimitMs} ms`, undefined), this.silenceLimitMs);
  }

  private write(frame: StompFrame): void {
    try {
      this.socket.send(encodeFrame(frame));
    } catch {
      // the close that follows reports it
    }
  }

  private fail(why: string, status: number | undefined): void {
    if (this.closed) return;
    this.shut(why);
    try {
      this.socket.close(4000, 'reconnecting');
    } catch {
      // already closed
    }
    this.host.lost(why, status);
  }

  private shut(why: string): void {
    this.closed = true;
    this.o.timers.clear(this.connectTimer);
    this.o.timers.clear(this.silenceTimer);
    for (const [id, pending] of this.receipts) {
      this.receipts.delete(id);
      this.o.timers.clear(pending.timer);
      pending.reject(new RemoteError(why, undefined));
    }
  }
}
