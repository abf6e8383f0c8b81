/**
 * HUB-CLUSTER-06: the Redis scripts behind the cluster-wide topic bound, idle forgetting and the
 * connect deadline, on a real redis-server: what a forget checks before it frees a slot, and how a
 * shared subscription counts for its topic before and after it is connected.
 */
import { describe, expect, it } from 'vitest';
import { appendChange } from '../../../src/cluster/change-log.js';
import { clusterKeys, type ClusterKeys } from '../../../src/cluster/keys.js';
import { isTopicBoundError, TopicRegistry } from '../../../src/cluster/topic-registry.js';
import type { SharedSubscription } from '../../../src/hub/replica.js';
import { findRedisServer, useRedis } from './redis-server.js';

const EPOCH = 'epoch-1';

function subscription(endpoint: string, topic: string, extra: Partial<SharedSubscription> = {}): SharedSubscription {
  return { endpoint, topic, events: 'Patient-open', leaseSeconds: 600, autoRenew: false, name: endpoint, issuedAt: 1_700_000_000_000, connected: false, ...extra };
}

describe.skipIf(!findRedisServer())('HUB-CLUSTER-06 the topic registry on a real Redis', () => {
  const live = useRedis();

  async function setUp(prefix: string): Promise<{ keys: ClusterKeys; registry: TopicRegistry }> {
    const keys = clusterKeys(prefix);
    await live.redis.set(keys.epoch, EPOCH);
    return { keys, registry: new TopicRegistry(live.redis, keys) };
  }

  const append = (keys: ClusterKeys, topic: string, maxTopics: number) => appendChange(live.redis, keys, EPOCH, Date.now() + 60_000, `{"change":"${topic}"}`, { topic, maxTopics });

  it('HUB-CLUSTER-06 HUB-BOUND-05 a forget is refused after a change the asking replica had not applied, and while a subscription counts; then it frees the slot and enters the log', async () => {
    const { keys, registry } = await setUp('r1');
    const first = await append(keys, 'T', 5);
    const second = await append(keys, 'T', 5);
    expect(await registry.forget(EPOCH, 'T', first, '{"f":"T"}', 100)).toBe('active');
    expect(await registry.forget('another-epoch', 'T', second, '{"f":"T"}', 100)).toBe('epoch');
    await registry.store(subscription('e1', 'T', { connected: true }), 0, 0);
    expect(await registry.forget(EPOCH, 'T', second, '{"f":"T"}', 100)).toBe('subscribed');
    await registry.release('e1', 'T');
    expect(await registry.forget(EPOCH, 'T', second, '{"f":"T","o":"x"}', 100)).toBe('forgotten');
    expect(await live.redis.sismember(keys.topics, 'T')).toBe(0);
    const last = (await live.redis.xrevrange(keys.log, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    // The forget entry takes the log's next number after the two changes (the gap check, log-sequence.ts).
    expect(last[0]?.[1]).toEqual(['c', '{"f":"T","o":"x"}', 's', '3']);
  });

  it('HUB-CLUSTER-06 HUB-BOUND-05 a new topic past the bound is refused by the append and by a subscription; a topic already held is not', async () => {
    const { keys, registry } = await setUp('r2');
    await append(keys, 'A', 2);
    await registry.store(subscription('e1', 'B', { connected: true }), 0, 2);
    expect(await registry.count()).toBe(2);
    await expect(append(keys, 'C', 2)).rejects.toSatisfy(isTopicBoundError);
    await expect(registry.store(subscription('e2', 'C'), 60_000, 2)).rejects.toSatisfy(isTopicBoundError);
    await append(keys, 'B', 2);
    await registry.store(subscription('e3', 'A'), 60_000, 2);
    expect(await live.redis.smembers(keys.topics)).toHaveLength(2);
    expect(await live.redis.smismember(keys.topics, 'A', 'B', 'C')).toEqual([1, 1, 0]);
  });

  it('HUB-CLUSTER-06 HUB-BOUND-06 a never-connected subscription counts for its topic only until its connect deadline; once marked connected it counts for its lease and keeps its first issue time', async () => {
    const { keys, registry } = await setUp('r3');
    const seen = { ms: 0, seq: 0 };
    await registry.store(subscription('late', 'T1'), 0, 0);
    expect(await registry.forget(EPOCH, 'T1', seen, '{}', 100)).toBe('forgotten');
    await registry.store(subscription('marked', 'T2'), 0, 0);
    await registry.markConnected('marked');
    // A renewal through an instance whose copy never connected, with its own later issue time.
    await registry.store(subscription('marked', 'T2', { issuedAt: 1_800_000_000_000, connected: false }), 0, 0);
    expect(JSON.parse((await live.redis.get(keys.subscription('marked')))!)).toMatchObject({ connected: true, issuedAt: 1_700_000_000_000 });
    expect(await registry.forget(EPOCH, 'T2', seen, '{}', 100)).toBe('subscribed');
  });
});
