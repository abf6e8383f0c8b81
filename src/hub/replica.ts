/**
 * Engine inputs for cluster mode (src/cluster): every instance runs a full engine as a replica and
 * applies the same accepted changes in the same order. A change is checked once where it arrives,
 * ordered by the shared log, then applied by every replica with the ids its origin drew, so every
 * replica computes the same versions and the same answer (202, 404 or 409) without talking again.
 */
import { HubError, notFound, validateTopic, type Notification } from '../protocol/index.js';
import { checkChange, type Broadcast } from './context-change.js';
import { randomToken } from './ids.js';
import type { ChannelLabel } from './api-types.js';
import type { HubBounds } from './bounds.js';
import type { HubLogEntry } from './log.js';
import type { Clock, CryptoSource } from './ports.js';
import { parseEventList, type HubSubscription } from './subscriptions.js';

/** What the replica inputs may do inside the engine; given by `Hub.replicaPort()`. */
export interface ReplicaPort {
  readonly clock: Clock;
  readonly crypto: CryptoSource;
  readonly subscriptions: ReadonlyMap<string, HubSubscription>;
  /** The bounds in force (the same flags on every instance). */
  readonly bounds: Readonly<HubBounds>;
  /** The engine's own change path (check, apply, persist, fan out) with the ids given; returns the event id or throws its HubError. */
  applyChange(body: unknown, pathTopic: string | undefined, newId: () => string): string;
  /** Throws the 503 of the topic bound when `topic` would be one topic too many by this replica's count (cluster mode checks the cluster's count in Redis instead, see `shareTopics`). */
  checkRoomForTopic(topic: string): void;
  /**
   * Hands the topic bound and idle-topic forgetting to the cluster (HUB-CLUSTER-06): from now on
   * the engine neither checks `maxTopics` itself nor forgets an idle topic on its own; it reports
   * idle topics and ended subscriptions to `hooks`, and forgets a topic when `forgetTopic` says so.
   */
  shareTopics(hooks: SharedTopicHooks): void;
  /** Applies a "forget topic" entry of the shared log; `kept` when the topic is still in use here. */
  forgetTopic(topic: string): 'forgotten' | 'kept' | 'absent';
  /** True when this replica holds the topic. */
  hasTopic(topic: string): boolean;
  /** Drops a subscription made here a moment ago that the cluster refused (topic bound), with its topic when that is empty. */
  withdrawSubscription(endpoint: string): void;
  /** Adds a subscription built elsewhere, with its deadlines. */
  addSubscription(sub: HubSubscription): void;
  /** Fans a notification out to the topic's local subscribers. */
  broadcast(topic: string, b: Broadcast): void;
  emit(entry: HubLogEntry): void;
}

/** What the engine tells a cluster that bounds topics cluster-wide (see `ReplicaPort.shareTopics`). */
export interface SharedTopicHooks {
  /**
   * A subscription is about to create `topic` here; throws the 503 of the topic bound when the
   * cluster has no room for it. (Not asked for topics the log or an adopted subscription brings.)
   */
  admitTopic(topic: string): void;
  /** A topic without subscribers or open contexts here has been idle for `idleTopicMs`; asked again after each further idle period until forgotten. */
  topicIdle(topic: string): void;
  /** A subscription ended here; `held` when its channel was opened on this instance (a copy that never connected here is not held). */
  subscriptionEnded(endpoint: string, topic: string, held: boolean): void;
}

/** A change as it travels through the shared log: the request, and the ids its origin drew. */
export interface OrderedChange {
  body: { timestamp: string; id: string; event: Record<string, unknown> };
  pathTopic?: string;
  /** Random ids for versions, bundles and derived events, used in the order the engine asks. */
  ids: string[];
}

/** How many ids a change carries; an open with many derived opens continues from the last one. */
const IDS_PER_CHANGE = 12;

/**
 * Checks a request where it arrived (HubError 400 otherwise) and fixes what replicas must agree
 * on: its timestamp and the random ids its application will use.
 */
