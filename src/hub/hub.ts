/**
 * The FHIRcast engine: a state machine over topics, subscriptions, open contexts and content.
 * Inputs are method calls; outputs go to injected channels and storage. Deadlines (acks, leases,
 * heartbeats) are reported through `onWake` and run when the door calls `tick()`.
 */
import {
  CATALOG_EVENT_NAMES,
  HubError,
  badRequest,
  conflict,
  entryIdentity,
  matchEvent,
  notFound,
  notificationSpelling,
  parseContextChangeRequest,
  resolveEventName,
  validateContext,
  validateTopic,
  type ContextEntry,
  type EventDefinition,
  type GetContextResponse,
  type Notification,
  type ResourceIdentity,
  type SubscriptionRequest,
  type WellKnownConfiguration,
} from '../protocol/index.js';
import { applyUpdates } from './content-sharing.js';
import { Identity, type IdentityRecord, type UsersConfig } from './identity.js';
import { randomToken } from './ids.js';
import { HubLog, type HubLogEntry } from './log.js';
import { TopicContexts, type DerivedOpen, type OpenContext, type TopicRecord } from './open-contexts.js';
import { CoalescingWriter } from './persistence.js';
import type { Clock, CryptoSource, HeartbeatFrame, HubStorage, SubscriberChannel } from './ports.js';
import { buildSyncError, reasonForStatus, type SyncErrorCause } from './sync-errors.js';
import { parseEventList, type Connection, type Subscription } from './subscriptions.js';

/** Engine settings; every one has a default except the injected ports. */
export interface HubOptions {
  clock: Clock;
  crypto: CryptoSource;
  storage: HubStorage;
  /** Ack timeout in ms (HUB-SYNC-06); 0 turns it off (HUB-TOLERANT-08). Default 10 000. */
  ackTimeoutMs?: number;
  /** Heartbeat period in ms (HUB-HEART-01); 0 turns heartbeats off. Default 10 000. */
  heartbeatMs?: number;
  /** Lease granted when none is asked (HUB-SUB-09). Default 7200 s. */
  defaultLeaseSeconds?: number;
  /** Largest lease granted. Default 86 400 s. */
  maxLeaseSeconds?: number;
  /** Called with the earliest deadline whenever it changes; the door then calls `tick()` at that time. */
  onWake?: (at: number | undefined) => void;
  /** Called when a storage write fails; the hub keeps serving from memory. */
  onStorageError?: (error: unknown) => void;
}

/** The answer to an accepted context change. */
export interface PublishResult {
  status: 202;
  id: string;
}

/** What a subscribe needs, whichever door it came through. */
export interface SubscribeInput {
  topic: string;
  events: readonly string[];
  leaseSeconds?: number;
  /** An existing endpoint of the same topic: replace its events (re-subscribe). */
  endpoint?: string;
  subscriberName?: string;
}

/** A subscription as the answer to subscribe states it. */
export interface SubscribeResult {
  endpoint: string;
  topic: string;
  events: string;
  leaseSeconds: number;
}

/** The hub side of one connected channel: the door feeds frames and the close into it. */
export interface ConnectionHandle {
  /** A frame from the subscriber: JSON text or an already parsed value. */
  receive(frame: unknown): void;
  /** The transport closed with this code. `endSubscription` also drops the subscription (dead tab). */
  closed(code: number, options?: { endSubscription?: boolean }): void;
}

/** A read-only view of the hub for consoles and tests. */
export interface HubSnapshot {
  storage: { ok: boolean; lastError?: string };
  topics: Array<{
    topic: string;
    current?: string;
    subscribers: Array<{ name: string; events: string; leaseRemainingSeconds: number; connected: boolean; lastAck?: { at: number; status: number }; pending: number }>;
    open: Array<{ type: string; id: string; versionId: string; event: string; contentCount: number; current: boolean }>;
  }>;
}

const NORMAL_CLOSES = new Set([1000, 1001, 1005]);
const MAX_PENDING_PER_CONNECTION = 1000;

export class Hub {
  private readonly clock: Clock;
  private readonly crypto: CryptoSource;
  private readonly writer: CoalescingWriter;
  private readonly identity: Identity;
  private readonly topics = new Map<string, TopicContexts>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly log = new HubLog();
  private readonly ackTimeoutMs: number;
  private readonly heartbeatMs: number;
  private readonly defaultLease: number;
  private readonly maxLease: number;
  private readonly onWake?: (at: number | undefined) => void;
  private nextHeartbeatAt: number | undefined;
  private lastSeenNow: number;
  private armedAt: number | undefined;
  private unnamedCount = 0;

