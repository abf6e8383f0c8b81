/**
 * A WebSub subscriber as an engine channel (HUB-WEBSUB-04/05): `send` queues a POST of the
 * notification to the callback, one at a time and in order, signed when there is a secret; the
 * callback's status comes back to the engine as the answer. Confirmations, denials and heartbeats
 * are not for callbacks and are dropped.
 */
import { createHmac, type KeyObject } from 'node:crypto';
import type { ConnectionHandle, SubscriberChannel } from '../hub/index.js';
import { callOut, type CallOut } from './call-out.js';

/** What one webhook channel needs. */
export interface WebhookChannelOptions {
  io: CallOut;
  callback: string;
  /** The HMAC key of `hub.secret`, held as a key object rather than text. */
  key?: KeyObject | undefined;
  /** How long one POST may take; past it the engine's ack timeout speaks (a silent subscriber). */
  timeoutMs: number;
  /** Told once the engine closed the channel (unsubscribed, silent, lease over, shutdown). */
  onClosed(): void;
}

interface Queued {
  id: string;
  body: string;
}

/** The channel. `attach` gives it the engine's handle for the answers. */
export class WebhookChannel implements SubscriberChannel {
  private readonly queue: Queued[] = [];
  private handle: ConnectionHandle | undefined;
  private busy = false;
  private isClosed = false;
  private readonly stop = new AbortController();

  constructor(private readonly o: WebhookChannelOptions) {}

  /** Starts delivering; the engine queued the catch-up while connecting. */
  attach(handle: ConnectionHandle): void {
    this.handle = handle;
    this.pump();
  }

  send(frame: Parameters<SubscriberChannel['send']>[0]): void {
    if (this.isClosed || !('event' in frame) || !('id' in frame)) return;
    if (frame.event['hub.event'] === 'heartbeat') return; // no heartbeats to callbacks
    this.queue.push({ id: frame.id, body: JSON.stringify(frame) });
    this.pump();
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.queue.length = 0;
    this.stop.abort();
    this.o.onClosed();
  }

  /** Takes the key of a new `hub.secret` (a verified re-subscription); undefined stops signing. */
  setKey(key: KeyObject | undefined): void {
    this.o.key = key;
  }

  /** Notifications waiting for their turn (tests, inspection). */
  get queued(): number {
    return this.queue.length;
  }

  private pump(): void {
    if (this.busy || this.isClosed || !this.handle) return;
    const next = this.queue.shift();
    if (!next) return;
    this.busy = true;
    void this.deliver(next)
      .catch(() => undefined) // an engine that refuses the answer must not stop the queue
      .finally(() => {
        this.busy = false;
        this.pump();
      });
  }

  private async deliver(item: Queued): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.o.key) headers['x-hub-signature'] = `sha256=${createHmac('sha256', this.o.key).update(item.body).digest('hex')}`;
    const outcome = await callOut(this.o.io, this.o.callback, { method: 'POST', headers, body: item.body }, this.o.timeoutMs, 0, this.stop.signal);
    if (this.isClosed) return;
    // A timeout says nothing here: the engine's ack deadline reports the silence (HUB-SYNC-06).
    if (outcome.kind === 'answer') this.handle!.receive({ id: item.id, status: ackStatus(outcome.status) });
    else if (outcome.kind === 'network') this.handle!.receive({ id: item.id, status: 502 });
  }
}

/** 2xx is 200; any other status (3xx included) is itself; a status fetch cannot name is a 502. */
export function ackStatus(status: number): number {
  if (status >= 200 && status <= 299) return 200;
  return status >= 300 && status <= 599 ? status : 502;
}
