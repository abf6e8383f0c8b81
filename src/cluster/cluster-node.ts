/**
 * One instance of a cluster: a full engine kept as a replica of the shared change log in Redis.
 * A context change is checked here, appended to the log, and answered once this instance's log
 * reader has applied it, so its 202 or 409 is what every replica computed. Subscriptions are
 * announced to every instance so any of them can accept an endpoint's WebSocket; acks, leases and
 * heartbeats stay with the engine that holds the socket; SyncErrors it raises are announced once.
 */
import { Redis } from 'ioredis';
import { randomToken, type Hub, type HubStorage, type PublishResult } from '../hub/index.js';
import { prepareChange, type ReplicaPort } from '../hub/replica.js';
import { badRequest, HubError, type Notification, type SubscriptionRequest } from '../protocol/index.js';
import { appendChange, readFrom, waitForEntries } from './change-log.js';
import { RedisHealth, type HealthState } from './health.js';
import { clusterKeys, type ClusterKeys } from './keys.js';
import { LOG_START, parsePosition } from './log-position.js';
import { LogReplica } from './log-replica.js';
import { gapReason, type LogGap } from './log-sequence.js';
import { RedisStorage } from './redis-storage.js';
import { SharedSubscriptions } from './shared-subscriptions.js';
import { IdleTopics } from './idle-topics.js';
import { clusterTopicBound, isTopicBoundError, TopicRegistry } from './topic-registry.js';

/** How to join a cluster. */
export interface ClusterOptions {
  /** `redis://HOST:PORT` */
  redisUrl: string;
  /** Names this instance in /healthz and logs. Default: a random id. */
  instanceId?: string;
  /** Key prefix, so hubs can share a Redis. Default `tabcast`. */
  prefix?: string;
  /** Hears problems (never secrets or endpoints). */
  log?: (line: string) => void;
}

/** A topic name that /healthz takes (HUB-CLUSTER-05). */
export const RESERVED_TOPIC = 'healthz';

/** How long a change may take to reach Redis before it is refused there (Redis clock). */
const APPEND_DEADLINE_MS = 1500;
/** Client-side bound of every command; longer than the deadline, so a timed-out change is never applied. */
const COMMAND_TIMEOUT_MS = 2500;
/** How long a change waits for a reconnect in progress before it is refused. */
const RECONNECT_WAIT_MS = 1500;
/** How long one blocking read of the log waits. */
const READ_BLOCK_MS = 1000;

interface Waiter {
  /** The change's topic: one its refusal leaves unknown here is given back to the bound at once. */
  topic: string;
  resolve(result: PublishResult): void;
  reject(error: unknown): void;
}

/** The Redis side of one instance. Build with `ClusterNode.connect`, then `attach` an engine. */
export class ClusterNode {
  readonly instanceId: string;
  readonly keys: ClusterKeys;
  readonly storage: RedisStorage;
  private readonly health: RedisHealth;
  private readonly registry: TopicRegistry;
  private hub: Hub | undefined;
  private readonly replica = new LogReplica();
  private readonly waiters = new Map<string, Waiter>();
  private counter = 0;
  private port: ReplicaPort | undefined;
  private shared: SharedSubscriptions | undefined;
  private closed = false;
  private reading: Promise<void> | undefined;
  private idle: IdleTopics | undefined;
  private readonly log: (line: string) => void;
  private declareDiverged: (reason: string) => void = () => undefined;
  /**
   * Resolves, with the reason, once this replica found that it missed changes of the shared log
   * (it fell behind the trimmed log). It then serves no state: /healthz, changes, get-context and
   * subscriptions answer 503. Nothing repairs it but a restart; `tabcast serve` exits.
   */
  readonly diverged = new Promise<string>((resolve) => (this.declareDiverged = resolve));

