/**
 * The FHIRcast engine: a state machine over topics, subscriptions, open contexts and content.
 * Inputs are method calls; outputs go to injected channels and storage. Deadlines (acks, leases,
 * heartbeats) are reported through `onWake` and run when the door calls `tick()`.
 */
import { CATALOG_EVENT_NAMES, HubError, badRequest, notFound, validateTopic, type GetContextResponse, type Notification, type SubscriptionRequest, type WellKnownConfiguration } from '../protocol/index.js';
import type { ConnectionHandle, HubOptions, HubSnapshot, PublishResult, SubscribeInput, SubscribeResult } from './api-types.js';
import { readAnswer } from './answers.js';
import { applyEvent, checkChange, describeRequest } from './context-change.js';
import { earliestDeadline, heartbeatFrame, overdueAnswer, shiftDeadlines } from './deadlines.js';
import { Delivery, type BroadcastOptions } from './delivery.js';
import type { Identity, IdentityRecord, UsersConfig } from './identity.js';
import { randomToken } from './ids.js';
import { HubLog, type HubLogEntry } from './log.js';
import { TopicContexts, type DerivedOpen, type TopicRecord } from './open-contexts.js';
import { CoalescingWriter } from './persistence.js';
import type { Clock, CryptoSource, SubscriberChannel } from './ports.js';
import { takeSnapshot } from './snapshot.js';
import { reasonForStatus, buildSyncError, type SyncErrorCause } from './sync-errors.js';
import { parseEventList, type Connection, type Subscription } from './subscriptions.js';

export type { ConnectionHandle, HubOptions, HubSnapshot, PublishResult, SubscribeInput, SubscribeResult } from './api-types.js';

const NORMAL_CLOSES = new Set([1000, 1001, 1005]);

/** The engine. Every door (worker host, leader tab, `tabcast serve`) drives one of these. */
export class Hub {
  private readonly clock: Clock;
  private readonly crypto: CryptoSource;
  private readonly writer: CoalescingWriter;
  /** GetTopic's code loads on first use: a hub without a users file (the browser's) never needs it. */
  private identity?: Promise<Identity>;
  private readonly restoredIdentity?: IdentityRecord;
  private usersSet: boolean;
  private readonly topics = new Map<string, TopicContexts>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly log = new HubLog();
  private readonly delivery: Delivery;
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
    this.delivery = new Delivery(this.clock, this.log, this.ackTimeoutMs);
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
    this.restoredIdentity = restored.get('identity') as IdentityRecord | undefined;
    this.usersSet = this.restoredIdentity !== undefined;
  }

  private loadIdentity(): Promise<Identity> {
    this.identity ??= import('./identity.js').then((m) => new m.Identity(this.crypto, this.restoredIdentity));
    return this.identity;
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
    const identity = await this.loadIdentity();
    const topics = await identity.configure(config);
    this.usersSet = true;
    for (const t of topics) this.topicState(t, true);
    await this.writer.mark('identity', () => identity.toRecord());
  }

  /** True when a users file is configured (GetTopic and Bearer checks are on). */
  get usersConfigured(): boolean {
    return this.usersSet;
  }

  /** Checks the app-wide secret in constant time (HUB-ID-07). */
  verifySecret(secret: string): Promise<boolean> {
    if (!this.usersSet) return Promise.resolve(false);
    return this.loadIdentity().then((identity) => identity.verify(secret));
  }

  /** GetTopic of the 2019 proposal (HUB-ID-01..05). Throws HubError 400/401/403/404. */
  async getTopic(username: string | null | undefined, secret: string | null | undefined): Promise<string> {
    if (!this.usersSet) throw notFound('gettopic is not available: the hub has no users configured');
    return (await this.loadIdentity()).getTopic(username, secret);
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
      if (sub.connection?.open) this.delivery.send(sub.connection.channel, this.confirmation(sub), sub);
    } else {
      sub = {
        endpoint: randomToken(this.crypto),
        topic,
        filters,
        eventsText: text,
        leaseSeconds: lease,
        leaseExpiresAt: now + lease * 1000,
        confirmed: false,
        autoRenew: req.autoRenew ?? false,
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
      this.delivery.closeChannel(previous.channel, 1000, 'replaced by a newer connection to this endpoint');
    }
    const conn: Connection = { subscription: sub, channel, pending: new Map(), open: true };
    sub.connection = conn;
    if (!sub.confirmed) {
      sub.confirmed = true;
      sub.leaseExpiresAt = now + sub.leaseSeconds * 1000;
    }
    this.delivery.send(channel, this.confirmation(sub), sub);
    const state = this.topics.get(sub.topic);
    if (state) this.delivery.catchUp(conn, state);
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
      this.delivery.send(conn.channel, { 'hub.mode': 'denied', 'hub.topic': sub.topic, 'hub.events': sub.eventsText, 'hub.reason': reason }, sub);
      this.delivery.closeChannel(conn.channel, 1000, reason);
    }
    this.log.emit({ at: this.clock.now(), type: 'denied', topic: sub.topic, subscriber: sub.name, detail: reason });
  }

  // ---- frames from subscribers -----------------------------------------------------------

  private receive(conn: Connection, frame: unknown): void {
    if (!conn.open) return;
    const answer = readAnswer(frame);
    if (!answer) return; // HUB-ACK-07: not an answer, ignored
    const { id, status } = answer;
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
    const change = checkChange(body, pathTopic, this.clock.now());
    const { topic, notification } = change;
    // A topic is only added once its first change is accepted: refused requests leave no trace (HUB-CHANGE-14).
    const known = this.topics.get(topic);
    const state = known ?? new TopicContexts({ topic, createdAt: this.clock.now(), seq: 0, contexts: [] });
    const changed = applyEvent(state, change, {
      newId: () => randomToken(this.crypto),
      broadcast: (canonical, n, derived, options) => this.broadcast(topic, canonical, n, derived, options),
    });
    if (!known) this.topics.set(topic, state);
    this.log.emit({ at: this.clock.now(), type: 'publish', topic, eventId: notification.id, event: change.name, detail: notification });
    const durable = changed ? this.persistTopic(state) : undefined;
    return { id: notification.id, durable };
  }

  // ---- delivery --------------------------------------------------------------------------

  private broadcast(topic: string, canonical: string, notification: Notification, derived?: readonly DerivedOpen[], options?: BroadcastOptions): void {
    this.delivery.broadcast(this.subscriptions.values(), topic, canonical, notification, derived, options);
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
    return earliestDeadline(this.subscriptions.values(), this.nextHeartbeatAt);
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
      const overdue = overdueAnswer(sub, now);
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
      if (sub.leaseExpiresAt > now) continue;
      if (sub.autoRenew) sub.leaseExpiresAt = now + sub.leaseSeconds * 1000;
      else this.endSubscription(sub, `lease of ${sub.leaseSeconds} s expired`);
    }
    this.armedAt = undefined; // always re-report: the door's timer has fired
    this.rearm();
  }

  private sendHeartbeats(now: number): void {
    for (const sub of this.subscriptions.values()) {
      if (sub.connection?.open) this.delivery.send(sub.connection.channel, heartbeatFrame(sub.topic, now, this.heartbeatMs, this.crypto), sub);
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
    shiftDeadlines(this.subscriptions.values(), step);
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
    return takeSnapshot(this.topics.values(), [...this.subscriptions.values()], this.writer.failure, this.clock.now());
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
        this.delivery.closeChannel(conn.channel, code, 'hub shutting down');
      }
    }
    this.subscriptions.clear();
    this.nextHeartbeatAt = undefined;
    this.rearm();
    await this.flush();
  }
}

function structuredCloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
