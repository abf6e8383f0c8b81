/**
 * The FHIRcast engine: a state machine over topics, subscriptions, open contexts and content.
 * Inputs are method calls; outputs go to injected channels and storage. Deadlines (acks, leases,
 * heartbeats) are reported through `onWake` and run when the door calls `tick()`.
 */
import { CATALOG_EVENT_NAMES, HubError, badRequest, notFound, validateTopic, type GetContextResponse, type Notification, type SubscriptionRequest, type WellKnownConfiguration } from '../protocol/index.js';
import type { ConnectionHandle, HubOptions, HubSnapshot, PublishResult, SubscribeInput, SubscribeResult } from './api-types.js';
import { readAnswer } from './answers.js';
import { atCapacity, resolveBounds, type HubBounds } from './bounds.js';
import { changeParserReady, loadChangeParser } from './change-parser.js';
import { applyEvent, checkChange, describeRequest, type Broadcast, type ChangeOutcome } from './context-change.js';
import { DeadlineHeap } from './deadline-heap.js';
import { heartbeatFrame, nextDeadlineOf, overdueAnswer, shiftDeadlines } from './deadlines.js';
import { Delivery, type Outgoing } from './delivery.js';
import type { Identity, IdentityRecord, UsersConfig } from './identity.js';
import { randomToken } from './ids.js';
import { HubLog, type HubLogEntry } from './log.js';
import { CoalescingWriter } from './persistence.js';
import type { Clock, CryptoSource, SubscriberChannel } from './ports.js';
import { IDENTITY_KEY, type MalformedRecord } from './records.js';
import type { ReplicaPort, SharedTopicHooks } from './replica.js';
import type { RestoredState } from './restore.js';
import { takeSnapshot } from './snapshot.js';
import { reasonForStatus, buildSyncError, type SyncErrorCause } from './sync-errors.js';
import { parseEventList, type Connection, type HubSubscription } from './subscriptions.js';
import { TopicState, type RecordChanges } from './topic-state.js';

export type { ChannelLabel, ConnectionHandle, HubOptions, HubSnapshot, PublishResult, SubscribeInput, SubscribeResult } from './api-types.js';

const NORMAL_CLOSES = new Set([1000, 1001, 1005]);

/** How a connection is taken down: what the subscriber is told, and whether its subscription ends. */
interface Teardown {
  /** Close the transport with this code and reason (not when the transport already closed). */
  close?: { code: number; reason: string };
  /** Send a denial with this reason before closing (HUB-SUB-13). */
  denial?: string;
}

/** The engine. Every door (worker host, leader tab, `tabcast serve`) drives one of these. */
export class Hub {
  private readonly clock: Clock;
  private readonly crypto: CryptoSource;
  private readonly writer: CoalescingWriter;
  /** GetTopic's code loads on first use: a hub without a users file (the browser's) never needs it. */
  private identity?: Promise<Identity>;
  private readonly restoredIdentity?: IdentityRecord;
  private usersSet: boolean;
  private readonly topics: Map<string, TopicState>;
  private readonly subscriptions = new Map<string, HubSubscription>();
  /** Connections whose channel is open: heartbeats go to these only. */
  private readonly openConnections = new Set<Connection>();
  /** Each subscription at its next deadline; each empty topic at its idle deadline. */
  private readonly subscriptionDeadlines = new DeadlineHeap<HubSubscription>();
  private readonly idleTopics = new DeadlineHeap<TopicState>();
  private readonly log = new HubLog();
  private readonly delivery: Delivery;
  private readonly bounds: HubBounds;
  private readonly forgotten = { contexts: 0, topics: 0, subscriptions: 0 };
  private readonly malformed: MalformedRecord[];
  private readonly ackTimeoutMs: number;
  private readonly heartbeatMs: number;
  private readonly defaultLease: number;
  private readonly maxLease: number;
  private readonly onWake?: (at: number | undefined) => void;
  /** Cluster mode: the topic bound and idle forgetting are decided cluster-wide (ReplicaPort.shareTopics). */
  private sharedTopics?: SharedTopicHooks;
  private nextHeartbeatAt: number | undefined;
  private lastSeenNow: number;
  private armedAt: number | undefined;
  private unnamedCount = 0;
  /** Changes waiting for the context-change parser to load (`changeParser: 'background'`). */
  private changesWaiting = 0;

