/** src/hub/hub.ts: the facade's deadlines, pending answers and teardown (issue 18 and 19 item 2). */
import { describe, expect, it } from 'vitest';
import { accept, join, patient, patientContext, request } from '../conformance/support.js';
import { makeHub, RecordingChannel } from '../support/harness.js';

describe('hub facade', () => {
  it('HUB-HEART-01 heartbeat deadlines with nobody connected: once the last channel is gone the hub has no wake-up for heartbeats', async () => {
    const { hub, clock } = await makeHub({ heartbeatMs: 10_000 });
    const topic = hub.createTopic();
    const viewer = join(hub, topic, ['Patient-open'], { leaseSeconds: 3600 });
    expect(hub.nextDeadline()).toBe(clock.now() + 10_000);
    viewer.handle.closed(1006); // abnormal: the subscription stays, waiting for a reconnect
    expect(hub.hasEndpoint(viewer.endpoint)).toBe(true);
    expect(hub.nextDeadline(), 'only the lease remains').toBe(clock.now() + 3600_000);
  });

  it('HUB-ACK-05 the 1,000-pending cap: a subscriber that never answers holds at most 1,000 unanswered notifications', async () => {
    const { hub } = await makeHub({ ackTimeoutMs: 0 });
    const topic = hub.createTopic();
    const silent = join(hub, topic, ['Patient-open']);
    for (let i = 0; i < 1001; i++) await accept(hub, request(topic, 'Patient-open', patientContext(patient(`p-${i}`)), { id: `ev-${i}` }));
    expect(hub.inspect().topics[0]!.subscribers[0]!.pending).toBe(1000);
    // The oldest was forgotten: its answer matches nothing, while the newest is still owed.
    silent.handle.receive({ id: 'ev-0', status: 200 });
    expect(hub.inspect().topics[0]!.subscribers[0]!.pending).toBe(1000);
    silent.handle.receive({ id: 'ev-1000', status: 200 });
    expect(hub.inspect().topics[0]!.subscribers[0]!.pending).toBe(999);
  });

  it('HUB-SYNC-06 deadlines sit in a heap: with 5,000 idle subscriptions the next deadline is the earliest of them, and one tick ends only those due', async () => {
    const { hub, clock, tick } = await makeHub();
    const topic = hub.createTopic();
    for (let i = 0; i < 5000; i++) hub.subscribe({ topic, events: ['Patient-open'], leaseSeconds: 10 + (i % 50) });
    const early = join(hub, topic, ['Patient-open'], { leaseSeconds: 5 });
    expect(hub.nextDeadline()).toBe(clock.now() + 5000);
    tick(5000);
    expect(hub.hasEndpoint(early.endpoint)).toBe(false);
    expect(hub.inspect().topics[0]!.subscribers).toHaveLength(5000);
    tick(5000); // the 10 s leases (100 of them) end
    expect(hub.inspect().topics[0]!.subscribers).toHaveLength(4900);
  });

  it('HUB-TOLERANT-07 teardown is one path: a replaced connection is closed with 1000, gets no more frames, and its late answers change nothing', async () => {
    const { hub } = await makeHub({ ackTimeoutMs: 10_000 });
    const topic = hub.createTopic();
    const viewer = join(hub, topic, ['Patient-open']);
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('p-1')), { id: 'ev-1' }));
    const newer = new RecordingChannel();
    hub.connect(viewer.endpoint, newer);
    expect(viewer.channel.closedWith?.code).toBe(1000);
    viewer.handle.receive({ id: 'ev-1', status: 200 });
    expect(hub.inspect().topics[0]!.subscribers[0]!.lastAck).toBeUndefined();
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('p-2')), { id: 'ev-2' }));
    expect(viewer.channel.events.map((f) => f.id)).toEqual(['ev-1']);
    expect(newer.events.map((f) => f.id)).toEqual(['ev-1', 'ev-2']); // catch-up, then live
  });
});