  private constructor(
    private readonly cmd: Redis,
    private readonly reader: Redis,
    private readonly listener: Redis,
    options: ClusterOptions,
  ) {
    this.instanceId = options.instanceId ?? randomToken({ randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)), sha256: async () => new Uint8Array() }).slice(0, 12);
    this.keys = clusterKeys(options.prefix);
    const log = options.log ?? (() => undefined);
    this.log = log;
    this.storage = new RedisStorage(cmd, this.keys, () => this.replica.position);
    this.health = new RedisHealth(cmd, this.keys, log, () => this.restoreAfterDataLoss());
    this.registry = new TopicRegistry(cmd, this.keys);
  }

  /** Connects to Redis (rejects when it cannot within a few seconds) and learns the cluster's epoch. */
  static async connect(options: ClusterOptions): Promise<ClusterNode> {
    const make = (commandTimeout: number | undefined) =>
      new Redis(options.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout, retryStrategy: () => 200, connectTimeout: 3000 });
    const cmd = make(COMMAND_TIMEOUT_MS);
    const reader = make(READ_BLOCK_MS + COMMAND_TIMEOUT_MS);
    const listener = make(undefined);
    for (const c of [cmd, reader, listener]) c.on('error', () => undefined); // health reports it
    try {
      await Promise.all([cmd.connect(), reader.connect(), listener.connect()]);
    } catch (error) {
      for (const c of [cmd, reader, listener]) c.disconnect();
      throw new Error(`cannot reach Redis at ${options.redisUrl}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const node = new ClusterNode(cmd, reader, listener, options);
    await node.health.start();
    return node;
  }

  /** Runs `task` while no other instance is starting (users file, restore). */
  async whileStarting<T>(task: () => Promise<T>): Promise<T> {
    const token = randomToken({ randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)), sha256: async () => new Uint8Array() });
    for (let attempt = 0; ; attempt++) {
      if ((await this.cmd.set(this.keys.startupLock, token, 'PX', 15_000, 'NX')) === 'OK') break;
      if (attempt > 300) throw new Error('another instance has held the start-up lock for 15 s');
      await new Promise((r) => setTimeout(r, 50)); // polling a lock at start-up only; Redis has no lock-released event
    }
    try {
      return await task();
    } finally {
      if ((await this.cmd.get(this.keys.startupLock)) === token) await this.cmd.del(this.keys.startupLock);
    }
  }

  /** The storage an engine of this instance must be created with. */
  get hubStorage(): HubStorage {
    return this.storage;
  }

  /**
   * Binds the engine (created with `hubStorage`): replays the log past the loaded records, then
   * follows it, and routes the engine's publish and subscription requests through the cluster.
   */
  async attach(hub: Hub): Promise<void> {
    const port = hub.replicaPort();
    this.port = port;
    this.hub = hub;
    this.replica.bind(port);
    await readFrom(this.cmd, this.keys, LOG_START, (entry) => this.replica.replay(entry, (topic) => this.storage.loadedUpTo.get(topic)));
    const shared = new SharedSubscriptions(this.cmd, this.keys, this.instanceId, hub, this.registry, () => this.health.state.redis === 'ok');
    this.shared = shared;
    // The topic bound and idle forgetting are the cluster's from here on (HUB-CLUSTER-06).
    const idle = new IdleTopics({ port, registry: this.registry, health: () => this.health.state, position: () => this.replica.position, token: () => `${this.instanceId}.${++this.counter}` });
    this.idle = idle;
    port.shareTopics({
      admitTopic: (topic) => shared.admitTopic(topic, this.health.topicCount),
      topicIdle: (topic) => void idle.forget(topic),
      subscriptionEnded: (endpoint, topic, held) => shared.ended(endpoint, topic, held),
    });
    await this.listener.subscribe(this.keys.control);
    this.listener.on('message', (_channel: string, text: string) => shared.onControl(text));
    hub.observe((entry) => {
      if (entry.type === 'syncerror' && entry.detail) shared.announceSyncError(entry.detail as Notification);
    });
    const subscribeLocally = hub.handleSubscriptionRequest.bind(hub);
    // Cluster mode owns its engine: these two entry points go through Redis instead.
    hub.publish = (body, options = {}) => this.publish(body, options.pathTopic);
    // A Promise in cluster mode (an endpoint of another instance is looked up first); the wire awaits it.
    (hub as { handleSubscriptionRequest: unknown }).handleSubscriptionRequest = (req: SubscriptionRequest) => {
      if (req.topic === RESERVED_TOPIC) throw reservedTopic();
      this.refuseWhenDiverged(); // its catch-up would be a state known to be wrong
      return shared.handle(req, subscribeLocally);
    };
    const inspectLocally = hub.inspect.bind(hub);
    hub.inspect = () => ({ ...inspectLocally(), clusterTopics: this.health.topicCount });
    const readLocally = hub.getContext.bind(hub);
    // get-context waits for this replica to reach the end of the log: a change whose 202 was
    // sent by any instance is seen here (HUB-CLUSTER-01). The wire awaits the answer.
    (hub as { getContext: unknown }).getContext = (topic: string) => {
      const answer = (async () => {
        this.refuseWhenDiverged();
        await this.caughtUp();
        this.refuseWhenDiverged();
        return readLocally(topic);
      })();
      // The pull-context routes (src/wire/pull-context.ts) call it without awaiting: a refusal must not go unhandled.
      answer.catch(() => undefined);
      return answer;
    };
    this.reading = this.followLog();
    idle.start();
  }

  /** Health for /healthz (HUB-CLUSTER-05): `down` while Redis is away, and for good once this replica missed changes. */
  healthState(): HealthState & { instance: string } {
    const gap = this.replica.gap;
    if (gap) return { instance: this.instanceId, redis: 'down', reason: gapReason(gap), epoch: this.health.state.epoch, missedChanges: gap.missed };
    return { instance: this.instanceId, ...this.health.state };
  }

  /**
   * Counts every topic this replica holds in the cluster's registry, without the bound: topics
   * that exist already (a users file's, loaded records). Call after the users file is applied.
   */
  async registerTopics(): Promise<void> {
    if (this.hub) await this.registry.register(this.hub.topicIds());
  }

  /** Notes that a channel was opened on this instance for `endpoint` (the connect deadline no longer applies anywhere). */
  markConnected(endpoint: string): void {
    this.shared?.markConnected(endpoint);
  }

  /** Looks up an endpoint another instance issued and adopts it; false when there is none. */
  adoptEndpoint(endpoint: string): Promise<boolean> {
    return this.shared?.adoptEndpoint(endpoint) ?? Promise.resolve(false);
  }

  /** Stops following Redis and closes its connections (the engine is shut down by its door). */
  async close(): Promise<void> {
    this.closed = true;
    this.health.stop();
    this.idle?.stop();
    for (const w of this.waiters.values()) w.reject(new HubError(503, 'transient', 'the hub is shutting down'));
    this.waiters.clear();
    this.replica.releaseAll();
    this.reader.disconnect();
    await this.reading?.catch(() => undefined);
    this.listener.disconnect();
    await this.cmd.quit().catch(() => this.cmd.disconnect());
  }

  // ---- context changes ------------------------------------------------------------------

  private async publish(body: unknown, pathTopic: string | undefined): Promise<PublishResult> {
    const port = this.port!;
    const { topic, change } = prepareChange(body, pathTopic, port.clock.now(), port.crypto);
    if (topic === RESERVED_TOPIC) throw reservedTopic();
    this.refuseWhenDiverged();
    const token = `${this.instanceId}.${++this.counter}`;
    const answered = new Promise<PublishResult>((resolve, reject) => this.waiters.set(token, { topic, resolve, reject }));
    answered.catch(() => undefined); // the reader may answer before the append's reply arrives
    const entry = JSON.stringify({ o: token, c: change });
    for (let attempt = 0; ; attempt++) {
      await this.connected(RECONNECT_WAIT_MS);
      // A down state may be older than the reconnect that just happened: look again once.
      if (this.health.state.redis !== 'ok' && attempt === 0) await this.health.checkSoon();
      const state = this.health.state;
      try {
        if (state.redis !== 'ok' || state.epoch === undefined) throw new Error(`this hub instance cannot reach Redis (${state.reason ?? 'restoring'})`);
        // The topic bound is checked in the same atomic step as the append (HUB-BOUND-05 cluster-wide).
        await appendChange(this.cmd, this.keys, state.epoch, this.health.redisNow() + APPEND_DEADLINE_MS, entry, { topic, maxTopics: port.bounds.maxTopics });
        return await answered;
      } catch (error) {
        if (error instanceof HubError) throw error; // the replica's own answer (404, 409)
        if (isTopicBoundError(error)) {
          this.waiters.delete(token);
          port.emit({ at: port.clock.now(), type: 'reject', status: 503, topic, detail: `cluster topic bound of ${port.bounds.maxTopics} reached` });
          throw clusterTopicBound(port.bounds);
        }
        const why = error instanceof Error ? error.message : String(error);
        // Redis came back empty: once this instance has written its state back, one more try.
        if (why.startsWith('EPOCH') && attempt === 0) {
          await this.health.checkSoon();
          continue;
        }
        this.waiters.delete(token);
        throw new HubError(503, 'transient', `the change was not applied: Redis did not take it (${why}); retry`);
      }
    }
  }

  /** Resolves once this replica applied every change in the log now; at once when Redis is away (local state is served). */
  private async caughtUp(): Promise<void> {
    let last: Array<[string, string[]]>;
    try {
      last = (await this.cmd.xrevrange(this.keys.log, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    } catch {
      return;
    }
    if (last[0]) await this.replica.reach(parsePosition(last[0][0]), COMMAND_TIMEOUT_MS);
  }

  /** Resolves once the command connection is ready, or after `ms` (a reconnect in progress is waited for). */
  private connected(ms: number): Promise<void> {
    if (this.cmd.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.cmd.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.cmd.once('ready', done);
    });
  }

  private async followLog(): Promise<void> {
    while (!this.closed) {
      let entries;
      try {
        entries = await waitForEntries(this.reader, this.keys, this.replica.position, READ_BLOCK_MS);
      } catch {
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, 200)); // Redis is away; the client reconnects by itself
        continue;
      }
      for (const entry of entries) {
        // Every entry is applied here, whether or not this instance took the request.
        const outcome = this.replica.apply(entry);
        if (!outcome) continue;
        if ('gap' in outcome) {
          this.diverge(outcome.gap);
          return;
        }
        if ('forgot' in outcome) {
          // A forget entry: a topic kept here (its subscriber came after the cluster's check) counts again.
          this.idle!.applied(outcome.forgot, outcome.verdict);
          continue;
        }
        const waiter = this.waiters.get(outcome.token);
        this.waiters.delete(outcome.token);
        if ('result' in outcome) waiter?.resolve(outcome.result);
        else {
          waiter?.reject(outcome.error);
          // A refused first change took a slot for a topic no replica holds: give it back.
          if (waiter && !this.port!.hasTopic(waiter.topic)) void this.idle!.forget(waiter.topic, false);
        }
      }
    }
  }

  // ---- entries missed: the replica stops (issue 15) -------------------------------------------

  /** Stops serving after a gap in the log: nothing more is applied, and the changes waiting here learn it. */
  private diverge(gap: LogGap): void {
    const reason = gapReason(gap);
    this.log(`tabcast: ${reason}`);
    this.idle?.stop();
    // Their entries are in the log, so other replicas may apply them: the outcome is unknown here.
    const unknown = new HubError(503, 'transient', `${reason}. This instance cannot tell whether the change was applied: send the same event (same id) again to another instance`);
    for (const w of this.waiters.values()) w.reject(unknown);
    this.waiters.clear();
    this.declareDiverged(reason);
  }

  private refuseWhenDiverged(): void {
    const gap = this.replica.gap;
    if (gap) throw new HubError(503, 'transient', gapReason(gap));
  }

  // ---- Redis lost its data -----------------------------------------------------------------

  /** Writes this replica's records and live subscriptions back into an empty Redis. */
  private async restoreAfterDataLoss(): Promise<void> {
    if (this.replica.gap) return; // its records are known to be stale: other instances write theirs
    await this.storage.rewriteAll();
    await this.shared?.rewriteAll();
    await this.registerTopics();
  }
}

function reservedTopic(): HubError {
  return badRequest(`"${RESERVED_TOPIC}" is not a topic: ${RESERVED_TOPIC} is the hub's health route`, 'value');
}