  private constructor(options: HubOptions, restored: Map<string, unknown>) {
    this.clock = options.clock;
    this.lastSeenNow = options.clock.now();
    this.crypto = options.crypto;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.defaultLease = options.defaultLeaseSeconds ?? 7200;
    this.maxLease = options.maxLeaseSeconds ?? 86_400;
    this.onWake = options.onWake;
    this.writer = new CoalescingWriter(options.storage, (error) => {
      this.log.emit({ at: this.clock.now(), type: 'storage-error', detail: String(error) });
      options.onStorageError?.(error);
    });
    for (const [key, value] of restored) {
      if (key.startsWith('topic:') && value && typeof value === 'object') {
        const rec = value as TopicRecord;
        this.topics.set(rec.topic, new TopicContexts(rec));
      }
    }
    this.identity = new Identity(this.crypto, restored.get('identity') as IdentityRecord | undefined);
  }

  /** Builds an engine and restores topics, groups, open contexts and content from storage (HUB-PERSIST-07). */
  static async create(options: HubOptions): Promise<Hub> {
    return new Hub(options, await options.storage.loadAll());
  }

  // ---- topics and identity -------------------------------------------------------------

  /** Creates a new unguessable topic (HUB-SEC-02) and persists it. */
  createTopic(): string {
    const topic = randomToken(this.crypto);
    this.topicState(topic, true);
    return topic;
  }

  /** Every topic the hub knows: created, from groups, or used. */
  topicIds(): string[] {
    return [...this.topics.keys()];
  }

  /** Applies a users file (HUB-ID-09); topics of groups persist across restarts (HUB-PERSIST-01). */
  async configureUsers(config: UsersConfig): Promise<void> {
    const topics = await this.identity.configure(config);
    for (const t of topics) this.topicState(t, true);
    await this.writer.mark('identity', () => this.identity.toRecord());
  }

  /** True when a users file is configured (GetTopic and Bearer checks are on). */
  get usersConfigured(): boolean {
    return this.identity.configured;
  }

  /** Checks the app-wide secret in constant time (HUB-ID-07). */
  verifySecret(secret: string): Promise<boolean> {
    return this.identity.verify(secret);
  }

  /** GetTopic of the 2019 proposal (HUB-ID-01..05). Throws HubError 400/401/403/404. */
  async getTopic(username: string | null | undefined, secret: string | null | undefined): Promise<string> {
    if (!this.identity.configured) throw notFound('gettopic is not available: the hub has no users configured');
    return this.identity.getTopic(username, secret);
  }

  /** The `.well-known/fhircast-configuration` document (HUB-DISC-01..06). */
  wellKnown(): WellKnownConfiguration {
    return {
      eventsSupported: [...CATALOG_EVENT_NAMES],
      websocketSupport: true,
      fhircastVersion: '3.0.0',
      fhirVersion: 'R4',
      getCurrentSupport: true,
      capabilities: { supportsGetCurrentContext: true, supportsNonCurrentContextUpdates: true },
    };
  }

  // ---- subscriptions -------------------------------------------------------------------

  /** Handles a validated subscribe or unsubscribe request. Throws HubError (400/404). */
  handleSubscriptionRequest(req: SubscriptionRequest): SubscribeResult {
    return req.mode === 'unsubscribe' ? this.unsubscribe(req.topic, req.endpoint!) : this.subscribe(req);
  }

  /**
   * Creates a subscription, or replaces the events of an existing one when `endpoint` is given
   * (HUB-SUB-11/12). Throws HubError 400 for unknown events, 404 for an endpoint of another topic.
   */
  subscribe(req: SubscribeInput): SubscribeResult {
    const topic = validateTopic(req.topic);
    const { filters, text } = parseEventList(req.events);
    if (req.leaseSeconds !== undefined && !(Number.isSafeInteger(req.leaseSeconds) && req.leaseSeconds > 0)) {
      throw badRequest(`hub.lease_seconds must be a positive integer, got ${String(req.leaseSeconds)}`, 'value');
    }
    const lease = Math.min(req.leaseSeconds ?? this.defaultLease, this.maxLease);
    const now = this.clock.now();
    let sub: Subscription;
    if (req.endpoint) {
      const existing = this.subscriptions.get(req.endpoint);
      if (!existing || existing.topic !== topic) throw notFound('hub.channel.endpoint is not a live subscription of this hub.topic');
      sub = existing;
      sub.filters = filters;
      sub.eventsText = text;
      sub.leaseSeconds = lease;
      sub.leaseExpiresAt = now + lease * 1000;
      if (req.subscriberName) sub.name = req.subscriberName;
      if (sub.connection?.open) this.send(sub.connection.channel, this.confirmation(sub), sub);
    } else {
      sub = {
        endpoint: randomToken(this.crypto),
        topic,
        filters,
        eventsText: text,
        leaseSeconds: lease,
        leaseExpiresAt: now + lease * 1000,
        confirmed: false,
        name: req.subscriberName ?? `unnamed subscriber ${++this.unnamedCount}`,
        createdAt: now,
      };
      this.subscriptions.set(sub.endpoint, sub);
      this.topicState(topic, false);
    }
    this.log.emit({ at: now, type: 'subscribe', topic, subscriber: sub.name, detail: text });
    this.rearm();
    return { endpoint: sub.endpoint, topic, events: text, leaseSeconds: lease };
  }

