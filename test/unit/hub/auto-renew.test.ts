// A door that knows whether its subscriber lives (the browser host watches Web Locks) asks for
// `autoRenew`: the lease restarts when it runs out instead of ending the subscription.
import { describe, expect, it } from 'vitest';
import { makeHub, RecordingChannel } from '../support/harness.js';

describe('autoRenew leases (engine)', () => {
  it('HUB-SUB-10 a plain subscription ends when its lease runs out; an autoRenew one lives on, however long the clock jumps', async () => {
    const { hub, tick } = await makeHub();
    const topic = hub.createTopic();
    const plain = hub.subscribe({ topic, events: ['Patient-open'], subscriberName: 'plain', leaseSeconds: 60 });
    const held = hub.subscribe({ topic, events: ['Patient-open'], subscriberName: 'held', leaseSeconds: 60, autoRenew: true });
    const plainFrames = new RecordingChannel();
    const heldFrames = new RecordingChannel();
    hub.connect(plain.endpoint, plainFrames);
    hub.connect(held.endpoint, heldFrames);
    tick(61_000);
    expect(plainFrames.frames.some((f) => f['hub.mode'] === 'denied')).toBe(true);
    tick(10 * 3600_000);
    const subscribers = hub.inspect().topics.find((t) => t.topic === topic)!.subscribers;
    expect(subscribers.map((s) => s.name)).toEqual(['held']);
    expect(subscribers[0]!.leaseRemainingSeconds).toBeGreaterThan(0);
    expect(heldFrames.frames.some((f) => f['hub.mode'] === 'denied')).toBe(false);
    await hub.publish({ id: 'after-10-h', event: { 'hub.topic': topic, 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p1' } }] } });
    expect(heldFrames.events.map((f) => f.id)).toEqual(['after-10-h']);
  });
});