export function prepareChange(body: unknown, pathTopic: string | undefined, now: number, crypto: CryptoSource): { topic: string; change: OrderedChange } {
  const checked = checkChange(body, pathTopic, now);
  const raw = body as { id: string; event: Record<string, unknown> };
  const change: OrderedChange = {
    body: { timestamp: checked.notification.timestamp, id: raw.id, event: raw.event },
    ids: Array.from({ length: IDS_PER_CHANGE }, () => randomToken(crypto)),
  };
  if (pathTopic !== undefined) change.pathTopic = pathTopic;
  return { topic: checked.topic, change };
}

/**
 * Applies a change the shared log accepted: to the replica's topic state, to its local
 * subscribers, and to storage. Throws the same HubError (404, 409, 413) on every replica.
 */
export function applyOrderedChange(port: ReplicaPort, change: OrderedChange): { id: string } {
  let drawn = 0;
  const newId = () => {
    const i = drawn++;
    return i < change.ids.length ? change.ids[i]! : `${change.ids[change.ids.length - 1]!}${i}`;
  };
  return { id: port.applyChange(change.body, change.pathTopic, newId) };
}

/** A subscription as kept in shared storage, so that any instance can accept its WebSocket. */
export interface SharedSubscription {
  endpoint: string;
  topic: string;
  events: string;
  leaseSeconds: number;
  autoRenew: boolean;
  name: string;
  /** The channel it was made for, so inspect() labels it the same on every instance. */
  channel?: ChannelLabel;
  /** When its issuer made it (ms, the issuer's clock): the connect deadline runs from here (HUB-BOUND-06). */
  issuedAt?: number;
  /** Whether a channel was ever opened for it, on any instance (the holder marks it in shared storage). */
  connected?: boolean;
}

/** Describes a local subscription for shared storage. */
export function shareSubscription(port: ReplicaPort, endpoint: string): SharedSubscription | undefined {
  const sub = port.subscriptions.get(endpoint);
  if (!sub) return undefined;
  return { endpoint, topic: sub.topic, events: sub.eventsText, leaseSeconds: sub.leaseSeconds, autoRenew: sub.autoRenew, name: sub.name, channel: sub.channel, issuedAt: sub.createdAt, connected: sub.confirmed };
}

/**
 * True when a shared subscription can no longer be opened anywhere: it never connected and its
 * connect deadline, counted from when it was issued, has passed (HUB-BOUND-06 cluster-wide).
 */
export function pastConnectDeadline(shared: SharedSubscription, now: number, connectTimeoutMs: number): boolean {
  return shared.connected !== true && shared.issuedAt !== undefined && shared.issuedAt + connectTimeoutMs <= now;
}

/** Takes over a subscription another instance issued, keeping its endpoint (HUB-CLUSTER-02). */
export function adoptSubscription(port: ReplicaPort, shared: SharedSubscription): void {
  if (port.subscriptions.has(shared.endpoint)) return;
  const topic = validateTopic(shared.topic);
  const { filters, text } = parseEventList(shared.events.split(','));
  const now = port.clock.now();
  port.addSubscription({
    endpoint: shared.endpoint,
    topic,
    filters,
    eventsText: text,
    leaseSeconds: shared.leaseSeconds,
    leaseExpiresAt: now + shared.leaseSeconds * 1000,
    confirmed: false,
    autoRenew: shared.autoRenew,
    name: shared.name,
    channel: shared.channel ?? 'stu3',
    // A copy that never connected anywhere keeps its issuer's connect deadline; one that did may be reopened here for its lease.
    createdAt: shared.connected === true ? now : Math.min(now, shared.issuedAt ?? now),
  });
  port.emit({ at: now, type: 'subscribe', topic, subscriber: shared.name, detail: `${text} (issued by another instance)` });
}

/** Ends a subscription another instance was asked to cancel, if this instance holds it. */
export function forgetSubscription(port: ReplicaPort, endpoint: string, unsubscribe: (topic: string, endpoint: string) => void): void {
  const sub = port.subscriptions.get(endpoint);
  if (!sub) return;
  try {
    unsubscribe(sub.topic, endpoint);
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
  }
}

/** Sends a SyncError raised on another instance to this instance's SyncError subscribers, once (HUB-CLUSTER-04). */
export function deliverForeignSyncError(port: ReplicaPort, notification: Notification): void {
  const topic = notification.event['hub.topic'];
  if (typeof topic !== 'string') throw notFound('a SyncError without hub.topic');
  port.broadcast(topic, { canonical: 'SyncError', notification, derived: [], options: { track: false } });
}