  /** Cancels a subscription: denial, close 1000, endpoint forgotten (HUB-SUB-13/14/15). */
  unsubscribe(topic: string, endpoint: string): SubscribeResult {
    const sub = this.subscriptions.get(endpoint);
    if (!sub || sub.topic !== topic) throw notFound('hub.channel.endpoint is not a live subscription of this hub.topic');
    this.endSubscription(sub, 'unsubscribed at the subscriber\u2019s request');
    this.rearm();
    return { endpoint, topic, events: sub.eventsText, leaseSeconds: 0 };
  }

  /** True when the endpoint is a live subscription (WebSocket upgrades to others get 404). */
  hasEndpoint(endpoint: string): boolean {
    return this.subscriptions.has(endpoint);
  }

  /**
   * Attaches a channel to an endpoint: sends the confirmation, then the catch-up (HUB-SUB-07,
   * HUB-CTX-06..08). A newer connection replaces an older one (HUB-TOLERANT-07). Throws 404.
   */
  connect(endpoint: string, channel: SubscriberChannel): ConnectionHandle {
    const sub = this.subscriptions.get(endpoint);
    if (!sub) throw notFound('no live subscription at this endpoint');
    const now = this.clock.now();
    const previous = sub.connection;
    if (previous?.open) {
      previous.open = false;
      previous.pending.clear();
      this.closeChannel(previous.channel, 1000, 'replaced by a newer connection to this endpoint');
    }
    const conn: Connection = { subscription: sub, channel, pending: new Map(), open: true };
    sub.connection = conn;
    if (!sub.confirmed) {
      sub.confirmed = true;
      sub.leaseExpiresAt = now + sub.leaseSeconds * 1000;
    }
    this.send(channel, this.confirmation(sub), sub);
    this.sendCatchUp(conn);
    if (this.heartbeatMs > 0 && this.nextHeartbeatAt === undefined) this.nextHeartbeatAt = now + this.heartbeatMs;
    this.log.emit({ at: now, type: 'connect', topic: sub.topic, subscriber: sub.name });
    this.rearm();
    return {
      receive: (frame) => this.receive(conn, frame),
      closed: (code, options) => this.closed(conn, code, options?.endSubscription ?? false),
    };
  }

  private confirmation(sub: Subscription) {
    return {
      'hub.mode': 'subscribe' as const,
      'hub.topic': sub.topic,
      'hub.events': sub.eventsText,
      'hub.lease_seconds': Math.max(0, Math.round((sub.leaseExpiresAt - this.clock.now()) / 1000)),
    };
  }

  private endSubscription(sub: Subscription, reason: string): void {
    this.subscriptions.delete(sub.endpoint);
    const conn = sub.connection;
    if (conn?.open) {
      conn.open = false;
      conn.pending.clear();
      this.send(conn.channel, { 'hub.mode': 'denied', 'hub.topic': sub.topic, 'hub.events': sub.eventsText, 'hub.reason': reason }, sub);
      this.closeChannel(conn.channel, 1000, reason);
    }
    this.log.emit({ at: this.clock.now(), type: 'denied', topic: sub.topic, subscriber: sub.name, detail: reason });
  }

  // ---- frames from subscribers -----------------------------------------------------------

