/**
 * Redis keys and the Lua scripts of cluster mode. Every key starts with one prefix, so several
 * hubs can share a Redis; scripts run atomically, which is what makes the log a single order.
 */

/** The Redis keys of one cluster. */
export interface ClusterKeys {
  /** The change log (a stream): the one order of every accepted change. */
  log: string;
  /** The number of the log's last entry; each entry carries its number, so a reader finds entries it missed. */
  logSequence: string;
  /** A random value set when the cluster's state was first written; gone after Redis lost its data. */
  epoch: string;
  /** The set of record keys, for loading. */
  records: string;
  /** Prefix of the hash holding one engine record with its tag. */
  recordPrefix: string;
  /** A subscription any instance may accept (expires with its lease). */
  subscription(endpoint: string): string;
  /** Pub/sub channel for what is not state: subscription notices and SyncErrors. */
  control: string;
  /** Serialises instance start-up (users file, restore). */
  startupLock: string;
  /** The set of every topic the cluster holds: the topic bound counts it (HUB-BOUND-05, HUB-CLUSTER-06). */
  topics: string;
  /** Hash topic → id of its last change in the log, so a forget can tell whether the topic was used since. */
  topicLast: string;
  /** Prefix of the sorted set of a topic's shared subscriptions, scored by when each stops counting (ms, Redis clock). */
  topicSubscriptionPrefix: string;
  /** The sorted set of one topic's shared subscriptions. */
  topicSubscriptions(topic: string): string;
}

/** Keys under `prefix` (default `tabcast`). */
export function clusterKeys(prefix = 'tabcast'): ClusterKeys {
  return {
    log: `${prefix}:log`,
    logSequence: `${prefix}:log-seq`,
    epoch: `${prefix}:epoch`,
    records: `${prefix}:records`,
    recordPrefix: `${prefix}:rec:`,
    subscription: (endpoint) => `${prefix}:sub:${endpoint}`,
    control: `${prefix}:control`,
    startupLock: `${prefix}:startup`,
    topics: `${prefix}:topics`,
    topicLast: `${prefix}:topic-last`,
    topicSubscriptionPrefix: `${prefix}:tsubs:`,
    topicSubscriptions: (topic) => `${prefix}:tsubs:${topic}`,
  };
}

/** The error a script answers when a new topic would exceed the cluster's topic bound. */
export const TOPIC_BOUND_ERROR = 'FULL';

/**
 * Appends a change to the log. Refused when Redis lost its data since this instance last saw it
 * (the epoch differs), when the script runs after its deadline in Redis's own time (a change
 * whose publisher was already told 503, Redis paused then resumed, is never applied later), and
 * when its topic is new and the cluster already holds `maxTopics` topics. The topic check and the
 * append are one atomic step, so two instances racing for the last slot cannot both take it.
 * The entry carries the next number of the log's sequence (`s`); a refused change takes none.
 * KEYS: log, epoch, topics, topicLast, logSequence. ARGV: epoch, deadline (ms, Redis clock), entry, max log length, topic, maxTopics.
 */
export const APPEND_SCRIPT = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return redis.error_reply('EPOCH Redis lost its data; the cluster is restoring it') end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now > tonumber(ARGV[2]) then return redis.error_reply('LATE the change reached Redis after its deadline and was not applied') end
if redis.call('SISMEMBER', KEYS[3], ARGV[5]) == 0 then
  if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[6]) then return redis.error_reply('${TOPIC_BOUND_ERROR} the cluster holds its limit of topics') end
  redis.call('SADD', KEYS[3], ARGV[5])
end
local s = redis.call('INCR', KEYS[5])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'c', ARGV[3], 's', s)
redis.call('HSET', KEYS[4], ARGV[5], id)
return id
`;

/**
 * Writes records tagged with the log position their values reflect; a record already stored
 * with a later tag is kept (several instances write the same records, in any order).
 * KEYS: records set. ARGV: tag ms, tag seq, record prefix, then (key, 's'|'d', value) triples.
 */
export const WRITE_SCRIPT = `
local ms, sq = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 4, #ARGV, 3 do
  local k = ARGV[3] .. ARGV[i]
  local cur = redis.call('HMGET', k, 'ms', 'sq')
  local cms, csq = tonumber(cur[1]), tonumber(cur[2])
  if not cms or cms < ms or (cms == ms and csq <= sq) then
    redis.call('HSET', k, 'ms', ARGV[1], 'sq', ARGV[2], 'd', ARGV[i + 1], 'v', ARGV[i + 2])
    redis.call('SADD', KEYS[1], ARGV[i])
  end
end
return 1
`;

/**
 * Reads every record in one atomic step: flat (key, ms, seq, kind, value) quintuples.
 * KEYS: records set. ARGV: record prefix.
 */
export const LOAD_SCRIPT = `
local out = {}
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local h = redis.call('HMGET', ARGV[1] .. key, 'ms', 'sq', 'd', 'v')
  if h[1] then
    out[#out + 1] = key; out[#out + 1] = h[1]; out[#out + 1] = h[2]; out[#out + 1] = h[3]; out[#out + 1] = h[4]
  end
end
return out
`;
