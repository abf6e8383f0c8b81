/** The leader-tab transport over Node's BroadcastChannel: discovery, sessions, and a handover to the next leader. */
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import { leaderTabTransport } from '../../../src/client/transports.js';
import { Bus } from '../../../src/link/bus.js';
import { serveBus } from '../../../src/host/serve-bus.js';
import { openPage, patientOpen, startHost, until } from './support/rig.js';
import { FakeLocks } from './support/fake-locks.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function leader(locks: FakeLocks, storage = memoryStorage()) {
  const host = await startHost(locks, storage);
  const stop = serveBus(host.runtime, new Bus(host.runtime.hostId, `tabcast-test-${bus}`));
  return { ...host, leave: () => (stop(), host.die()) };
}
let bus = 0;

describe('leader-tab bus', () => {
  it('pages find the leader, and a new leader takes over with the context when the old one goes', async () => {
    bus += 1;
    const locks = new FakeLocks();
    const storage = memoryStorage();
    const first = await leader(locks, storage);
    const transport = leaderTabTransport(() => undefined, `tabcast-test-${bus}`);
    const a = await openPage(locks, transport, 'A');
    const b = await openPage(locks, transport, 'B');
    let current = first;
    cleanup.push(() => current.leave(), () => a.hub.close(), () => b.hub.close());

    const topic = await a.hub.createTopic();
    const seen: any[] = [];
    await b.hub.subscribe({ topic, events: ['Patient-open'] }, (n) => void seen.push(n));
    const sent = await a.hub.publish(topic, patientOpen('p1'));
    await until(() => seen.length === 1);
    expect(seen[0].id).toBe(sent.id);
    const before = await a.hub.getContext(topic);

    first.leave();
    current = await leader(locks, storage);
    expect(await a.hub.getContext(topic)).toEqual(before);
    await until(() => current.hub.inspect().topics.find((t) => t.topic === topic)?.subscribers.length === 1, 'B to subscribe again');
    const next = await a.hub.publish(topic, patientOpen('p2'));
    await until(() => seen.some((n) => n.id === next.id), 'the event through the new leader');
  });
});
