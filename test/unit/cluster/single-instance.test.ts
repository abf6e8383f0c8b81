/**
 * HUB-CLUSTER-05/06 at the edges: the command line, /healthz without --redis, an unreachable
 * Redis at start-up, and one in-process instance on a real Redis (records loaded by a second one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from '../../../src/server/args.js';
import { startServer } from '../../../src/server/index.js';
import { topicOfKey } from '../../../src/cluster/index.js';
import { patientOpen } from '../wire/support.js';
import { cleanup, getContext, publish, track } from '../server/support.js';
import { findRedisServer, freePort, RedisServer } from './redis-server.js';

afterAll(cleanup);

describe('HUB-CLUSTER-06 without --redis nothing changes', () => {
  it('HUB-CLUSTER-06 serve parses --redis and --instance-id, and refuses malformed ones', () => {
    const cmd = parseCommandLine(['serve', '--redis', 'redis://127.0.0.1:6379', '--instance-id', 'hub-1']);
    expect(cmd).toMatchObject({ command: 'serve', args: { redis: 'redis://127.0.0.1:6379', instanceId: 'hub-1' } });
    const plain = parseCommandLine(['serve']);
    expect(plain.command === 'serve' && plain.args.redis).toBeUndefined();
    expect(() => parseCommandLine(['serve', '--redis', 'http://x'])).toThrow(UsageError);
    expect(() => parseCommandLine(['serve', '--instance-id', 'a b'])).toThrow(/instance-id/);
  });

  it('HUB-CLUSTER-05 HUB-CLUSTER-06 a single hub answers /healthz with no Redis, and healthz is no topic there either', async () => {
    const server = track(await startServer({ port: 0, heartbeatMs: 0 }));
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ instance: 'single', redis: 'none' });
    expect((await publish(`${server.url}/healthz`, patientOpen(undefined, 'p'))).status).toBe(400);
    expect((await publish(`${server.url}/other`, patientOpen(undefined, 'p'))).status).toBe(202);
  });

  it('HUB-CLUSTER-05 an unreachable Redis stops the start with a reason', async () => {
    const port = await freePort();
    await expect(startServer({ port: 0, redis: `redis://127.0.0.1:${port}` })).rejects.toThrow(/Redis/);
  });

  it('HUB-CLUSTER-01 record keys of both schemes name their topic', () => {
    expect(topicOfKey('topic/a%2Fb')).toBe('a/b');
    expect(topicOfKey('ctx/t1/Patient/p')).toBe('t1');
    expect(topicOfKey('res/t1/Patient/p/Observation/o')).toBe('t1');
    expect(topicOfKey('identity')).toBeUndefined();
  });
});

describe.skipIf(!findRedisServer())('HUB-CLUSTER-01 in-process instances on a real Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await cleanup();
    await redis?.stop();
  });

  it('HUB-CLUSTER-01 a second instance started later restores open contexts and the users file topics from Redis', async () => {
    const users = { secret: 's3cret', groups: [['alice', 'bob']] };
    const first = track(await startServer({ port: 0, heartbeatMs: 0, redis: redis.url, instanceId: 'one', users }));
    const auth = { authorization: 'Bearer s3cret' };
    const topicRes = await fetch(`${first.url}/gettopic?username=alice&secret=s3cret`);
    const topic = ((await topicRes.json()) as Record<string, string>)['hub.topic']!;
    expect((await publish(first.url, patientOpen(topic, 'p-1'), auth)).status).toBe(202);
    await first.hub.flush();
    const second = track(await startServer({ port: 0, heartbeatMs: 0, redis: redis.url, instanceId: 'two', users }));
    const again = await fetch(`${second.url}/gettopic?username=bob&secret=s3cret`);
    expect(((await again.json()) as Record<string, string>)['hub.topic']).toBe(topic);
    expect((await getContext(second.url, topic, auth)).context[0].resource.id).toBe('p-1');
    expect((await (await fetch(`${second.url}/healthz`)).json()).instance).toBe('two');
  });
});
