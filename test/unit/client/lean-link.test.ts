/**
 * Issue 17, the lean events link (LEAN_PROTOCOL): a page publishes on the events port and gets its
 * Result back by id, notifications cross as their JSON text, and the host sends what one task
 * produced for a page as one array. A page of the older protocol still gets what it always got. Node's
 * MessageChannel stands in for the SharedWorker's ports.
 */
import { transfer, wrap, type Endpoint } from 'comlink';
import { MessageChannel, type MessagePort as NodePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import { webCrypto } from '../../../src/adapters/web-crypto.js';
import { HubError } from '../../../src/client/index.js';
import { Hub } from '../../../src/hub/index.js';
import { holdLock, randomId } from '../../../src/link/locks.js';
import { MAX_BATCH } from '../../../src/link/batching.js';
import { CLIENT_LOCK_PREFIX, LEAN_PROTOCOL, TEXT_PROTOCOL, type HostApi, type Link } from '../../../src/link/messages.js';
import { HostRuntime } from '../../../src/host/runtime.js';
import { FakeLocks } from './support/fake-locks.js';
import { channelTransport, openPage, patientOpen, startHost, until } from './support/rig.js';

const HUB_URL = 'http://127.0.0.1:5200/fhircast/hub';
const LIMIT = 4096;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function host() {
  const locks = new FakeLocks();
  const hub = await Hub.create({ clock: { now: () => Date.now() }, crypto: webCrypto, storage: memoryStorage(), heartbeatMs: 0 });
  const runtime = await HostRuntime.start({ hub, locks: locks.context(), bodyLimitBytes: LIMIT });
  return { hub, runtime, locks };
}

/** A page on raw ports speaking `protocol`; `posts` is every postMessage the host made on its events port, as sent. */
async function rawPage(h: Awaited<ReturnType<typeof host>>, protocol: number) {
  const control = new MessageChannel();
  h.runtime.accept(control.port1 as unknown as Link);
  const api = wrap<HostApi>(control.port2 as unknown as Endpoint);
  const events = new MessageChannel();
  const posts: unknown[] = [];
  events.port1.on('message', (m: unknown) => posts.push(m));
  const welcome = await api.hello(transfer({ protocol, hubUrl: HUB_URL, events: events.port2 as unknown as MessagePort }, [events.port2 as unknown as Transferable]));
  expect(welcome.ok).toBe(true);
  const lock = `${CLIENT_LOCK_PREFIX}${randomId()}`;
  await holdLock(h.locks.context(), lock);
  expect((await api.watch(lock)).ok).toBe(true);
  cleanups.push(() => {
    control.port2.close();
    events.port1.close();
  });
  const messages = () => posts.flatMap((p) => (Array.isArray(p) ? p : [p])) as any[];
  return { api, events: events.port1 as NodePort, posts, messages };
}

const change = (id: string, topic = 'room-7') => ({ timestamp: '2025-03-02T09:15:00Z', id, event: { 'hub.topic': topic, ...patientOpen(`p-${id}`) } });

describe('issue 17: the lean events link', () => {
  it('HUB-CHANGE-01 HUB-CHANGE-08 HUB-CHANGE-07 a publish on the events port is answered by its id: 202, a 400 naming the problem, a 413 over the limit', async () => {
    const h = await host();
    const page = await rawPage(h, LEAN_PROTOCOL);
    const cyclic: Record<string, unknown> = { ...change('cycle') };
    cyclic.self = cyclic;
    page.events.postMessage({ t: 'publish', id: 1, body: change('ok-1') });
    page.events.postMessage({ t: 'publish', id: 2, body: cyclic });
    page.events.postMessage({ t: 'publish', id: 3, body: { id: 'no-event' } });
    page.events.postMessage({ t: 'publish', id: 4, body: { ...change('big'), pad: 'x'.repeat(LIMIT) } });
    await until(() => page.messages().filter((m) => m.t === 'published').length === 4, 'four answers');
    const answers = new Map(page.messages().filter((m) => m.t === 'published').map((m) => [m.id, m.result]));
    expect(answers.get(1)).toStrictEqual({ ok: true, value: { status: 202, id: 'ok-1' } });
    expect(answers.get(2)).toMatchObject({ ok: false, error: { status: 400 } });
    expect(answers.get(2).error.outcome.issue[0].diagnostics).toMatch(/plain JSON/);
    expect(answers.get(3)).toMatchObject({ ok: false, error: { status: 400 } });
    expect(answers.get(3).error.outcome.issue[0].diagnostics).toMatch(/event/);
    expect(answers.get(4)).toMatchObject({ ok: false, error: { status: 413 } });
    // Only the valid change was applied.
    expect(h.hub.inspect().topics.find((t) => t.topic === 'room-7')!.open.map((o) => o.id)).toStrictEqual(['p-ok-1']);
  });

  it('HUB-SEC-09 a publish with a mistyped id or no body is refused with an error message and applies nothing', async () => {
    const h = await host();
    const page = await rawPage(h, LEAN_PROTOCOL);
    page.events.postMessage({ t: 'publish', id: 'one', body: change('a') });
    page.events.postMessage({ t: 'publish', id: 2 });
    await until(() => page.messages().filter((m) => m.t === 'error').length === 2, 'two error messages');
    expect(page.messages().some((m) => m.t === 'published')).toBe(false);
    expect(h.hub.inspect().topics.find((t) => t.topic === 'room-7')).toBeUndefined();
  });

  it('HUB-CHANGE-16 notifications reach a lean page as the JSON text of the notification, and what one task produced for it arrives as one array', async () => {
    const h = await host();
    const subscriber = await rawPage(h, LEAN_PROTOCOL);
    for (const sub of ['s1', 's2', 's3']) expect((await subscriber.api.subscribe(sub, { topic: 'room-7', events: ['Patient-open'] })).ok).toBe(true);
    const publisher = await rawPage(h, LEAN_PROTOCOL);
    publisher.events.postMessage({ t: 'publish', id: 1, body: change('once') });
    await until(() => subscriber.messages().filter((m) => m.t === 'event').length === 3, 'three notifications');
    // One publish, three subscriptions of one page: one message, an array of the three.
    expect(subscriber.posts).toHaveLength(1);
    expect((subscriber.posts[0] as any[]).map((m) => [m.t, m.sub])).toStrictEqual([['event', 's1'], ['event', 's2'], ['event', 's3']]);
    const frames = subscriber.messages().map((m) => m.frame);
    for (const frame of frames) expect(typeof frame).toBe('string');
    const parsed = frames.map((f) => JSON.parse(f));
    expect(parsed.map((n) => n.id)).toStrictEqual(['once', 'once', 'once']);
    expect(parsed[0].event['hub.topic']).toBe('room-7');
    expect(parsed[0].event.context[0].resource.id).toBe('p-once');
    // The acks answer all three: nothing is left owed (HUB-CHANGE-16 tracks unanswered events).
    const view = () => h.hub.inspect().topics.find((t) => t.topic === 'room-7')!.subscribers;
    expect(view().map((s) => s.pending)).toStrictEqual([1, 1, 1]);
    for (const sub of ['s1', 's2', 's3']) subscriber.events.postMessage({ t: 'ack', sub, id: 'once', status: 200 });
    await until(() => view().every((s) => s.pending === 0), 'all three acks applied');
    expect(view().map((s) => s.lastAck?.status)).toStrictEqual([200, 200, 200]);
  });

  it('HUB-CHANGE-01 a page of the previous protocol still publishes through Comlink and gets each notification alone, as an object', async () => {
    const h = await host();
    const old = await rawPage(h, 1);
    expect((await old.api.subscribe('s1', { topic: 'room-7', events: ['Patient-open'] })).ok).toBe(true);
    const lean = await rawPage(h, LEAN_PROTOCOL);
    for (const i of [1, 2]) lean.events.postMessage({ t: 'publish', id: i, body: change(`mixed-${i}`) });
    expect(await old.api.publish(change('from-old'))).toStrictEqual({ ok: true, value: { status: 202, id: 'from-old' } });
    await until(() => old.posts.length === 3, 'three notifications for the old page');
    expect(old.posts.every((p) => !Array.isArray(p) && typeof (p as any).frame === 'object')).toBe(true);
    expect(old.posts.map((p: any) => p.frame.id).sort()).toStrictEqual(['from-old', 'mixed-1', 'mixed-2']);
  });
});

describe('issue 17: protocol 3, batched page messages and requests as JSON text', () => {
  it('HUB-CHANGE-01 HUB-CHANGE-08 HUB-CHANGE-07 an array of page messages is handled in order: a publish as text gets 202, text that is not JSON a 400, text over the limit a 413', async () => {
    const h = await host();
    const sub = await rawPage(h, TEXT_PROTOCOL);
    expect((await sub.api.subscribe('s1', { topic: 'room-7', events: ['Patient-open'] })).ok).toBe(true);
    const page = await rawPage(h, TEXT_PROTOCOL);
    page.events.postMessage([
      { t: 'publish', id: 1, text: JSON.stringify(change('t-1')) },
      { t: 'publish', id: 2, text: '{"timestamp": "2025-03-02T09:15:00Z", "id": ' },
      { t: 'publish', id: 3, text: JSON.stringify({ ...change('t-big'), pad: 'x'.repeat(LIMIT) }) },
      { t: 'publish', id: 4, text: JSON.stringify(change('t-4')) },
    ]);
    await until(() => page.messages().filter((m) => m.t === 'published').length === 4, 'four answers');
    // Answers go by id (a refusal is answered at once, a 202 once durable); the order of application shows in the notifications below.
    const byId = new Map(page.messages().filter((m) => m.t === 'published').map((m) => [m.id, m]));
    const answers = [1, 2, 3, 4].map((id) => byId.get(id));
    expect(answers[0].result).toStrictEqual({ ok: true, value: { status: 202, id: 't-1' } });
    expect(answers[1].result).toMatchObject({ ok: false, error: { status: 400 } });
    expect(answers[1].result.error.outcome.issue[0].diagnostics).toMatch(/not valid JSON/);
    expect(answers[2].result).toMatchObject({ ok: false, error: { status: 413 } });
    expect(answers[3].result).toStrictEqual({ ok: true, value: { status: 202, id: 't-4' } });
    await until(() => sub.messages().filter((m) => m.t === 'event').length === 2, 'two notifications');
    expect(sub.messages().map((m) => JSON.parse(m.frame).id)).toStrictEqual(['t-1', 't-4']);
    // The acks of that subscriber, batched the same way, are all applied.
    sub.events.postMessage(['t-1', 't-4'].map((id) => ({ t: 'ack', sub: 's1', id, status: 200 })));
    const view = () => h.hub.inspect().topics.find((t) => t.topic === 'room-7')!.subscribers[0]!;
    await until(() => view().pending === 0, 'both acks applied');
    expect(view().lastAck?.status).toBe(200);
  });

  it(`HUB-SEC-09 a batch of more than ${MAX_BATCH} messages is refused with an error message and nothing of it is applied`, async () => {
    const h = await host();
    const page = await rawPage(h, TEXT_PROTOCOL);
    page.events.postMessage(Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ t: 'publish', id: i + 1, text: JSON.stringify(change(`over-${i}`)) })));
    page.events.postMessage({ t: 'publish', id: 9999, text: JSON.stringify(change('after')) });
    await until(() => page.messages().some((m) => m.t === 'published'), 'the answer to the single publish after it');
    const errors = page.messages().filter((m) => m.t === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].error.outcome.issue[0].diagnostics).toMatch(new RegExp(`at most ${MAX_BATCH}`));
    expect(page.messages().filter((m) => m.t === 'published').map((m) => m.id)).toStrictEqual([9999]);
    expect(h.hub.inspect().topics.find((t) => t.topic === 'room-7')!.open.map((o) => o.id)).toStrictEqual(['p-after']);
  });
});

