/**
 * Subscriptions any instance can serve, and SyncErrors every instance hears (HUB-CLUSTER-02/04).
 * A subscription is stored in Redis for its lease and announced on the control channel; every
 * instance keeps a copy, and the one that gets the WebSocket holds it. Renewals and unsubscribes
 * are announced the same way, so the holder confirms or denies on its socket.
 */
import type { Redis } from 'ioredis';
import type { Hub, SubscribeResult } from '../hub/index.js';
import { adoptSubscription, deliverForeignSyncError, forgetSubscription, pastConnectDeadline, shareSubscription, type ReplicaPort, type SharedSubscription } from '../hub/replica.js';
import { HubError, type Notification, type SubscriptionRequest } from '../protocol/index.js';
import type { ClusterKeys } from './keys.js';
import { clusterTopicBound, isTopicBoundError, type TopicRegistry } from './topic-registry.js';

/** What instances tell each other on the control channel (best effort: pub/sub). */
type ControlMessage =
  | { kind: 'subscribe'; origin: string; sub: SharedSubscription; renewal?: boolean }
  | { kind: 'unsubscribe'; origin: string; endpoint: string }
  | { kind: 'syncerror'; origin: string; notification: Notification };

/** The shared side of one instance's subscriptions. */
export class SharedSubscriptions {
  private readonly port: ReplicaPort;
  /** True while `handle` runs the engine's subscribe: its topic is checked by the store script right after. */
  private storing = false;

  constructor(
    private readonly cmd: Redis,
    private readonly keys: ClusterKeys,
    private readonly instanceId: string,
    private readonly hub: Hub,
    private readonly registry: TopicRegistry,
    /** Whether the health check last reached Redis: while it does not, nothing waits on Redis here. */
    private readonly redisUp: () => boolean,
  ) {
    this.port = hub.replicaPort();
  }

  /**
   * A subscription request: an endpoint of another instance is adopted first, the result is shared.
   * A new subscription takes its topic's slot in the cluster's bound (HUB-CLUSTER-06): refused with
   * 503 and withdrawn here when the cluster is full, or when its topic is new here and Redis cannot
   * be asked.
   */
  async handle(req: SubscriptionRequest, local: (req: SubscriptionRequest) => SubscribeResult): Promise<SubscribeResult> {
    if (req.endpoint !== undefined && !this.port.subscriptions.has(req.endpoint)) await this.adoptEndpoint(req.endpoint);
    const topicWasHere = this.port.hasTopic(req.topic);
    let result: SubscribeResult;
    this.storing = true; // the store script below checks the bound atomically
    try {
      result = local(req);
    } finally {
      this.storing = false;
    }
    if (req.mode === 'unsubscribe') {
      void this.registry.release(result.endpoint, result.topic).catch(() => undefined);
      this.announce({ kind: 'unsubscribe', origin: this.instanceId, endpoint: result.endpoint });
      return result;
    }
    const shared = shareSubscription(this.port, result.endpoint);
    if (!shared) return result;
    const isNew = req.endpoint === undefined;
    try {
      if (!this.redisUp()) throw new Error('Redis is not reachable');
      await this.store(shared, isNew ? this.port.bounds.maxTopics : 0);
    } catch (error) {
      const full = isTopicBoundError(error);
      // An existing topic keeps working while Redis is away; the subscription is shared once it is back (rewriteAll).
      if (isNew && (full || !topicWasHere)) {
        this.port.withdrawSubscription(result.endpoint);
        if (full) throw clusterTopicBound(this.port.bounds);
        throw new HubError(503, 'transient', `the subscription was not made: its topic is new and the cluster's topic bound cannot be checked without Redis (${error instanceof Error ? error.message : String(error)}); retry`);
      }
    }
    this.announce({ kind: 'subscribe', origin: this.instanceId, sub: shared, renewal: !isNew });
    return result;
  }

  /**
   * A subscription made on this engine outside `handle` (a STOMP SUBSCRIBE, a WebSub callback) is
   * about to create `topic`. Those are answered at once, so the check uses the cluster's count as of
   * the last health check (0.5 s old at most) instead of a script, and the topic is registered after.
   */
  admitTopic(topic: string, countNow: number | undefined): void {
    if (this.storing) return;
    if ((countNow ?? 0) >= this.port.bounds.maxTopics) throw clusterTopicBound(this.port.bounds);
    void this.registry.register([topic]).catch(() => undefined);
  }

  /** Notes in Redis that a channel was opened here for `endpoint` (HUB-BOUND-06 across instances). */
  markConnected(endpoint: string): void {
    void this.registry.markConnected(endpoint).catch(() => undefined);
  }

  /** A subscription ended here; one whose channel this instance held no longer counts for its topic anywhere. */
  ended(endpoint: string, topic: string, held: boolean): void {
    if (held) void this.registry.release(endpoint, topic).catch(() => undefined);
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
    const shared = JSON.parse(text) as SharedSubscription;
    // Never opened anywhere and past its connect deadline: the endpoint is dead on every instance (HUB-BOUND-06).
    if (pastConnectDeadline(shared, this.port.clock.now(), this.port.bounds.connectTimeoutMs)) return false;
    adoptSubscription(this.port, shared);
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
        if (!this.port.subscriptions.has(sub.endpoint)) {
          if (!pastConnectDeadline(sub, this.port.clock.now(), this.port.bounds.connectTimeoutMs)) adoptSubscription(this.port, sub);
        }
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
      if (shared) await this.store(shared, 0);
    }
  }

  /** Stores a subscription; `maxTopics` > 0 checks the topic bound (0: a topic the cluster holds already). */
  private store(shared: SharedSubscription, maxTopics: number): Promise<void> {
    const connectMsLeft = (shared.issuedAt ?? this.port.clock.now()) + this.port.bounds.connectTimeoutMs - this.port.clock.now();
    return this.registry.store(shared, connectMsLeft, maxTopics);
  }

  private announce(message: ControlMessage): void {
    void this.cmd.publish(this.keys.control, JSON.stringify(message)).catch(() => undefined);
  }
}