  private constructor(options: HubOptions, restored: RestoredState) {
    this.clock = options.clock;
    this.lastSeenNow = options.clock.now();
    this.crypto = options.crypto;
    this.bounds = resolveBounds(options.bounds);
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.defaultLease = options.defaultLeaseSeconds ?? 7200;
    this.maxLease = options.maxLeaseSeconds ?? 86_400;
    this.onWake = options.onWake;
    this.delivery = new Delivery(this.clock, this.log, this.ackTimeoutMs);
    this.writer = new CoalescingWriter(options.storage, (error) => {
      this.log.emit({ at: this.clock.now(), type: 'storage-error', detail: String(error) });
      options.onStorageError?.(error);
    }, options.scheduleWrite);
    this.topics = restored.topics;
    this.malformed = restored.malformed;
    this.restoredIdentity = restored.identity;
    this.usersSet = this.restoredIdentity !== undefined;
    for (const state of this.topics.values()) this.noteActivity(state);
  }

  private loadIdentity(): Promise<Identity> {
    this.identity ??= import('./identity.js').then((m) => new m.Identity(this.crypto, this.restoredIdentity));
    return this.identity;
  }

  /**
   * Builds an engine and restores topics, groups, open contexts and content from storage
   * (HUB-PERSIST-07). Stored records are validated: malformed ones are left out and listed in
   * `inspect().storage.malformed`, or, with `malformedRecords: 'refuse'`, stop the start.
   */
  static async create(options: HubOptions): Promise<Hub> {
    // The parser loads while the store is read; in the background a failed load is told to each change.
    const parser = loadChangeParser();
    if (options.changeParser === 'background') parser.catch(() => undefined);
    const stored = (await Promise.all([options.storage.loadAll(), options.changeParser === 'background' ? undefined : parser]))[0];
    if (stored.size === 0) return new Hub(options, { topics: new Map(), malformed: [] });
    // Validation and restore load only for a store that holds records: a new hub starts without them.
    const { restoreState, malformedMessage } = await import('./restore.js');
    const restored = restoreState(stored, options.clock.now());
    if (restored.malformed.length > 0 && options.malformedRecords === 'refuse') throw new Error(malformedMessage(restored.malformed));
    return new Hub(options, restored);
  }

  // ---- topics and identity -------------------------------------------------------------

  /** Creates a new unguessable topic (HUB-SEC-02) and persists it. Throws 503 at the topic bound. */
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
    for (const t of topics) this.topicState(t, true, { pinned: true });
    await this.writer.mark(IDENTITY_KEY, () => identity.toRecord());
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

  /** Handles a validated subscribe or unsubscribe request. Throws HubError (400/404/503). */
  handleSubscriptionRequest(req: SubscriptionRequest): SubscribeResult {
    return req.mode === 'unsubscribe' ? this.unsubscribe(req.topic, req.endpoint!) : this.subscribe(req);
  }

