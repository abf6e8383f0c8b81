/**
 * The cluster's topics and who still uses them, in Redis (HUB-CLUSTER-06): the set every instance's
 * topic bound counts, each topic's shared subscriptions (scored by when they stop counting), and
 * the one atomic step that forgets an idle topic everywhere by appending it to the change log.
 */
import type { Redis } from 'ioredis';
import { atCapacity, type HubBounds } from '../hub/bounds.js';
import type { SharedSubscription } from '../hub/replica.js';
import type { HubError } from '../protocol/index.js';
import { TOPIC_BOUND_ERROR, type ClusterKeys } from './keys.js';
import type { LogPosition } from './log-position.js';

/** Redis's clock in ms, inside a script. */
const REDIS_NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Stores a shared subscription and counts it for its topic; a subscription on a new topic takes a
 * slot of the bound (refused with FULL when none is left; `maxTopics` 0 skips the check). A record
 * already marked connected stays so, and keeps its first issue time. A never-connected subscription
 * counts until its connect deadline, a connected one for its lease.
 * KEYS: topics, subscription, topic's subscriptions. ARGV: topic, maxTopics, record JSON, lease ms, ms left to connect.
 */
const STORE_SCRIPT = `
if tonumber(ARGV[2]) > 0 and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 and redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return redis.error_reply('${TOPIC_BOUND_ERROR} the cluster holds its limit of topics')
end
redis.call('SADD', KEYS[1], ARGV[1])
local rec = cjson.decode(ARGV[3])
local old = redis.call('GET', KEYS[2])
if old then
  local o = cjson.decode(old)
  if o.connected == true then rec.connected = true end
  if o.issuedAt then rec.issuedAt = o.issuedAt end
end
local lease = tonumber(ARGV[4])
redis.call('SET', KEYS[2], cjson.encode(rec), 'PX', lease)
local live = lease
if rec.connected ~= true then live = math.min(lease, tonumber(ARGV[5])) end
${REDIS_NOW}
redis.call('ZADD', KEYS[3], now + live, rec.endpoint)
if live > 0 and redis.call('PTTL', KEYS[3]) < live then redis.call('PEXPIRE', KEYS[3], live) end
return 1
`;

/**
 * Marks a subscription as connected: from now on it counts for its whole lease, and any instance
 * may reopen it after its connect deadline.
 * KEYS: subscription. ARGV: prefix of the topics' subscription sets.
 */
const MARK_CONNECTED_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
local rec = cjson.decode(v)
if rec.connected ~= true then
  rec.connected = true
  redis.call('SET', KEYS[1], cjson.encode(rec), 'KEEPTTL')
end
${REDIS_NOW}
local z = ARGV[1] .. rec.topic
redis.call('ZADD', z, now + ttl, rec.endpoint)
if redis.call('PTTL', z) < ttl then redis.call('PEXPIRE', z, ttl) end
return 1
`;

/**
 * Forgets an idle topic everywhere, or says why not: a subscription on any instance still counts
 * for it (`subscribed`), or a change of it entered the log after the position the asking replica
 * had applied (`active`). Otherwise frees its slot and appends the forget entry, which every
 * replica applies in log order. Checking and appending are one atomic step. The entry takes the next
 * number of the log's sequence, as a change does (APPEND_SCRIPT in keys.ts).
 * KEYS: log, epoch, topics, topicLast, topic's subscriptions, logSequence. ARGV: epoch, topic, seen ms, seen seq, entry, max log length.
 */
const FORGET_SCRIPT = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 'epoch' end
${REDIS_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
if redis.call('ZCARD', KEYS[5]) > 0 then return 'subscribed' end
local last = redis.call('HGET', KEYS[4], ARGV[2])
if last then
  local ms, sq = string.match(last, '^(%d+)%-(%d+)$')
  ms, sq = tonumber(ms), tonumber(sq)
  local sms, ssq = tonumber(ARGV[3]), tonumber(ARGV[4])
  if ms > sms or (ms == sms and sq > ssq) then return 'active' end
end
redis.call('SREM', KEYS[3], ARGV[2])
redis.call('HDEL', KEYS[4], ARGV[2])
redis.call('DEL', KEYS[5])
local s = redis.call('INCR', KEYS[6])
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[6], '*', 'c', ARGV[5], 's', s)
`;

