/**
 * HUB-CLUSTER-06 on the engine, with a fake clock: once the topic bound is shared
 * (`ReplicaPort.shareTopics`), the engine leaves the bound and idle forgetting to the cluster. It
 * reports idle topics and ended subscriptions, and forgets a topic when the shared log says so.
 */
import { describe, expect, it } from 'vitest';
import { HubError } from '../../../src/protocol/index.js';
import type { SharedTopicHooks } from '../../../src/hub/replica.js';
import { accept, patient, patientContext, request } from '../conformance/support.js';
import { makeHub, RecordingChannel } from '../support/harness.js';

async function sharedHub() {
  const made = await makeHub({ bounds: { maxTopics: 1, idleTopicMs: 1000, connectTimeoutMs: 60_000 } });
  const idle: string[] = [];
  const ended: Array<{ topic: string; held: boolean }> = [];
  const admitted: string[] = [];
  const hooks: SharedTopicHooks = {
    admitTopic: (topic) => {
      if (topic === 'room-full') throw new HubError(503, 'transient', 'the cluster is full');
      admitted.push(topic);
    },
    topicIdle: (topic) => idle.push(topic),
    subscriptionEnded: (_endpoint, topic, held) => ended.push({ topic, held }),
  };
  const port = made.hub.replicaPort();
  port.shareTopics(hooks);
  return { ...made, port, idle, ended, admitted };
}

describe('HUB-CLUSTER-06 the engine with a shared topic bound', () => {
  it('HUB-CLUSTER-06 HUB-BOUND-05 an idle topic is reported to the cluster each idle period instead of being forgotten; a forget from the log drops it unless a subscriber is here', async () => {
    const { hub, port, idle, tick } = await sharedHub();
    // The local count is not the bound any more: the cluster checked it before.
    const a = hub.subscribe({ topic: 'room-a', events: ['Patient-open'] });
    const b = hub.subscribe({ topic: 'room-b', events: ['Patient-open'] });
    hub.unsubscribe('room-a', a.endpoint);
    tick(999);
    expect(idle).toEqual([]);
    tick(1);
    expect(idle).toEqual(['room-a']);
    expect(hub.topicIds()).toContain('room-a');
    tick(1000);
    expect(idle).toEqual(['room-a', 'room-a']);
    expect(port.forgetTopic('room-b')).toBe('kept');
    expect(port.forgetTopic('room-a')).toBe('forgotten');
    expect(port.forgetTopic('room-a')).toBe('absent');
    expect(hub.topicIds()).toEqual(['room-b']);
    expect(hub.inspect().forgotten.topics).toBe(1);
    tick(1000);
    expect(idle).toEqual(['room-a', 'room-a']);
    hub.unsubscribe('room-b', b.endpoint);
    // An open context keeps a topic: forgetting follows the log, where every replica agrees on contexts.
    await accept(hub, request('room-b', 'Patient-open', patientContext(patient('p-1'))));
    expect(port.forgetTopic('room-b')).toBe('kept');
  });

  it('HUB-CLUSTER-06 ended subscriptions are reported, held only when their channel was opened here; a withdrawn subscription leaves no topic behind', async () => {
    const { hub, port, ended } = await sharedHub();
    const copy = hub.subscribe({ topic: 'room-a', events: ['Patient-open'] });
    hub.unsubscribe('room-a', copy.endpoint);
    const held = hub.subscribe({ topic: 'room-a', events: ['Patient-open'] });
    hub.connect(held.endpoint, new RecordingChannel()).closed(1000);
    expect(ended).toEqual([
      { topic: 'room-a', held: false },
      { topic: 'room-a', held: true },
    ]);
    const refused = hub.subscribe({ topic: 'room-new', events: ['Patient-open'] });
    port.withdrawSubscription(refused.endpoint);
    expect(hub.hasEndpoint(refused.endpoint)).toBe(false);
    expect(hub.topicIds()).not.toContain('room-new');
    expect(ended).toHaveLength(2);
  });

  it('HUB-CLUSTER-06 HUB-BOUND-05 a subscription that creates a topic asks the cluster for room; an adopted one and a topic from the log do not', async () => {
    const { hub, port, admitted } = await sharedHub();
    hub.subscribe({ topic: 'room-a', events: ['Patient-open'] });
    hub.subscribe({ topic: 'room-a', events: ['Patient-open'] });
    expect(() => hub.subscribe({ topic: 'room-full', events: ['Patient-open'] })).toThrow(/cluster is full/);
    expect(hub.topicIds()).not.toContain('room-full');
    port.addSubscription({ endpoint: 'adopted', topic: 'room-b', filters: [], eventsText: 'Patient-open', leaseSeconds: 60, leaseExpiresAt: Date.now() + 60_000, confirmed: false, autoRenew: false, name: 'copy', channel: 'stu3', createdAt: Date.now() });
    port.applyChange(request('room-c', 'Patient-open', patientContext(patient('p-1'))), undefined, () => `id-${Math.random()}`);
    expect(admitted).toEqual(['room-a']);
    expect(new Set(hub.topicIds())).toEqual(new Set(['room-a', 'room-b', 'room-c']));
  });
});
