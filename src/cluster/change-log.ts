/**
 * The shared change log: appending a change (one atomic script) and reading every change in log
 * order on a connection of its own. Reading is the only way a change reaches an engine, also on
 * the instance that appended it, so every replica applies the same changes in the same order.
 */
import type { Redis } from 'ioredis';
import { APPEND_SCRIPT, type ClusterKeys } from './keys.js';
import { formatPosition, parsePosition, type LogPosition } from './log-position.js';

/** How many entries the log keeps (approximately); a reader further behind misses entries, finds the gap (log-sequence.ts) and stops. */
export const LOG_LENGTH = 10_000;

/** One entry as read. */
export interface LogEntry {
  position: LogPosition;
  text: string;
  /** Its number in the log (1, 2, 3, … since the log began); absent in entries of older versions. */
  sequence?: number;
}

type WithAppend = Redis & { tabcastAppend?(...args: string[]): Promise<string> };

/** Where a change goes and what bounds it: its topic, which takes one of `maxTopics` slots when new. */
export interface AppendTarget {
  topic: string;
  maxTopics: number;
}

/** Appends `text`; rejects with the script's error (EPOCH, LATE, FULL) or the connection's. */
export async function appendChange(redis: Redis, keys: ClusterKeys, epoch: string, deadlineRedisMs: number, text: string, target: AppendTarget): Promise<LogPosition> {
  const client = redis as WithAppend;
  // EVALSHA with a fallback to EVAL: the script text is not sent with every change.
  if (!client.tabcastAppend) redis.defineCommand('tabcastAppend', { numberOfKeys: 5, lua: APPEND_SCRIPT });
  const id = await client.tabcastAppend!(keys.log, keys.epoch, keys.topics, keys.topicLast, keys.logSequence, epoch, String(Math.floor(deadlineRedisMs)), text, String(LOG_LENGTH), target.topic, String(target.maxTopics));
  return parsePosition(id);
}

/** Reads entries after `after`, oldest first, in pages; used at start-up. */
export async function readFrom(redis: Redis, keys: ClusterKeys, after: LogPosition, visit: (entry: LogEntry) => void): Promise<LogPosition> {
  let from = after;
  for (;;) {
    const page = (await redis.xrange(keys.log, `(${formatPosition(from)}`, '+', 'COUNT', 1000)) as Array<[string, string[]]>;
    for (const [id, fields] of page) {
      from = parsePosition(id);
      visit(readEntry(id, fields));
    }
    if (page.length < 1000) return from;
  }
}

/**
 * Waits up to `blockMs` for entries after `after`. The client must time out commands, so a
 * paused Redis is noticed here too.
 */
export async function waitForEntries(redis: Redis, keys: ClusterKeys, after: LogPosition, blockMs: number): Promise<LogEntry[]> {
  const reply = (await redis.xread('COUNT', 500, 'BLOCK', blockMs, 'STREAMS', keys.log, formatPosition(after))) as Array<[string, Array<[string, string[]]>]> | null;
  if (!reply) return [];
  return reply[0]![1].map(([id, fields]) => readEntry(id, fields));
}

/** An entry from its stream id and fields: `c` the entry's text, `s` its sequence number. */
function readEntry(id: string, fields: string[]): LogEntry {
  const entry: LogEntry = { position: parsePosition(id), text: fieldValue(fields, 'c') ?? '' };
  const sequence = parseSequence(fieldValue(fields, 's'));
  if (sequence !== undefined) entry.sequence = sequence;
  return entry;
}

function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** A sequence number field; undefined when absent or not a positive integer. */
function parseSequence(field: string | undefined): number | undefined {
  if (field === undefined || !/^[1-9]\d{0,15}$/.test(field)) return undefined;
  const n = Number(field);
  return Number.isSafeInteger(n) ? n : undefined;
}
