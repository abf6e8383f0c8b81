import { describe, expect, it } from 'vitest';
import type { ConnectionHandle } from '../../../src/hub/index.js';
import { makeHub, RecordingChannel } from '../support/harness.js';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import { contextKey } from '../../../src/hub/records.js';

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

const encounterOpen = (topic: string, id: string, encounter: string, patient: string) => ({
  id,
  timestamp: '2026-01-01T00:00:00Z',
  event: {
    'hub.topic': topic,
    'hub.event': 'Encounter-open',
    context: [
      { key: 'encounter', resource: { resourceType: 'Encounter', id: encounter, subject: { reference: `Patient/${patient}` } } },
      { key: 'patient', resource: { resourceType: 'Patient', id: patient } },
    ],
  },
});

describe('catch-up and resends (engine, from the spec)', () => {
  it('HUB-CTX-06 the catch-up sends, per anchor type, the most recently opened context, not an older one of that type', async () => {
    const { hub } = await makeHub();
    const topic = hub.createTopic();
    await hub.publish(patientOpen(topic, 'older', 'p1'));
    await hub.publish(patientOpen(topic, 'newer', 'p2'));
    const late = hub.subscribe({ topic, events: ['Patient-open'], subscriberName: 'late' });
    const frames = new RecordingChannel();
    hub.connect(late.endpoint, frames);
    expect(frames.events.map((f) => f.id)).toEqual(['newer']);
  });

  it('HUB-CTX-08 catch-up notifications go oldest first, so the current context comes last', async () => {
    const { hub } = await makeHub();
    const topic = hub.createTopic();
    await hub.publish(patientOpen(topic, 'pat-1', 'p1'));
    await hub.publish(encounterOpen(topic, 'enc-1', 'e1', 'p1'));
    await hub.publish(patientOpen(topic, 'pat-2', 'p2'));
    expect(hub.getContext(topic)['context.type']).toBe('Patient');
    const late = hub.subscribe({ topic, events: ['Patient-open', 'Encounter-open'], subscriberName: 'late' });
    const frames = new RecordingChannel();
    hub.connect(late.endpoint, frames);
    expect(frames.events.map((f) => f.id)).toEqual(['enc-1', 'pat-2']);
  });

  it('HUB-CTX-06 HUB-CONTENT-09 a catch-up open never carries context.priorVersionId, even when the stored open did', async () => {
    const storage = memoryStorage();
    const first = await makeHub({ storage });
    const topic = first.hub.createTopic();
    await first.hub.publish(patientOpen(topic, 'pat-1', 'p1'));
    await first.hub.flush();
    // A store written by another writer (an older build, a peer) may hold the version fields of an update.
    const key = contextKey(topic, 'Patient', 'p1');
    const record = storage.data.get(key) as { notification: { event: Record<string, unknown> }; versionId: string };
    expect(record).toBeDefined();
    record.notification.event['context.priorVersionId'] = 'v-stale';
    const { hub } = await makeHub({ storage });
    const late = hub.subscribe({ topic, events: ['Patient-open'], subscriberName: 'late' });
    const frames = new RecordingChannel();
    hub.connect(late.endpoint, frames);
    expect(frames.events).toHaveLength(1);
    expect(frames.events[0].event['context.versionId']).toBe(record.versionId);
    expect(frames.events[0].event).not.toHaveProperty(['context.priorVersionId']);
  });

  it('HUB-CHANGE-16 HUB-SYNC-06 a resent notification is timed from its resend: an earlier one left unanswered is reported on its own deadline', async () => {
    const { hub, tick } = await makeHub({ ackTimeoutMs: 1000 });
    const topic = hub.createTopic();
    const watcher = hub.subscribe({ topic, events: ['SyncError'], subscriberName: 'watcher' });
    const watcherFrames = new RecordingChannel();
    hub.connect(watcher.endpoint, watcherFrames);
    const silent = hub.subscribe({ topic, events: ['Patient-open'], subscriberName: 'silent' });
    hub.connect(silent.endpoint, new RecordingChannel());
    await hub.publish(patientOpen(topic, 'A', 'p1')); // t=0, due at 1000
    tick(500);
    await hub.publish(patientOpen(topic, 'B', 'p2')); // t=500, due at 1500
    tick(100);
    await hub.publish(patientOpen(topic, 'A', 'p1')); // t=600: A resent, due again at 1600
    watcherFrames.clear();
    tick(950); // t=1550: only B is overdue
    const reported = watcherFrames.events.map((f) => JSON.stringify(f.event.context));
    expect(reported).toHaveLength(1);
    expect(reported[0]).toContain('"B"');
    expect(reported[0]).not.toContain('"A"');
  });
});
