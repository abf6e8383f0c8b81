/**
 * The bridge's subscription on the local engine (src/bridge/local-link.ts), against a real engine
 * with a 10 s ack timeout on a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { LocalLink } from '../../../src/bridge/local-link.js';
import type { Notification } from '../../../src/protocol/index.js';
import { makeHub } from '../support/harness.js';
import { patientOpen } from './support/local.js';
import { ManualTimers, settle } from './support/manual-timers.js';

const TOPIC = 'T-local';

async function linked() {
  const { hub, tick } = await makeHub({ ackTimeoutMs: 10_000 });
  const timers = new ManualTimers();
  const seen: Array<{ id: string; catchUp: boolean }> = [];
  const errors: string[] = [];
  const link = new LocalLink({
    hub,
    topic: TOPIC,
    events: ['Patient-open', 'Patient-close'],
    subscriberName: 'tabcast bridge',
    leaseSeconds: 86_400,
    renewAtFraction: 0.8,
    timers: timers.timers,
    onNotification: (n: Notification, catchUp: boolean) => seen.push({ id: n.id, catchUp }),
    onError: (message) => errors.push(message),
  });
  const bridgeSubscriber = () => hub.inspect().topics.find((t) => t.topic === TOPIC)?.subscribers.find((s) => s.name === 'tabcast bridge');
  return { hub, tick, link, seen, errors, bridgeSubscriber };
}

describe('LocalLink', () => {
  it('HUB-CTX-06 HUB-SYNC-06 acks the catch-up the engine sends from inside connect(), before connect() has returned the handle', async () => {
    const { hub, tick, link, seen, bridgeSubscriber } = await linked();
    await hub.publish(patientOpen(TOPIC, 'p1', 'before-the-bridge'));
    link.open();
    expect(seen).toEqual([{ id: 'before-the-bridge', catchUp: true }]);
    await settle();
    expect(bridgeSubscriber()).toMatchObject({ pending: 0, lastAck: { status: 200 } });
    // Past the ack timeout: an unanswered catch-up would end the bridge's subscription here.
    tick(10_001);
    expect(bridgeSubscriber()).toMatchObject({ pending: 0 });
    expect(hub.inspect().topics.find((t) => t.topic === TOPIC)!.subscribers.map((s) => s.name)).toContain('tabcast bridge');
  });

  it('HUB-SYNC-06 acks a live notification, not flagged as catch-up', async () => {
    const { hub, tick, link, seen, bridgeSubscriber } = await linked();
    link.open();
    await hub.publish(patientOpen(TOPIC, 'p2', 'live-1'));
    await settle();
    expect(seen).toEqual([{ id: 'live-1', catchUp: false }]);
    expect(bridgeSubscriber()).toMatchObject({ pending: 0, lastAck: { status: 200 } });
    tick(10_001);
    expect(bridgeSubscriber()).toBeDefined();
  });

  it('leaves the local topic on close', async () => {
    const { link, bridgeSubscriber } = await linked();
    link.open();
    expect(bridgeSubscriber()).toBeDefined();
    link.close();
    expect(bridgeSubscriber()).toBeUndefined();
  });
});
