/**
 * Subscriptions any instance can serve, and SyncErrors every instance hears (HUB-CLUSTER-02/04).
 * A subscription is stored in Redis for its lease and announced on the control channel; every
 * instance keeps a copy, and the one that gets the WebSocket holds it. Renewals and unsubscribes
 * are announced the same way, so the holder confirms or denies on its socket.
 */
import type { Redis } from 'ioredis';
import type { Hub, SubscribeResult } from '../hub/index.js';
import { adoptSubscription, deliverForeignSyncError, forgetSubscription, shareSubscription, type ReplicaPort, type SharedSubscription } from '../hub/replica.js';
import type { Notification, SubscriptionRequest } from '../protocol/index.js';
import type { ClusterKeys } from './keys.js';

/** What instances tell each other on the control channel (best effort: pub/sub). */
type ControlMessage =
  | { kind: 'subscribe'; origin: string; sub: SharedSubscription; renewal?: boolean }
  | { kind: 'unsubscribe'; origin: string; endpoint: string }
  | { kind: 'syncerror'; origin: string; notification: Notification };

/** The shared side of one instance's subscriptions. */
export class SharedSubscriptions {
  private readonly port: ReplicaPort;

  constructor(
    private readonly cmd: Redis,
    private readonly keys: ClusterKeys,
    private readonly instanceId: string,
    private readonly hub: Hub,
  ) {
    this.port = hub.replicaPort();
  }

  /** A subscription request: an endpoint of another instance is adopted first, the result is shared. */
  async handle(req: SubscriptionRequest, local: (req: SubscriptionRequest) => SubscribeResult): Promise<SubscribeResult> {
    if (req.endpoint !== undefined && !this.port.subscriptions.has(req.endpoint)) await this.adoptEndpoint(req.endpoint);
    const result = local(req);
    if (req.mode === 'unsubscribe') {
      void this.cmd.del(this.keys.subscription(result.endpoint)).catch(() => undefined);
      this.announce({ kind: 'unsubscribe', origin: this.instanceId, endpoint: result.endpoint });
      return result;
    }
    const shared = shareSubscription(this.port, result.endpoint);
    if (shared) {
      void this.store(shared).catch(() => undefined);
      this.announce({ kind: 'subscribe', origin: this.instanceId, sub: shared, renewal: req.endpoint !== undefined });
    }
    return result;
  }

  /** Looks up an endpoint another instance issued and adopts it; false when there is none. */
  async adoptEndpoint(endpoint: string): Promise<boolean> {
    if (this.port.subscriptions.has(endpoint)) return true;
    let text: string | null;
    try {
      text = await this.cmd.get(this.keys.subscription(endpoint));
    } catch {
      return false;
    }
    if (!text) return false;
    adoptSubscription(this.port, JSON.parse(text) as SharedSubscription);
    return true;
  }

  /** Tells the other instances about a SyncError this one raised. */
  announceSyncError(notification: Notification): void {
    this.announce({ kind: 'syncerror', origin: this.instanceId, notification });
  }

  /** Handles a notice from another instance. */
  onControl(text: string): void {
    let message: ControlMessage;
    try {
      message = JSON.parse(text) as ControlMessage;
    } catch {
      return;
    }
    if (message.origin === this.instanceId) return;
    try {
      if (message.kind === 'subscribe') {
        const sub = message.sub;
        if (!this.port.subscriptions.has(sub.endpoint)) adoptSubscription(this.port, sub);
        // A renewal elsewhere: the copy here takes the new events and lease (the socket's holder confirms them).
        else if (message.renewal) this.hub.subscribe({ topic: sub.topic, events: sub.events.split(','), endpoint: sub.endpoint, leaseSeconds: sub.leaseSeconds, subscriberName: sub.name });
      } else if (message.kind === 'unsubscribe') {
        forgetSubscription(this.port, message.endpoint, (topic, endpoint) => this.hub.unsubscribe(topic, endpoint));
      } else if (message.kind === 'syncerror') {
        deliverForeignSyncError(this.port, message.notification);
      }
    } catch {
      // a malformed notice from another instance must not stop this one
    }
  }

  /** Stores every live subscription again (after Redis restarted without its data). */
  async rewriteAll(): Promise<void> {
    for (const endpoint of this.port.subscriptions.keys()) {
      const shared = shareSubscription(this.port, endpoint);
      if (shared) await this.store(shared);
    }
  }

  private store(shared: SharedSubscription): Promise<unknown> {
    return this.cmd.set(this.keys.subscription(shared.endpoint), JSON.stringify(shared), 'PX', shared.leaseSeconds * 1000);
  }

  private announce(message: ControlMessage): void {
    void this.cmd.publish(this.keys.control, JSON.stringify(message)).catch(() => undefined);
  }
}
