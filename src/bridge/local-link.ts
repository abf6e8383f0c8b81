/**
 * The bridge's subscription on the local engine: it subscribes and connects an in-process channel
 * like any subscriber, acks every notification, renews its lease, and subscribes again when the
 * engine ends the subscription (lease expiry, ack timeout, restart of the engine's door).
 */
import type { ConnectionHandle, SubscriberChannel } from '../hub/index.js';
import type { Notification } from '../protocol/index.js';
import type { LocalHub, Timers } from './types.js';

/** Settings of the local subscription. */
export interface LocalLinkOptions {
  hub: LocalHub;
  topic: string;
  events: readonly string[];
  subscriberName: string;
  leaseSeconds: number;
  renewAtFraction: number;
  timers: Timers;
  /** A notification from the local topic. `catchUp` is true for the replay sent right after connecting. */
  onNotification(notification: Notification, catchUp: boolean): void;
  /** Something went wrong that the bridge should report. */
  onError(message: string): void;
}

const RESUBSCRIBE_RETRY_MS = 1000;

export class LocalLink {
  private endpoint: string | undefined;
  private handle: ConnectionHandle | undefined;
  private generation = 0;
  private connecting = false;
  private active = false;
  private timer: unknown;

  constructor(private readonly options: LocalLinkOptions) {}

  /** Subscribes on the local topic. Throws the engine's HubError when it refuses (e.g. an unknown event). */
  open(): void {
    const o = this.options;
    this.active = true;
    const sub = o.hub.subscribe({ topic: o.topic, events: o.events, leaseSeconds: o.leaseSeconds, subscriberName: o.subscriberName, channel: 'bridge' });
    this.endpoint = sub.endpoint;
    const generation = ++this.generation;
    const channel: SubscriberChannel = {
      send: (frame) => this.receive(generation, frame),
      close: () => this.lost(generation),
    };
    this.connecting = true;
    try {
      this.handle = o.hub.connect(sub.endpoint, channel);
    } finally {
      this.connecting = false;
    }
    this.scheduleRenewal(sub.leaseSeconds);
  }

  /** Leaves the local topic (unsubscribe; the engine's denial and close are ignored). */
  close(): void {
    this.active = false;
    this.generation++;
    this.options.timers.clear(this.timer);
    const endpoint = this.endpoint;
    this.endpoint = undefined;
    this.handle = undefined;
    if (endpoint) {
      try {
        this.options.hub.unsubscribe(this.options.topic, endpoint);
      } catch {
        // already gone
      }
    }
  }

  private receive(generation: number, frame: unknown): void {
    if (generation !== this.generation || typeof frame !== 'object' || frame === null) return;
    const f = frame as Partial<Notification> & { 'hub.mode'?: string; 'hub.lease_seconds'?: number };
    if (f['hub.mode'] === 'subscribe' && typeof f['hub.lease_seconds'] === 'number' && !this.connecting) {
      this.scheduleRenewal(f['hub.lease_seconds']);
      return;
    }
    if (!f.event || f.event['hub.event'] === 'heartbeat' || typeof f.id !== 'string') return;
    // The engine registers the pending ack only after send() returns, so the ack waits a microtask.
    const id = f.id;
    void Promise.resolve().then(() => {
      if (generation === this.generation) this.handle?.receive({ id, status: 200 });
    });
    this.options.onNotification(f as Notification, this.connecting);
  }

  private lost(generation: number): void {
    if (generation !== this.generation || !this.active) return;
    this.generation++;
    this.handle = undefined;
    this.endpoint = undefined;
    this.retry(0);
  }

  private retry(ms: number): void {
    this.options.timers.clear(this.timer);
    this.timer = this.options.timers.set(() => {
      if (!this.active) return;
      try {
        this.open();
      } catch (error) {
        this.options.onError(`the local hub refused the bridge's subscription: ${String((error as Error).message)}`);
        this.retry(RESUBSCRIBE_RETRY_MS);
      }
    }, ms);
  }

  private scheduleRenewal(leaseSeconds: number): void {
    const o = this.options;
    o.timers.clear(this.timer);
    this.timer = o.timers.set(() => {
      if (!this.active || !this.endpoint) return;
      try {
        const sub = o.hub.subscribe({ topic: o.topic, events: o.events, leaseSeconds: o.leaseSeconds, endpoint: this.endpoint, subscriberName: o.subscriberName });
        this.scheduleRenewal(sub.leaseSeconds);
      } catch {
        this.generation++;
        this.retry(0);
      }
    }, Math.max(1000, leaseSeconds * 1000 * o.renewAtFraction));
  }
}
