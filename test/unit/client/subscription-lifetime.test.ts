// How long a typed subscription lives: as long as its page (its Web Lock), not its lease; and when
// the hub ends one for being unresponsive (HUB-SYNC-06/07), the page is told.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import type { SubscriptionEnd } from '../../../src/client/index.js';
import { channelTransport, openPage, patientOpen, startHost, until } from './support/rig.js';
import { FakeLocks } from './support/fake-locks.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  vi.restoreAllMocks();
});

/** A hub clock that only moves when the test says so. */
function manualTime() {
  let now = Date.parse('2026-11-26T08:00:00Z');
  return {
    clock: { now: () => now },
    advance(ms: number) {
      now += ms;
    },
  };
}

async function rig(names: string[]) {
  const time = manualTime();
  const locks = new FakeLocks();
  const host = await startHost(locks, memoryStorage(), { clock: time.clock, ackTimeoutMs: 10_000 });
  const transport = channelTransport(() => host);
  const pages = [];
  for (const name of names) pages.push(await openPage(locks, transport, name));
  cleanup.push(() => host.die());
  for (const page of pages) cleanup.push(() => page.hub.close());
  return { time, host, pages };
}

describe('typed subscription lifetime', () => {
  it('a page’s subscription outlives its lease many times over, a laptop’s sleep included: it lasts as long as the page', async () => {
    const { time, host, pages: [viewer, worklist] } = await rig(['Viewer', 'Worklist']);
    const topic = await worklist!.hub.createTopic();
    const seen: string[] = [];
    const sub = await viewer!.hub.subscribe({ topic, events: ['Patient-open'], leaseSeconds: 100 }, (n) => void seen.push(n.event.context[0]!.resource!.id as string));
    expect(sub.leaseSeconds).toBe(100);
    for (let hour = 0; hour < 10; hour++) {
      time.advance(30 * 60_000);
      host.hub.tick();
    }
    time.advance(3 * 3600_000); // asleep over lunch: the first tick after it is long past the lease
    host.hub.tick();
    const subscribers = host.hub.inspect().topics.find((t) => t.topic === topic)?.subscribers ?? [];
    expect(subscribers.map((s) => s.name)).toEqual(['Viewer']);
    await worklist!.hub.publish(topic, patientOpen('pt-after-5-hours'));
    await until(() => seen.length === 1, 'the notification');
    expect(seen).toEqual(['pt-after-5-hours']);
  });

  it('HUB-SYNC-07 a page whose callback never answers is told when the hub ends its subscription; unsubscribe() tells nobody', async () => {
    const { time, host, pages: [viewer, worklist] } = await rig(['Viewer', 'Worklist']);
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const topic = await worklist!.hub.createTopic();
    const stuck = await viewer!.hub.subscribe({ topic, events: ['Patient-open'] }, () => new Promise(() => {}));
    const ends: SubscriptionEnd[] = [];
    stuck.onEnded((end) => ends.push(end));
    const calm = await worklist!.hub.subscribe({ topic, events: ['Patient-open'] }, () => undefined);
    const calmEnds: SubscriptionEnd[] = [];
    calm.onEnded((end) => calmEnds.push(end));
    await worklist!.hub.publish(topic, patientOpen('pt-1'));
    const pendingOf = (name: string) => host.hub.inspect().topics.find((t) => t.topic === topic)!.subscribers.find((s) => s.name === name)?.pending;
    await until(() => pendingOf('Worklist') === 0, 'the worklist’s ack');
    time.advance(10_001);
    host.hub.tick();
    await until(() => ends.length === 1, 'the end of the stuck subscription');
    expect(ends[0]!.code).toBe(1000);
    expect(ends[0]!.reason).toMatch(/no answer/);
    expect(warned.mock.calls.some(([text]) => String(text).includes(topic))).toBe(true);
    // Listening after the end still hears about it.
    const late = await new Promise<SubscriptionEnd>((resolve) => stuck.onEnded(resolve));
    expect(late).toEqual(ends[0]);
    await calm.unsubscribe();
    await worklist!.hub.publish(topic, patientOpen('pt-2'));
    await until(() => host.hub.inspect().topics.find((t) => t.topic === topic)!.subscribers.length === 0, 'no subscriber left');
    expect(calmEnds).toEqual([]);
  });
});
