/**
 * The engine's `HubStorage` on Redis: one hash per engine record, tagged with the log position its
 * value reflects. Every instance writes what it applied; a late write of an older value never
 * replaces a newer one. Loading is one atomic script, and tells per topic how far records go.
 */
import type { Redis } from 'ioredis';
import type { HubStorage } from '../hub/index.js';
import { LOAD_SCRIPT, WRITE_SCRIPT, type ClusterKeys } from './keys.js';
import { comparePositions, LOG_START, type LogPosition } from './log-position.js';

/** The topic a record key belongs to, for both key schemes of the engine (`topic:T`, `topic/T`, `ctx/T/…`, `res/T/…`). */
export function topicOfKey(key: string): string | undefined {
  if (key.startsWith('topic:')) return key.slice('topic:'.length);
  const m = /^(?:topic|ctx|res)\/([^/]+)/.exec(key);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}

/** HubStorage on Redis, plus what cluster mode needs around it. */
export class RedisStorage implements HubStorage {
  /** Per topic, the latest log position its stored records reflect (set by `loadAll`). */
  readonly loadedUpTo = new Map<string, LogPosition>();
  /** The JSON of every live record as last written or loaded: rewritten when Redis comes back empty. */
  private readonly known = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    /** The log position the engine's state reflects when a batch is produced. */
    private readonly position: () => LogPosition,
  ) {}

  /** Reads every record atomically. */
  async loadAll(): Promise<Map<string, unknown>> {
    const flat = (await this.redis.eval(LOAD_SCRIPT, 1, this.keys.records, this.keys.recordPrefix)) as string[];
    const out = new Map<string, unknown>();
    for (let i = 0; i + 4 < flat.length; i += 5) {
      const key = flat[i]!;
      const at = { ms: Number(flat[i + 1]), seq: Number(flat[i + 2]) };
      const topic = topicOfKey(key);
      if (topic !== undefined) {
        const prev = this.loadedUpTo.get(topic);
        if (!prev || comparePositions(prev, at) < 0) this.loadedUpTo.set(topic, at);
      }
      if (flat[i + 3] !== 's') continue; // a tombstone: deleted, kept so a late write cannot revive it
      this.known.set(key, flat[i + 4]!);
      out.set(key, JSON.parse(flat[i + 4]!));
    }
    return out;
  }

  /** Writes a batch atomically, tagged with the engine's log position. */
  async writeBatch(changes: ReadonlyMap<string, unknown>): Promise<void> {
    if (changes.size === 0) return;
    const at = this.position();
    const args: string[] = [];
    const written: Array<[string, string | undefined]> = [];
    for (const [key, value] of changes) {
      const json = value === undefined ? undefined : JSON.stringify(value);
      args.push(key, json === undefined ? 'd' : 's', json ?? '');
      written.push([key, json]);
    }
    await this.redis.eval(WRITE_SCRIPT, 1, this.keys.records, String(at.ms), String(at.seq), this.keys.recordPrefix, ...args);
    for (const [key, json] of written) {
      if (json === undefined) this.known.delete(key);
      else this.known.set(key, json);
    }
  }

  /** Writes every record this instance holds again (after Redis restarted without its data). */
  async rewriteAll(): Promise<void> {
    const at = this.position();
    const args: string[] = [];
    for (const [key, json] of this.known) args.push(key, 's', json);
    if (args.length === 0) return;
    await this.redis.eval(WRITE_SCRIPT, 1, this.keys.records, String(at.ms), String(at.seq), this.keys.recordPrefix, ...args);
  }
}

/** The position before any change: records written before the first one carry it. */
export const BEFORE_ANY_CHANGE = LOG_START;