  private receive(conn: Connection, frame: unknown): void {
    if (!conn.open) return;
    let value = frame;
    if (typeof frame === 'string') {
      try {
        value = JSON.parse(frame);
      } catch {
        return; // HUB-ACK-07: not JSON, ignored
      }
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const msg = value as Record<string, unknown>;
    if (msg.event !== undefined) return; // publishing over the socket is not in the spec: ignored
    const status = readStatus(msg);
    if (status === undefined) return; // e.g. OHIF's {"hub.channel.endpoint": …}
    // HUB-TOLERANT-06: only an answer that carries no id at all goes to the oldest unanswered
    // notification; an id that is not a string can match nothing (HUB-ACK-05).
    if (msg.id !== undefined && msg.id !== null && typeof msg.id !== 'string') return;
    const id = typeof msg.id === 'string' ? msg.id : undefined;
    const pending = id !== undefined ? conn.pending.get(id) : conn.pending.values().next().value;
    if (!pending) return; // HUB-ACK-05
    conn.pending.delete(pending.id);
    const sub = conn.subscription;
    const now = this.clock.now();
    sub.lastAck = { at: now, status };
    this.log.emit({ at: now, type: 'ack', topic: sub.topic, subscriber: sub.name, eventId: pending.id, event: pending.name, status });
    if (status < 200 || status > 299) {
      this.raiseSyncError(sub, { topic: sub.topic, eventId: pending.id, eventName: pending.name, subscriberName: sub.name, reason: reasonForStatus(status) });
    }
    this.rearm();
  }

  private closed(conn: Connection, code: number, endSubscription: boolean): void {
    if (!conn.open) return;
    conn.open = false;
    conn.pending.clear();
    const sub = conn.subscription;
    if (sub.connection === conn) sub.connection = undefined;
    const normal = NORMAL_CLOSES.has(code);
    this.log.emit({ at: this.clock.now(), type: 'close', topic: sub.topic, subscriber: sub.name, status: code });
    if (!normal) {
      // HUB-SYNC-08: an abnormal close is reported once; the subscription may reconnect (HUB-TOLERANT-07).
      this.raiseSyncError(sub, {
        topic: sub.topic,
        eventId: conn.lastEvent?.id,
        eventName: conn.lastEvent?.name,
        subscriberName: sub.name,
        reason: `lost its connection (close code ${code})`,
      });
    }
    if (normal || endSubscription) this.subscriptions.delete(sub.endpoint);
    this.rearm();
  }

  // ---- request context change -----------------------------------------------------------

  /**
   * Request context change (fhircast-spec.md §5). Validates, applies and broadcasts synchronously;
   * resolves with 202 once the change is durable. Rejects with a HubError (400/404/409/413).
   */
  publish(body: unknown, options: { pathTopic?: string } = {}): Promise<PublishResult> {
    let result: { id: string; durable: Promise<void> | undefined };
    try {
      result = this.applyChange(body, options.pathTopic);
    } catch (error) {
      if (error instanceof HubError) this.log.emit({ at: this.clock.now(), type: 'reject', status: error.status, detail: error.message, ...describeRequest(body, options.pathTopic) });
      return Promise.reject(error);
    } finally {
      this.rearm();
    }
    const accepted: PublishResult = { status: 202, id: result.id };
    if (!result.durable) return Promise.resolve(accepted);
    return result.durable.then(
      () => accepted,
      (error: unknown) => {
        throw new HubError(503, 'transient', `the change was applied and broadcast but could not be stored durably: ${String(error)}`);
      },
    );
  }

  private applyChange(body: unknown, pathTopic: string | undefined): { id: string; durable: Promise<void> | undefined } {
    const request = parseContextChangeRequest(body);
    const event = request.event;
    const rawName = event['hub.event'];
    const bodyTopic = event['hub.topic'];
    if (pathTopic !== undefined && bodyTopic !== undefined && bodyTopic !== pathTopic) {
      throw badRequest(`${rawName}: event.hub.topic ${JSON.stringify(bodyTopic)} differs from the topic in the URL ${JSON.stringify(pathTopic)}`, 'value');
    }
    const topic = validateTopic(bodyTopic ?? pathTopic, `${rawName}: event.hub.topic`);
    const resolved = resolveEventName(rawName);
    if (!resolved) throw badRequest(`event.hub.event ${JSON.stringify(rawName)} is not an event this hub knows (catalog, <ResourceType>-open/close/update/select, or a reverse-domain name)`, 'not-supported');
    const def = resolved.definition;
    const context = validateContext(def, resolved.name, event.context, { allowEmpty: resolved.legacy === 'user-logout' });
    const timestamp = request.timestamp ?? new Date(this.clock.now()).toISOString();
    const notification: Notification = {
      timestamp,
      id: request.id,
      event: { ...event, 'hub.topic': topic, 'hub.event': notificationSpelling(resolved.name), context },
    };
    // A topic is only added once its first change is accepted: refused requests leave no trace (HUB-CHANGE-14).
    const known = this.topics.get(topic);
    const state = known ?? new TopicContexts({ topic, createdAt: this.clock.now(), seq: 0, contexts: [] });
    const changed = this.applyToTopic(state, def, resolved.name, notification);
    if (!known) this.topics.set(topic, state);
    this.log.emit({ at: this.clock.now(), type: 'publish', topic, eventId: notification.id, event: resolved.name, detail: notification });
    const durable = changed ? this.persistTopic(state) : undefined;
    return { id: request.id, durable };
  }

  /** Applies an accepted event to the topic, broadcasts it, and tells whether state changed. */
  private applyToTopic(state: TopicContexts, def: EventDefinition, name: string, notification: Notification): boolean {
    const context = notification.event.context;
    const anchorEntry = def.anchorKey ? context.find((e) => e.key === def.anchorKey) : undefined;
    const anchor = entryIdentity(anchorEntry);
    switch (def.kind) {
      case 'open': {
        if (!anchor) break; // a relay-only open without an identifiable anchor
        const versionId = randomToken(this.crypto);
        notification.event['context.versionId'] = versionId;
        delete notification.event['context.priorVersionId'];
        const { implied, live } = this.deriveOpens(state, def, notification);
        state.open(anchor, notification, versionId, () => randomToken(this.crypto), implied);
        this.broadcast(state.record.topic, name, notification, live);
        return true;
      }
      case 'close': {
        this.broadcast(state.record.topic, name, notification);
        return anchor ? state.close(anchor) : false;
      }
      case 'update': {
        const ctx = this.openAnchor(state, def, anchor, name);
        const versionId = notification.event['context.versionId'] ?? (notification.event.versionId as string | undefined);
        if (typeof versionId !== 'string' || versionId === '') {
          throw badRequest(`${name}: context.versionId is required on updates (the version your content is based on)`, 'required');
        }
        const updates = context.find((e) => e.key === 'updates')?.resource as Record<string, unknown> | undefined;
        const content = applyUpdates(name, ctx.content, updates ?? {});
        if (versionId !== ctx.versionId) {
          throw conflict(`${name}: context.versionId ${JSON.stringify(versionId)} is stale; the current version of ${ctx.anchorType}/${ctx.anchorId} is ${JSON.stringify(ctx.versionId)}. Read the context again and retry`);
        }
        const next = randomToken(this.crypto);
        ctx.content = content;
        ctx.versionId = next;
        notification.event['context.versionId'] = next;
        notification.event['context.priorVersionId'] = versionId;
        this.broadcast(state.record.topic, name, notification);
        return true;
      }
      case 'select': {
        this.openAnchor(state, def, anchor, name);
        this.broadcast(state.record.topic, name, notification);
        return false;
      }
      case 'home':
        this.broadcast(state.record.topic, name, notification);
        state.clearCurrent();
        return true;
      case 'logout':
        this.broadcast(state.record.topic, name, notification);
        state.closeAll();
        return true;
      case 'syncerror':
        this.broadcast(state.record.topic, name, notification, [], { track: false });
        return false;
      default:
        this.broadcast(state.record.topic, name, notification);
        return false;
    }
    this.broadcast(state.record.topic, name, notification);
    return false;
  }

  private openAnchor(state: TopicContexts, def: EventDefinition, anchor: ResourceIdentity | undefined, name: string): OpenContext {
    const ctx = anchor ? state.find(anchor) : undefined;
    if (!ctx) {
      const what = anchor ? `${anchor.type}/${anchor.id}` : `the ${def.anchorKey} named`;
      throw notFound(`${name}: ${what} is not an open context on this topic; open it first`);
    }
    return ctx;
  }

  /**
   * Computes the derived opens of an open event (fhircast-spec.md §6.4, HUB-CTX-09..13): every
   * implied open is kept with the context (a later catch-up may need it, HUB-CTX-06), but only
   * those whose resource is not open yet go out live (HUB-CTX-13).
   */
  private deriveOpens(state: TopicContexts, def: EventDefinition, source: Notification): { implied: DerivedOpen[]; live: DerivedOpen[] } {
    const derived: DerivedOpen[] = [];
    const live: DerivedOpen[] = [];
    for (const implied of def.implies ?? []) {
      const entries = source.event.context.filter((e) => e.key === implied.fromKey);
      for (const entry of entries) {
        const identity = entryIdentity(entry);
        if (!identity) continue;
        const alreadyOpen = state.isOpen(identity);
        const extra = source.event.context.filter((e) => implied.withKeys.includes(e.key));
        const context: ContextEntry[] = [entry, ...extra];
        const open: DerivedOpen = {
          event: implied.event,
          type: identity.type,
          id: identity.id,
          notification: {
            timestamp: source.timestamp,
            id: randomToken(this.crypto),
            event: { 'hub.topic': source.event['hub.topic'], 'hub.event': implied.event, context, 'context.versionId': randomToken(this.crypto) },
          },
        };
        derived.push(open);
        if (!alreadyOpen) live.push(open);
      }
    }
    return { implied: derived, live };
  }

  // ---- delivery --------------------------------------------------------------------------

  /** Sends an event to every matching subscriber of the topic; derived opens go to those who lack the source. */
  private broadcast(topic: string, canonical: string, notification: Notification, derived: DerivedOpen[] = [], options: { track?: boolean; exclude?: Subscription } = {}): void {
    for (const sub of this.subscriptions.values()) {
      if (sub.topic !== topic || sub === options.exclude) continue;
      const conn = sub.connection;
      if (!conn?.open) continue;
      const deliveredAs = matchEvent(sub.filters, canonical, notificationSpelling(canonical));
      if (deliveredAs) {
        this.deliver(conn, notification, deliveredAs, options.track ?? true);
        continue;
      }
      for (const d of derived) {
        const as = matchEvent(sub.filters, d.event, d.event);
        if (as) this.deliver(conn, d.notification, as, true);
      }
    }
  }

  private deliver(conn: Connection, notification: Notification, deliveredAs: string, track: boolean): void {
    const frame = notification.event['hub.event'] === deliveredAs ? notification : { ...notification, event: { ...notification.event, 'hub.event': deliveredAs } };
    conn.lastEvent = { id: notification.id, name: deliveredAs };
    // Pending is recorded before sending: an in-process channel may answer from inside send().
    if (track) {
      if (conn.pending.size >= MAX_PENDING_PER_CONNECTION) conn.pending.delete(conn.pending.keys().next().value!);
      conn.pending.delete(notification.id); // a resend moves to the back (HUB-CHANGE-16)
      conn.pending.set(notification.id, {
        id: notification.id,
        name: deliveredAs,
        deadline: this.ackTimeoutMs > 0 ? this.clock.now() + this.ackTimeoutMs : Number.POSITIVE_INFINITY,
      });
    }
    this.send(conn.channel, frame, conn.subscription);
  }

  /** One broken transport must never stop a broadcast to the others or leave state half-applied. */
  private send(channel: SubscriberChannel, frame: Parameters<SubscriberChannel['send']>[0], sub: Subscription): void {
    try {
      channel.send(frame);
    } catch (error) {
      this.log.emit({ at: this.clock.now(), type: 'close', topic: sub.topic, subscriber: sub.name, detail: `send failed: ${String(error)}` });
    }
  }

  private closeChannel(channel: SubscriberChannel, code: number, reason: string): void {
    try {
      channel.close(code, clampCloseReason(reason));
    } catch {
      // the transport is already gone; nothing left to close
    }
  }

  /** Catch-up after the confirmation: the latest open per anchor type, oldest first (HUB-CTX-06..08). */
  private sendCatchUp(conn: Connection): void {
    const state = this.topics.get(conn.subscription.topic);
    if (!state) return;
    const filters = conn.subscription.filters;
    const best = new Map<string, { seq: number; notification: Notification; as: string }>();
    const consider = (type: string, seq: number, notification: Notification, as: string) => {
      const prev = best.get(type);
      if (!prev || prev.seq < seq) best.set(type, { seq, notification, as });
    };
    for (const ctx of state.record.contexts) {
      const name = ctx.notification.event['hub.event'];
      const as = matchEvent(filters, name, name);
      if (as) {
        const event = { ...ctx.notification.event, 'context.versionId': ctx.versionId };
        delete event['context.priorVersionId'];
        consider(ctx.anchorType, ctx.seq, { ...ctx.notification, event }, as);
      } else {
        for (const d of ctx.derived) {
          // A resource open as its own context is not re-announced through a derived open (HUB-CTX-13).
          if (state.find({ type: d.type, id: d.id })) continue;
          const dAs = matchEvent(filters, d.event, d.event);
          if (dAs) consider(d.type, ctx.seq, d.notification, dAs);
        }
      }
    }
    const ordered = [...best.values()].sort((a, b) => a.seq - b.seq);
    for (const item of ordered) this.deliver(conn, item.notification, item.as, true);
  }

  /** Generates a SyncError to the topic's other subscribers of SyncError (HUB-SYNC-01..05). */
  private raiseSyncError(about: Subscription, cause: SyncErrorCause): void {
    const now = this.clock.now();
    const n = buildSyncError(cause, randomToken(this.crypto), new Date(now).toISOString());
    this.log.emit({ at: now, type: 'syncerror', topic: cause.topic, subscriber: cause.subscriberName, eventId: cause.eventId, event: cause.eventName, detail: n });
    this.broadcast(cause.topic, 'SyncError', n, [], { track: false, exclude: about });
  }

  // ---- get context -----------------------------------------------------------------------

  /** The topic's current context (HUB-GET-01..05); an unknown topic gets the empty shape. */
  getContext(topic: string): GetContextResponse {
    const state = this.topics.get(topic);
    return state ? structuredCloneJson(state.getContext()) : { 'context.type': '', context: [] };
  }

  // ---- time ------------------------------------------------------------------------------

  /** The earliest deadline (ms) the door should call `tick()` at, if any. */
  nextDeadline(): number | undefined {
    let min = Number.POSITIVE_INFINITY;
    let anyConnected = false;
    for (const sub of this.subscriptions.values()) {
      min = Math.min(min, sub.leaseExpiresAt);
      const conn = sub.connection;
      if (conn?.open) {
        anyConnected = true;
        const first = conn.pending.values().next().value;
        if (first) for (const p of conn.pending.values()) min = Math.min(min, p.deadline);
      }
    }
    if (anyConnected && this.nextHeartbeatAt !== undefined) min = Math.min(min, this.nextHeartbeatAt);
    return Number.isFinite(min) ? min : undefined;
  }

  /** Runs everything due at the clock's current time: ack timeouts, lease expiry, heartbeats. */
  tick(): void {
    this.followClockSteps();
    const now = this.clock.now();
    // Heartbeats first: a heartbeat due at the same moment as an ack timeout is older than it.
    if (this.nextHeartbeatAt !== undefined && this.nextHeartbeatAt <= now) {
      this.sendHeartbeats(now);
      this.nextHeartbeatAt = now + this.heartbeatMs;
    }
    // Deleting the visited entry while iterating a Map is safe: ended subscriptions are not revisited.
    for (const sub of this.subscriptions.values()) {
      const conn = sub.connection;
      if (conn?.open) {
        const overdue = [...conn.pending.values()].find((p) => p.deadline <= now);
        if (overdue) {
          // HUB-SYNC-06/07: report the silence, then unsubscribe the silent subscriber.
          this.raiseSyncError(sub, {
            topic: sub.topic,
            eventId: overdue.id,
            eventName: overdue.name,
            subscriberName: sub.name,
            reason: `did not answer within ${this.ackTimeoutMs / 1000} s`,
          });
          this.endSubscription(sub, `no answer to event ${overdue.id} within ${this.ackTimeoutMs / 1000} s`);
          continue;
        }
      }
      if (sub.leaseExpiresAt <= now) this.endSubscription(sub, `lease of ${sub.leaseSeconds} s expired`);
    }
    this.armedAt = undefined; // always re-report: the door's timer has fired
    this.rearm();
  }

  private sendHeartbeats(now: number): void {
    const timestamp = new Date(now).toISOString();
    const period = String(this.heartbeatMs / 1000);
    for (const sub of this.subscriptions.values()) {
      if (!sub.connection?.open) continue;
      const frame: HeartbeatFrame = {
        timestamp,
        id: randomToken(this.crypto),
        event: { 'hub.topic': sub.topic, 'hub.event': 'heartbeat', context: [{ key: 'period', decimal: period }] },
      };
      this.send(sub.connection.channel, frame, sub);
    }
  }

  /**
   * Deadlines are wall-clock times. When the clock steps back (NTP, VM resume, a user changing the
   * time) they move back with it, so acks, heartbeats and leases still fire on time.
   */
  private followClockSteps(): void {
    const now = this.clock.now();
    const step = now - this.lastSeenNow;
    this.lastSeenNow = now;
    if (step >= 0) return;
    for (const sub of this.subscriptions.values()) {
      sub.leaseExpiresAt += step;
      for (const p of sub.connection?.pending.values() ?? []) p.deadline += step;
    }
    if (this.nextHeartbeatAt !== undefined) this.nextHeartbeatAt += step;
  }

  private rearm(): void {
    const at = this.nextDeadline();
    if (at === this.armedAt) return;
    this.armedAt = at;
    this.onWake?.(at);
  }

  // ---- persistence, observation, shutdown ---------------------------------------------------

  private topicState(topic: string, persist: boolean): TopicContexts {
    let state = this.topics.get(topic);
    if (!state) {
      state = new TopicContexts({ topic, createdAt: this.clock.now(), seq: 0, contexts: [] });
      this.topics.set(topic, state);
      if (persist) void this.persistTopic(state).catch(() => undefined);
    }
    return state;
  }

  private persistTopic(state: TopicContexts): Promise<void> {
    return this.writer.mark(`topic:${state.record.topic}`, () => structuredCloneJson(state.record));
  }

  /** Resolves when every accepted change is durable. */
  flush(): Promise<void> {
    return this.writer.idle();
  }

  /** Subscribes to the hub's activity log (inspector, tests). Returns an unsubscribe function. */
  observe(listener: (entry: HubLogEntry) => void): () => void {
    return this.log.subscribe(listener);
  }

  /** A read-only view of topics, subscribers and open contexts. */
  inspect(): HubSnapshot {
    const now = this.clock.now();
    const failure = this.writer.failure;
    return {
      storage: failure === undefined ? { ok: true } : { ok: false, lastError: String(failure.error) },
      topics: [...this.topics.values()].map((state) => ({
        topic: state.record.topic,
        current: state.record.current,
        subscribers: [...this.subscriptions.values()]
          .filter((s) => s.topic === state.record.topic)
          .map((s) => ({
            name: s.name,
            events: s.eventsText,
            leaseRemainingSeconds: Math.max(0, Math.round((s.leaseExpiresAt - now) / 1000)),
            connected: s.connection?.open ?? false,
            lastAck: s.lastAck,
            pending: s.connection?.pending.size ?? 0,
          })),
        open: state.record.contexts.map((c) => ({
          type: c.anchorType,
          id: c.anchorId,
          versionId: c.versionId,
          event: c.notification.event['hub.event'],
          contentCount: c.content.length,
          current: state.record.current === `${c.anchorType}/${c.anchorId}`,
        })),
      })),
    };
  }

  /**
   * Stops the engine: open channels close with 1001 and no denial (HUB-SERVE-04), pending state
   * is written. Subscriptions end (they do not survive a restart).
   */
  async shutdown(code = 1001): Promise<void> {
    for (const sub of this.subscriptions.values()) {
      const conn = sub.connection;
      if (conn?.open) {
        conn.open = false;
        this.closeChannel(conn.channel, code, 'hub shutting down');
      }
    }
    this.subscriptions.clear();
    this.nextHeartbeatAt = undefined;
    this.rearm();
    await this.flush();
  }
}

/** Reads an answer's status: number, numeric string, 2019 `statusCode`, or absent with an `id` = 200 (HUB-ACK-03/04, HUB-TOLERANT-05). */
function readStatus(msg: Record<string, unknown>): number | undefined {
  const numeric = (v: unknown): number | undefined => {
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string' && /^\s*\d{3}\s*$/.test(v)) return Number(v);
    return undefined;
  };
  const fromStatus = numeric(msg.status);
  if (fromStatus !== undefined) return fromStatus;
  const fromCode = numeric(msg.statusCode);
  if (fromCode !== undefined) return fromCode;
  if (msg.status === undefined && typeof msg.id === 'string') return 200;
  return undefined;
}

/** Best-effort topic, event name and id of a (possibly malformed) request, for the activity log. */
function describeRequest(body: unknown, pathTopic: string | undefined): { topic?: string; event?: string; eventId?: string } {
  const text = (v: unknown) => (typeof v === 'string' && v.length <= 256 ? v : undefined);
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const e = typeof b.event === 'object' && b.event !== null ? (b.event as Record<string, unknown>) : {};
  return { topic: text(e['hub.topic']) ?? pathTopic, event: text(e['hub.event']), eventId: text(b.id) };
}

const utf8 = new TextEncoder();

/** WebSocket close reasons are limited to 123 UTF-8 bytes; cut on a character boundary. */
function clampCloseReason(reason: string): string {
  if (utf8.encode(reason).length <= 123) return reason;
  let out = '';
  for (const ch of reason) {
    if (utf8.encode(out + ch).length > 123) break;
    out += ch;
  }
  return out;
}

function structuredCloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
