/**
 * HUB-CLUSTER-01: the Redis storage of the engine's per-key records on a real redis-server. Several
 * instances write the same records in any order; a late write of an older value never wins, and a
 * deleted record stays deleted.
 */
import { describe, expect, it } from 'vitest';
import { clusterKeys, RedisStorage } from '../../../src/cluster/index.js';
import type { LogPosition } from '../../../src/cluster/log-position.js';
import { findRedisServer, useRedis } from './redis-server.js';

describe.skipIf(!findRedisServer())('HUB-CLUSTER-01 RedisStorage on a real Redis', () => {
  const live = useRedis();

  /** A storage whose writes carry the tag `at.current`. */
  const writer = (prefix: string, at: { current: LogPosition }) => new RedisStorage(live.redis, clusterKeys(prefix), () => at.current);

  it('HUB-CLUSTER-01 a late write of an older value is ignored; a delete stays; each topic reports how far its records go', async () => {
    const at = { current: { ms: 5, seq: 0 } };
    const newer = writer('t1', at);
    await newer.writeBatch(new Map<string, unknown>([['ctx/T/Patient/p', { v: 'five' }], ['topic/T', { topic: 'T' }]]));
    const late = { current: { ms: 3, seq: 7 } };
    await writer('t1', late).writeBatch(new Map([['ctx/T/Patient/p', { v: 'three' }]]));
    const loaded = await writer('t1', at).loadAll();
    expect(loaded.get('ctx/T/Patient/p')).toEqual({ v: 'five' });

    at.current = { ms: 6, seq: 0 };
    await newer.writeBatch(new Map([['ctx/T/Patient/p', undefined]]));
    await writer('t1', { current: { ms: 5, seq: 9 } }).writeBatch(new Map([['ctx/T/Patient/p', { v: 'revived' }]]));
    const reader = writer('t1', at);
    const after = await reader.loadAll();
    expect(after.has('ctx/T/Patient/p')).toBe(false);
    expect(after.get('topic/T')).toEqual({ topic: 'T' });
    expect(reader.loadedUpTo.get('T')).toEqual({ ms: 6, seq: 0 });
  });

  it('HUB-CLUSTER-05 rewriteAll puts every live record back into an empty Redis', async () => {
    const at = { current: { ms: 9, seq: 1 } };
    const storage = writer('t2', at);
    await storage.writeBatch(new Map<string, unknown>([['identity', { salt: 's' }], ['topic/U', { topic: 'U' }], ['ctx/U/Patient/q', { v: 1 }]]));
    await storage.writeBatch(new Map([['ctx/U/Patient/q', undefined]]));
    await live.redis.flushall();
    await storage.rewriteAll();
    const back = await writer('t2', at).loadAll();
    expect([...back.keys()].sort()).toEqual(['identity', 'topic/U']);
  });
});