/** Why a forget did not happen, or that it did. */
export type ForgetVerdict = 'forgotten' | 'subscribed' | 'active' | 'epoch';

/** True for the error a script gives when a new topic would pass the cluster's bound. */
export function isTopicBoundError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith(TOPIC_BOUND_ERROR);
}

/** 503 for a request that would make one topic more than the cluster's bound (HUB-BOUND-05, HUB-CLUSTER-06). */
export function clusterTopicBound(bounds: Readonly<HubBounds>): HubError {
  return atCapacity(
    `this hub cluster holds ${bounds.maxTopics} topics over all its instances, its limit; it cannot take a new topic until idle ones are forgotten (after ${bounds.idleTopicMs / 3_600_000} h without subscribers or open contexts on any instance)`,
  );
}

/** The Redis side of the cluster-wide topic bound and of idle-topic forgetting. */
export class TopicRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
  ) {}

  /**
   * Stores a subscription for any instance to adopt and counts it for its topic. With `maxTopics`
   * > 0 a new topic must fit the bound: rejects with FULL (see `isTopicBoundError`) when it does not.
   */
  async store(shared: SharedSubscription, connectMsLeft: number, maxTopics: number): Promise<void> {
    const keys = [this.keys.topics, this.keys.subscription(shared.endpoint), this.keys.topicSubscriptions(shared.topic)];
    await this.redis.eval(STORE_SCRIPT, keys.length, ...keys, shared.topic, String(maxTopics), JSON.stringify(shared), String(shared.leaseSeconds * 1000), String(Math.max(0, Math.floor(connectMsLeft))));
  }

  /** Notes that a channel was opened for the endpoint (HUB-BOUND-06 across instances). */
  async markConnected(endpoint: string): Promise<void> {
    await this.redis.eval(MARK_CONNECTED_SCRIPT, 1, this.keys.subscription(endpoint), this.keys.topicSubscriptionPrefix);
  }

  /** Removes an ended subscription: it no longer keeps its topic alive, nor can it be adopted. */
  async release(endpoint: string, topic: string): Promise<void> {
    await this.redis.multi().del(this.keys.subscription(endpoint)).zrem(this.keys.topicSubscriptions(topic), endpoint).exec();
  }

  /** Adds topics to the registry without the bound: topics that exist already (users file, state written back). */
  async register(topics: readonly string[]): Promise<void> {
    for (let i = 0; i < topics.length; i += 1000) await this.redis.sadd(this.keys.topics, ...topics.slice(i, i + 1000));
  }

  /** Visits the registered topics a page at a time (SSCAN: Redis is not blocked by a large set). */
  async forEachPage(visit: (topics: string[]) => Promise<void>): Promise<void> {
    let cursor = '0';
    do {
      const [next, topics] = await this.redis.sscan(this.keys.topics, cursor, 'COUNT', 1000);
      cursor = next;
      await visit(topics);
    } while (cursor !== '0');
  }

  /** How many topics the cluster holds. */
  count(): Promise<number> {
    return this.redis.scard(this.keys.topics);
  }

  /** Forgets `topic` everywhere when nothing uses it (see FORGET_SCRIPT); `seen` is the log position the asking replica found it idle at. */
  async forget(epoch: string, topic: string, seen: LogPosition, entry: string, logLength: number): Promise<ForgetVerdict> {
    const keys = [this.keys.log, this.keys.epoch, this.keys.topics, this.keys.topicLast, this.keys.topicSubscriptions(topic), this.keys.logSequence];
    const reply = (await this.redis.eval(FORGET_SCRIPT, keys.length, ...keys, epoch, topic, String(seen.ms), String(seen.seq), entry, String(logLength))) as string;
    return reply === 'subscribed' || reply === 'active' || reply === 'epoch' ? reply : 'forgotten';
  }
}
