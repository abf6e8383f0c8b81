import { describe, expect, it } from 'vitest';
import type { ConnectionHandle } from '../../../src/hub/index.js';
import { makeHub, RecordingChannel } from '../support/harness.js';

const patientOpen = (topic: string, id: string, patient: string) => ({
  id,
  timestamp: '2026-01-01T00:00:00Z',
  event: { 'hub.topic': topic, 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: patient } }] },
});

describe('delivery robustness (engine)', () => {
  it('a transport that throws on send stops neither the broadcast to others nor the state change', async () => {
    const { hub } = await makeHub();
    const topic = hub.createTopic();
    const broken = hub.subscribe({ topic, events: ['Patient-open'], subscriberName: 'broken' });
    const healthy = hub.subscribe({ topic, events: ['Patient-open'], subscriberName: 'healthy' });
    let armed = false;
    hub.connect(broken.endpoint, {
      send() {
        if (armed) throw new Error('socket is gone');
      },
      close() {},
    });
    const ok = new RecordingChannel();
    hub.connect(healthy.endpoint, ok);
    armed = true;
    await expect(hub.publish(patientOpen(topic, 'e1', 'p1'))).resolves.toEqual({ status: 202, id: 'e1' });
    expect(ok.events.map((f) => f.id)).toEqual(['e1']);
    expect(hub.getContext(topic)['context.type']).toBe('Patient');
  });

  it('an answer sent from inside send() (an in-process subscriber) is matched to its notification', async () => {
    const { hub, tick } = await makeHub({ ackTimeoutMs: 1000 });
    const topic = hub.createTopic();
    const watcher = hub.subscribe({ topic, events: ['SyncError'], subscriberName: 'watcher' });
    const watcherFrames = new RecordingChannel();
    hub.connect(watcher.endpoint, watcherFrames);
    const sync = hub.subscribe({ topic, events: ['Patient-open'], subscriberName: 'sync' });
    let handle: ConnectionHandle | undefined;
    handle = hub.connect(sync.endpoint, {
      send(frame) {
        if ('id' in frame && handle) handle.receive({ id: frame.id, status: 200 });
      },
      close() {},
    });
    await hub.publish(patientOpen(topic, 'e2', 'p2'));
    tick(1500);
    expect(watcherFrames.events).toEqual([]);
    expect(hub.hasEndpoint(sync.endpoint)).toBe(true);
  });
});