  /**
   * Creates a subscription, or replaces the events of an existing one when `endpoint` is given
   * (HUB-SUB-11/12). Throws HubError 400 for unknown events, 404 for an endpoint of another topic,
   * 503 when it would create a topic beyond the bound (HUB-BOUND-05).
   */
  subscribe(req: SubscribeInput): SubscribeResult {
    const topic = validateTopic(req.topic);
    const { filters, text } = parseEventList(req.events);
    if (req.leaseSeconds !== undefined && !(Number.isSafeInteger(req.leaseSeconds) && req.leaseSeconds > 0)) {
      throw badRequest(`hub.lease_seconds must be a positive integer, got ${String(req.leaseSeconds)}`, 'value');
    }
    const lease = Math.min(req.leaseSeconds ?? this.defaultLease, this.maxLease);
    const now = this.clock.now();
    let sub: HubSubscription;
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
      const state = this.topicState(topic, false);
      sub = {
        endpoint: randomToken(this.crypto),
        topic,
        filters,
        eventsText: text,
        leaseSeconds: lease,
        leaseExpiresAt: now + lease * 1000,
        confirmed: false,
        autoRenew: req.autoRenew ?? false,
        channel: req.channel ?? 'stu3',
        name: req.subscriberName ?? `unnamed subscriber ${++this.unnamedCount}`,
        createdAt: now,
      };
      this.subscriptions.set(sub.endpoint, sub);
      state.subscribers.add(sub);
      this.noteActivity(state);
    }
    this.schedule(sub);
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
    if (sub.connection) this.teardown(sub.connection, { close: { code: 1000, reason: 'replaced by a newer connection to this endpoint' } });
    const conn: Connection = { subscription: sub, channel, pending: new Map(), open: true };
    sub.connection = conn;
    this.openConnections.add(conn);
    if (!sub.confirmed) {
      sub.confirmed = true;
      sub.leaseExpiresAt = now + sub.leaseSeconds * 1000;
    }
    this.delivery.send(channel, this.confirmation(sub), sub);
    const state = this.topics.get(sub.topic);
    if (state) this.dispatch(this.delivery.catchUp(conn, state));
    if (this.heartbeatMs > 0 && this.nextHeartbeatAt === undefined) this.nextHeartbeatAt = now + this.heartbeatMs;
    this.schedule(sub);
    this.log.emit({ at: now, type: 'connect', topic: sub.topic, subscriber: sub.name });
    this.rearm();
    return {
      receive: (frame) => this.receive(conn, frame),
      closed: (code, options) => this.closed(conn, code, options?.endSubscription ?? false),
    };
  }

  private confirmation(sub: HubSubscription) {
    return {
      'hub.mode': 'subscribe' as const,
      'hub.topic': sub.topic,
      'hub.events': sub.eventsText,
      'hub.lease_seconds': Math.max(0, Math.round((sub.leaseExpiresAt - this.clock.now()) / 1000)),
    };
  }

  /**
   * Takes a connection down, the one way every path does it (replaced, ended, closed by the peer,
   * shutdown): no more frames or deadlines for it, then the denial and close the path asks for.
   */
  private teardown(conn: Connection, how: Teardown): void {
    if (!conn.open) return;
    conn.open = false;
    conn.pending.clear();
    this.openConnections.delete(conn);
    const sub = conn.subscription;
    if (sub.connection === conn) sub.connection = undefined;
    if (how.denial !== undefined) this.delivery.send(conn.channel, { 'hub.mode': 'denied', 'hub.topic': sub.topic, 'hub.events': sub.eventsText, 'hub.reason': how.denial }, sub);
    if (how.close) this.delivery.closeChannel(conn.channel, how.close.code, how.close.reason);
  }

  /** Ends a subscription: its connection gets a denial and close 1000, its endpoint is forgotten. */
  private endSubscription(sub: HubSubscription, reason: string): void {
    if (sub.connection) this.teardown(sub.connection, { denial: reason, close: { code: 1000, reason } });
    this.forgetSubscription(sub);
    this.sharedTopics?.subscriptionEnded(sub.endpoint, sub.topic, sub.confirmed);
    this.log.emit({ at: this.clock.now(), type: 'denied', topic: sub.topic, subscriber: sub.name, detail: reason });
  }

  private forgetSubscription(sub: HubSubscription): void {
    if (this.subscriptions.get(sub.endpoint) === sub) this.subscriptions.delete(sub.endpoint);
    this.subscriptionDeadlines.remove(sub);
    const state = this.topics.get(sub.topic);
    if (state?.subscribers.delete(sub)) this.noteActivity(state);
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
    this.schedule(sub);
    this.log.emit({ at: now, type: 'ack', topic: sub.topic, subscriber: sub.name, eventId: pending.id, event: pending.name, status });
    if (status < 200 || status > 299) {
      this.raiseSyncError(sub, { topic: sub.topic, eventId: pending.id, eventName: pending.name, subscriberName: sub.name, reason: reasonForStatus(status) });
    }
    this.rearm();
  }

  private closed(conn: Connection, code: number, endSubscription: boolean): void {
    if (!conn.open) return;
    this.teardown(conn, {});
    const sub = conn.subscription;
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
    if (normal || endSubscription) {
      this.forgetSubscription(sub);
      this.sharedTopics?.subscriptionEnded(sub.endpoint, sub.topic, true);
    } else this.schedule(sub);
    this.rearm();
  }

  // ---- request context change -----------------------------------------------------------

  /**
   * Request context change (fhircast-spec.md §5). Validates, applies and broadcasts synchronously
   * (once the change parser is there: `HubOptions.changeParser`); resolves with 202 once the change is
   * durable. Rejects with a HubError (400/404/409/413/503).
   */
  publish(body: unknown, options: { pathTopic?: string } = {}): Promise<PublishResult> {
    if (this.changesWaiting > 0 || !changeParserReady()) return this.publishAfterParser(body, options);
    return this.publishNow(body, options);
  }

  /** A change that comes before the parser has loaded waits for it; changes after it queue behind, in order. */
  private publishAfterParser(body: unknown, options: { pathTopic?: string }): Promise<PublishResult> {
    this.changesWaiting++;
    return loadChangeParser().then(
      () => {
        this.changesWaiting--;
        return this.publishNow(body, options);
      },
      (error: unknown) => {
        this.changesWaiting--;
        if (error instanceof HubError) this.log.emit({ at: this.clock.now(), type: 'reject', status: error.status, detail: error.message, ...describeRequest(body, options.pathTopic) });
        throw error;
      },
    );
  }

  private publishNow(body: unknown, options: { pathTopic?: string }): Promise<PublishResult> {
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

  /** Input → engine → (records, frames): the change is applied, then its records go to the writer and its frames to the channels. */
  private applyChange(body: unknown, pathTopic: string | undefined, newId = () => randomToken(this.crypto), replica = false): { id: string; durable: Promise<void> | undefined } {
    const now = this.clock.now();
    const change = checkChange(body, pathTopic, now);
    const { topic } = change;
    // A topic is only added once its first change is accepted: refused requests leave no trace (HUB-CHANGE-14).
    const known = this.topics.get(topic);
    // A replica applies what the log accepted: the topic bound was checked where the change arrived.
    if (!known && !replica) this.checkRoomForTopic(topic);
    const state = known ?? new TopicState({ topic, createdAt: now, seq: 0 }, now);
    const outcome = applyEvent(state, change, { newId, maxOpenContexts: this.bounds.maxOpenContexts, maxContentBytes: this.bounds.maxContentBytes });
    if (!known) this.topics.set(topic, state);
    this.noteForgotten(state, outcome);
    const sent = outcome.broadcasts[0]?.notification ?? change.notification;
    this.log.emit({ at: now, type: 'publish', topic, eventId: sent.id, event: change.name, detail: sent });
    const durable = this.persist(outcome.records);
    for (const b of outcome.broadcasts) this.broadcast(state, b);
    this.noteActivity(state);
    return { id: sent.id, durable };
  }

  private noteForgotten(state: TopicState, outcome: ChangeOutcome): void {
    for (const ctx of outcome.forgotten) {
      this.forgotten.contexts++;
      this.log.emit({ at: this.clock.now(), type: 'forget', topic: state.topic, detail: `open context ${ctx.anchorType}/${ctx.anchorId} forgotten: the topic holds at most ${this.bounds.maxOpenContexts} open contexts` });
    }
  }

  // ---- delivery --------------------------------------------------------------------------

  private broadcast(state: TopicState, b: Broadcast): void {
    this.dispatch(this.delivery.plan(state.subscribers, b));
  }

  /** Hands frames to their channels; each subscription that now waits for an answer is rescheduled. */
  private dispatch(frames: readonly Outgoing[]): void {
    this.delivery.dispatch(frames);
    for (const f of frames) if (f.track) this.schedule(f.conn.subscription);
  }

  /** Generates a SyncError to the topic's other subscribers of SyncError (HUB-SYNC-01..05). */
  private raiseSyncError(about: HubSubscription, cause: SyncErrorCause): void {
    const now = this.clock.now();
    const n = buildSyncError(cause, randomToken(this.crypto), new Date(now).toISOString());
    this.log.emit({ at: now, type: 'syncerror', topic: cause.topic, subscriber: cause.subscriberName, eventId: cause.eventId, event: cause.eventName, detail: n });
    const state = this.topics.get(cause.topic);
    if (state) this.broadcast(state, { canonical: 'SyncError', notification: n, derived: [], options: { track: false, exclude: about } });
  }

  // ---- get context -----------------------------------------------------------------------

  /** The topic's current context (HUB-GET-01..05); an unknown topic gets the empty shape. */
  getContext(topic: string): GetContextResponse {
    const state = this.topics.get(topic);
    return state ? structuredCloneJson(state.getContext()) : { 'context.type': '', context: [] };
  }

  /** The open notification that made the topic's context current, if any (pull context, channels.md §2). */
  currentOpen(topic: string): Notification | undefined {
    const open = this.topics.get(topic)?.current()?.notification;
    return open ? structuredCloneJson(open) : undefined;
  }

  // ---- time ------------------------------------------------------------------------------

  /** The earliest deadline (ms) the door should call `tick()` at, if any. O(1): the heaps hold them. */
  nextDeadline(): number | undefined {
    let min = Number.POSITIVE_INFINITY;
    const sub = this.subscriptionDeadlines.peek();
    if (sub) min = sub.dueAt!;
    const idle = this.idleTopics.peek();
    if (idle) min = Math.min(min, idle.dueAt!);
    // Heartbeats only while a channel is open: with nobody connected the hub has nothing to wake for.
    if (this.openConnections.size > 0 && this.nextHeartbeatAt !== undefined) min = Math.min(min, this.nextHeartbeatAt);
    return Number.isFinite(min) ? min : undefined;
  }

  /** Runs everything due at the clock's current time: ack timeouts, lease expiry, connect deadlines, heartbeats, idle topics. */
  tick(): void {
    this.followClockSteps();
    const now = this.clock.now();
    // Heartbeats first: a heartbeat due at the same moment as an ack timeout is older than it.
    if (this.nextHeartbeatAt !== undefined && this.nextHeartbeatAt <= now) {
      this.sendHeartbeats(now);
      this.nextHeartbeatAt = now + this.heartbeatMs;
    }
    for (let sub = this.subscriptionDeadlines.peek(); sub && sub.dueAt! <= now; sub = this.subscriptionDeadlines.peek()) {
      this.subscriptionDeadlines.remove(sub);
      this.runDeadlines(sub, now);
    }
    for (let state = this.idleTopics.peek(); state && state.dueAt! <= now; state = this.idleTopics.peek()) {
      this.idleTopics.remove(state);
      this.forgetIfIdle(state, now);
    }
    this.armedAt = undefined; // always re-report: the door's timer has fired
    this.rearm();
  }

  private runDeadlines(sub: HubSubscription, now: number): void {
    const overdue = overdueAnswer(sub, now);
    if (overdue) {
      // HUB-SYNC-06/07: report the silence, then unsubscribe the silent subscriber.
      this.raiseSyncError(sub, { topic: sub.topic, eventId: overdue.id, eventName: overdue.name, subscriberName: sub.name, reason: `did not answer within ${this.ackTimeoutMs / 1000} s` });
      this.endSubscription(sub, `no answer to event ${overdue.id} within ${this.ackTimeoutMs / 1000} s`);
      return;
    }
    if (!sub.confirmed && sub.createdAt + this.bounds.connectTimeoutMs <= now) {
      this.forgotten.subscriptions++;
      this.endSubscription(sub, `no connection to the endpoint within ${this.bounds.connectTimeoutMs / 1000} s of the subscription`);
      return;
    }
    if (sub.leaseExpiresAt <= now) {
      if (!sub.autoRenew) {
        this.endSubscription(sub, `lease of ${sub.leaseSeconds} s expired`);
        return;
      }
      sub.leaseExpiresAt = now + sub.leaseSeconds * 1000;
    }
    this.schedule(sub);
  }

  private sendHeartbeats(now: number): void {
    for (const conn of this.openConnections) {
      const sub = conn.subscription;
      this.delivery.send(conn.channel, heartbeatFrame(sub.topic, now, this.heartbeatMs, this.crypto), sub);
    }
  }

  /** Puts a live subscription in the deadline heap at its next deadline. */
  private schedule(sub: HubSubscription): void {
    if (this.subscriptions.get(sub.endpoint) !== sub) return;
    this.subscriptionDeadlines.set(sub, nextDeadlineOf(sub, this.bounds.connectTimeoutMs));
  }

  /**
   * Deadlines are wall-clock times. When the clock steps back (NTP, VM resume, a user changing the
   * time) they move back with it, so acks, heartbeats and leases still fire on time. This is the
   * one path that visits every subscription, and it runs only when the clock stepped back.
   */
  private followClockSteps(): void {
    const now = this.clock.now();
    const step = now - this.lastSeenNow;
    this.lastSeenNow = now;
    if (step >= 0) return;
    for (const sub of this.subscriptions.values()) {
      shiftDeadlines(sub, step);
      this.schedule(sub);
    }
    for (const state of [...this.idleTopics.all()]) {
      state.lastActiveAt += step;
      this.idleTopics.set(state, state.dueAt! + step);
    }
    if (this.nextHeartbeatAt !== undefined) this.nextHeartbeatAt += step;
  }

  private rearm(): void {
    const at = this.nextDeadline();
    if (at === this.armedAt) return;
    this.armedAt = at;
    this.onWake?.(at);
  }

  // ---- topics: creation, activity, idle forgetting (HUB-BOUND-05) ----------------------------

  /** The topic's state, created when new; `counted`: the cluster already counted it (an adopted subscription). */
  private topicState(topic: string, persist: boolean, options: { pinned?: boolean; counted?: boolean } = {}): TopicState {
    let state = this.topics.get(topic);
    if (!state) {
      // In cluster mode the cluster checks the bound against every instance's topics (HUB-CLUSTER-06).
      if (this.sharedTopics) {
        if (!options.pinned && !options.counted) this.sharedTopics.admitTopic(topic);
      } else if (!options.pinned) this.checkRoomForTopic(topic);
      const now = this.clock.now();
      state = new TopicState({ topic, createdAt: now, seq: 0 }, now);
      this.topics.set(topic, state);
      if (persist) {
        const records: RecordChanges = new Map();
        state.touchHeader(records);
        void this.persist(records)?.catch(() => undefined);
      }
    }
    if (options.pinned) state.pinned = true;
    this.noteActivity(state);
    return state;
  }

  private checkRoomForTopic(topic: string): void {
    if (this.topics.size < this.bounds.maxTopics) return;
    this.log.emit({ at: this.clock.now(), type: 'reject', status: 503, topic, detail: `topic bound of ${this.bounds.maxTopics} reached` });
    throw atCapacity(`this hub holds ${this.bounds.maxTopics} topics, its limit; it cannot take a new topic until idle ones are forgotten (after ${this.bounds.idleTopicMs / 3_600_000} h without subscribers or open contexts)`);
  }

  /** Restarts a topic's idle clock; an empty topic waits in the idle heap to be forgotten. */
  private noteActivity(state: TopicState): void {
    state.lastActiveAt = this.clock.now();
    if (state.empty && !state.pinned) this.idleTopics.set(state, state.lastActiveAt + this.bounds.idleTopicMs);
    else this.idleTopics.remove(state);
  }

  private forgetIfIdle(state: TopicState, now: number): void {
    if (this.topics.get(state.topic) !== state || !state.empty || state.pinned) return;
    const due = state.lastActiveAt + this.bounds.idleTopicMs;
    if (due > now) {
      this.idleTopics.set(state, due);
      return;
    }
    if (this.sharedTopics) {
      // Another instance may hold a subscriber of it: the cluster decides, through its log, and is asked again later.
      this.idleTopics.set(state, now + this.bounds.idleTopicMs);
      this.sharedTopics.topicIdle(state.topic);
      return;
    }
    this.dropTopic(state, `topic forgotten after ${this.bounds.idleTopicMs / 3_600_000} h without subscribers or open contexts`);
  }

  private dropTopic(state: TopicState, reason: string): void {
    this.idleTopics.remove(state);
    this.topics.delete(state.topic);
    this.forgotten.topics++;
    const records: RecordChanges = new Map();
    state.forget(records);
    void this.persist(records)?.catch(() => undefined);
    this.log.emit({ at: this.clock.now(), type: 'forget', topic: state.topic, detail: reason });
  }

  // ---- persistence, observation, shutdown ---------------------------------------------------

  /** Hands a change's records to the writer; resolves once they are durable (undefined when there are none). */
  private persist(records: RecordChanges): Promise<void> | undefined {
    return records.size === 0 ? undefined : this.writer.markAll(records);
  }

  /** The engine as cluster replication drives it (src/hub/replica.ts); not for apps. */
  replicaPort(): ReplicaPort {
    return {
      clock: this.clock,
      crypto: this.crypto,
      subscriptions: this.subscriptions,
      bounds: this.bounds,
      applyChange: (body, pathTopic, newId) => {
        try {
          const { id, durable } = this.applyChange(body, pathTopic, newId, true);
          // The log is what makes a replica's change durable; a failed write is logged and retried by the writer.
          void durable?.catch(() => undefined);
          return id;
        } catch (error) {
          if (error instanceof HubError) this.log.emit({ at: this.clock.now(), type: 'reject', status: error.status, detail: error.message, ...describeRequest(body, pathTopic) });
          throw error;
        } finally {
          this.rearm();
        }
      },
      checkRoomForTopic: (topic) => {
        if (!this.topics.has(topic)) this.checkRoomForTopic(topic);
      },
      shareTopics: (hooks) => {
        this.sharedTopics = hooks;
      },
      forgetTopic: (topic) => {
        const state = this.topics.get(topic);
        if (!state) return 'absent';
        // Open contexts follow the log, so every replica agrees on them; a subscriber here may have come after the cluster's check.
        if (!state.empty || state.pinned) return 'kept';
        this.dropTopic(state, `topic forgotten after ${this.bounds.idleTopicMs / 3_600_000} h without subscribers or open contexts on any instance`);
        this.rearm();
        return 'forgotten';
      },
      hasTopic: (topic) => this.topics.has(topic),
      withdrawSubscription: (endpoint) => {
        const sub = this.subscriptions.get(endpoint);
        if (!sub) return;
        this.forgetSubscription(sub);
        const state = this.topics.get(sub.topic);
        // The cluster refused the topic, so no other instance counts it: an empty one goes without a trace.
        if (state?.empty && !state.pinned) {
          this.idleTopics.remove(state);
          this.topics.delete(state.topic);
        }
        this.rearm();
      },
      addSubscription: (sub) => {
        const state = this.topicState(sub.topic, false, { counted: true });
        this.subscriptions.set(sub.endpoint, sub);
        state.subscribers.add(sub);
        this.noteActivity(state);
        this.schedule(sub);
        this.rearm();
      },
      broadcast: (topic, b) => {
        const state = this.topics.get(topic);
        if (state) this.broadcast(state, b);
      },
      emit: (entry) => this.log.emit(entry),
    };
  }

  /** Resolves when every accepted change is durable. */
  flush(): Promise<void> {
    return this.writer.idle();
  }

  /** Subscribes to the hub's activity log (inspector, tests). Returns an unsubscribe function. */
  observe(listener: (entry: HubLogEntry) => void): () => void {
    return this.log.subscribe(listener);
  }

  /** A read-only view of topics, subscribers, open contexts, the bounds in force and what they forgot. */
  inspect(): HubSnapshot {
    return takeSnapshot(this.topics.values(), { failure: this.writer.failure, malformed: this.malformed }, { bounds: this.bounds, forgotten: this.forgotten }, this.clock.now());
  }

  /**
   * Stops the engine: open channels close with 1001 and no denial (HUB-SERVE-04), pending state
   * is written. Subscriptions end (they do not survive a restart).
   */
  async shutdown(code = 1001): Promise<void> {
    for (const conn of [...this.openConnections]) this.teardown(conn, { close: { code, reason: 'hub shutting down' } });
    for (const sub of [...this.subscriptions.values()]) this.forgetSubscription(sub);
    for (const state of [...this.idleTopics.all()]) this.idleTopics.remove(state);
    this.nextHeartbeatAt = undefined;
    this.rearm();
    await this.flush();
  }
}

function structuredCloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
