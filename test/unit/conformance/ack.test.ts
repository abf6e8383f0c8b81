import { describe, expect, it } from 'vitest';
import {
  accept,
  ackAll,
  answer,
  denials,
  join,
  notifications,
  outcomeResource,
  patient,
  patientContext,
  request,
  res,
  syncCodings,
  syncErrors,
  world,
} from './support.js';

/** A topic with a viewer that got one Patient-open and a watcher of SyncError. */
async function oneEvent(options: { ackTimeoutMs?: number; heartbeatMs?: number } = {}) {
  const w = await world(options);
  const viewer = join(w.hub, w.topic, ['Patient-open'], { subscriberName: 'PACS viewer' });
  const watcher = join(w.hub, w.topic, ['SyncError'], { subscriberName: 'Worklist' });
  const id = await accept(w.hub, request(w.topic, 'Patient-open', patientContext()));
  return { ...w, viewer, watcher, id };
}

describe('HUB-ACK: acknowledgements', () => {
  it('HUB-ACK-01 {id, status} answers that notification; every 2xx is success and produces no SyncError', async () => {
    for (const status of [200, 201, 202, 204, 299]) {
      const { viewer, watcher, id, tick } = await oneEvent();
      answer(viewer, { id, status });
      tick(30_000);
      expect(syncErrors(watcher.channel), `status ${status}`).toHaveLength(0);
      expect(denials(viewer.channel), `status ${status}`).toHaveLength(0);
      expect(viewer.channel.closedWith).toBeUndefined();
    }
  });

  it('HUB-ACK-01 an answer is matched by id to the notification it names on that connection', async () => {
    const { hub, topic, viewer, watcher, id } = await oneEvent();
    const second = await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-8', 'MRN-8'))));
    answer(viewer, { id: second, status: 409 });
    answer(viewer, { id, status: 200 });
    const errors = syncErrors(watcher.channel);
    expect(errors).toHaveLength(1);
    expect(syncCodings(errors[0]).eventid).toBe(second);
  });

  it('HUB-ACK-02 after a 202 answer the hub raises no SyncError, neither at once nor on the ack timeout', async () => {
    const { viewer, watcher, id, tick, hub } = await oneEvent();
    answer(viewer, { id, status: 202 });
    expect(syncErrors(watcher.channel)).toHaveLength(0);
    tick(10_001);
    tick(20_000);
    expect(syncErrors(watcher.channel)).toHaveLength(0);
    expect(hub.hasEndpoint(viewer.endpoint)).toBe(true);
  });

  it('HUB-ACK-03 status is accepted as a JSON number or a numeric string', async () => {
    const ok = await oneEvent();
    answer(ok.viewer, { id: ok.id, status: '200' });
    ok.tick(10_001);
    expect(syncErrors(ok.watcher.channel)).toHaveLength(0);
    expect(ok.hub.hasEndpoint(ok.viewer.endpoint)).toBe(true);

    const refused = await oneEvent();
    answer(refused.viewer, { id: refused.id, status: '409' });
    expect(syncErrors(refused.watcher.channel)).toHaveLength(1);
  });

  it('HUB-ACK-04 an answer with an id but no status counts as 200', async () => {
    const { viewer, watcher, id, tick, hub } = await oneEvent();
    answer(viewer, { id, timestamp: '2026-01-01T00:00:01.000Z' });
    tick(10_001);
    expect(syncErrors(watcher.channel)).toHaveLength(0);
    expect(denials(viewer.channel)).toHaveLength(0);
    expect(hub.hasEndpoint(viewer.endpoint)).toBe(true);
  });

  it('HUB-ACK-05 an answer with an unknown id, or a second answer to the same notification, is ignored', async () => {
    const { viewer, watcher, id, tick } = await oneEvent();
    const before = viewer.channel.frames.length;
    answer(viewer, { id: 'no-such-event', status: 500 });
    answer(viewer, { id: 42, status: 500 });
    answer(viewer, { id: { value: id }, status: 409 });
    answer(viewer, { id: [id], status: 409 });
    answer(viewer, { id, status: 200 });
    answer(viewer, { id, status: 500 });
    answer(viewer, { id, status: 409 });
    tick(10_001);
    expect(syncErrors(watcher.channel)).toHaveLength(0);
    expect(viewer.channel.frames).toHaveLength(before);
    expect(viewer.channel.closedWith).toBeUndefined();
  });

  it('HUB-ACK-05 an answer after its ack timeout is ignored: no second SyncError, nothing sent back', async () => {
    const { viewer, watcher, id, tick } = await oneEvent();
    tick(10_001);
    expect(syncErrors(watcher.channel)).toHaveLength(1);
    const before = viewer.channel.frames.length;
    answer(viewer, { id, status: 500 });
    answer(viewer, { id, status: 200 });
    expect(syncErrors(watcher.channel)).toHaveLength(1);
    expect(viewer.channel.frames).toHaveLength(before);
  });

  it('HUB-ACK-05 with the ack timeout off, a late failing answer to an already answered event is still ignored', async () => {
    const { viewer, watcher, id, tick } = await oneEvent({ ackTimeoutMs: 0 });
    tick(60_000);
    answer(viewer, { id, status: 200 });
    answer(viewer, { id, status: 503 });
    expect(syncErrors(watcher.channel)).toHaveLength(0);
    expect(viewer.channel.closedWith).toBeUndefined();
  });

  it('HUB-ACK-06 no answer is awaited for SyncError notifications: a silent SyncError subscriber is never reported', async () => {
    const { hub, topic, tick, run } = await world();
    const silentWatcher = join(hub, topic, ['SyncError'], { subscriberName: 'Dashboard' });
    const otherWatcher = join(hub, topic, ['SyncError'], { subscriberName: 'Audit' });
    const viewer = join(hub, topic, ['Patient-open']);
    await accept(hub, request(topic, 'SyncError', [res('operationoutcome', outcomeResource())]));
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    answer(viewer, { id: notifications(viewer.channel)[0].id, status: 500 });
    expect(syncErrors(silentWatcher.channel)).toHaveLength(2);
    tick(10_001);
    run(30_000);
    expect(syncErrors(otherWatcher.channel)).toHaveLength(2);
    expect(denials(silentWatcher.channel)).toHaveLength(0);
    expect(hub.hasEndpoint(silentWatcher.endpoint)).toBe(true);
  });

  it('HUB-ACK-06 HUB-HEART-03 no answer is awaited for heartbeats: a subscriber that never answers them stays subscribed', async () => {
    const { hub, topic, run } = await world({ heartbeatMs: 10_000 });
    const quiet = join(hub, topic, ['Patient-open'], { leaseSeconds: 3600 });
    const watcher = join(hub, topic, ['SyncError'], { leaseSeconds: 3600 });
    run(120_000);
    expect(quiet.channel.frames.filter((f) => f.event?.['hub.event'] === 'heartbeat').length).toBeGreaterThanOrEqual(11);
    expect(syncErrors(watcher.channel)).toHaveLength(0);
    expect(denials(quiet.channel)).toHaveLength(0);
    expect(hub.hasEndpoint(quiet.endpoint)).toBe(true);
  });

  it('HUB-ACK-06 every other notification is awaited: a missing answer to an ordinary event is reported', async () => {
    const { watcher, viewer, tick } = await oneEvent();
    ackAll(watcher);
    tick(10_001);
    expect(syncErrors(watcher.channel)).toHaveLength(1);
    expect(denials(viewer.channel)).toHaveLength(1);
  });

  it('HUB-ACK-07 frames that are not JSON, or JSON that is neither an answer nor a control frame, are ignored and the socket stays open', async () => {
    const { viewer, watcher, id, hub } = await oneEvent();
    const before = viewer.channel.frames.length;
    for (const frame of ['hello', '{"id":', '', '42', 'null', '[1,2,3]', '"200"', '{"foo":"bar"}', '{"id":42,"status":"bad"}', '{"hub.mode":"subscribe"}']) {
      viewer.handle.receive(frame);
    }
    viewer.handle.receive({ unexpected: true });
    expect(syncErrors(watcher.channel)).toHaveLength(0);
    expect(viewer.channel.frames).toHaveLength(before);
    expect(viewer.channel.closedWith).toBeUndefined();
    expect(hub.hasEndpoint(viewer.endpoint)).toBe(true);
    answer(viewer, { id, status: 409 });
    expect(syncErrors(watcher.channel)).toHaveLength(1);
  });
});