describe('issue 17: hub.publish over the lean link', () => {
  async function pages() {
    const locks = new FakeLocks();
    const h = await startHost(locks);
    const transport = channelTransport(() => h);
    const a = await openPage(locks, transport, 'A');
    const b = await openPage(locks, transport, 'B');
    cleanups.push(() => h.die(), () => a.hub.close(), () => b.hub.close());
    return { h, a, b };
  }

  it('HUB-CHANGE-01 HUB-CHANGE-16 a burst of publishes from one task: every promise resolves 202 and the subscriber gets every event in order', async () => {
    const { a, b } = await pages();
    const topic = await a.hub.createTopic();
    const got: string[] = [];
    await b.hub.subscribe({ topic, events: ['Patient-open'] }, (n) => void got.push(n.id));
    const results = await Promise.all(Array.from({ length: 600 }, (_, i) => a.hub.publish(topic, { id: `n-${i}`, ...patientOpen(`p${i}`) })));
    expect(results.map((r) => r.status)).toStrictEqual(Array(600).fill(202));
    expect(results.map((r) => r.id)).toStrictEqual(Array.from({ length: 600 }, (_, i) => `n-${i}`));
    await until(() => got.length === 600, 'all 600 notifications');
    expect(got).toStrictEqual(Array.from({ length: 600 }, (_, i) => `n-${i}`));
  });

  it('HUB-CHANGE-08 a context change that is not plain JSON is refused with a 400, as before (functions, symbols, cycles, BigInts)', async () => {
    const { a } = await pages();
    const topic = await a.hub.createTopic();
    const cyclic: Record<string, unknown> = { resourceType: 'Patient', id: 'c' };
    cyclic.self = cyclic;
    const bad = [
      { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'f', f: () => 1 } }] },
      { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 's', s: Symbol('x') } }] },
      { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: cyclic }] },
      { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'b', n: 10n } }] },
    ];
    for (const event of bad) {
      const error = await a.hub.publish(topic, event as never).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(HubError);
      expect((error as HubError).status).toBe(400);
    }
    expect((await a.hub.getContext(topic)).context).toHaveLength(0);
  });
});
