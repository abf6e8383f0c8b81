import { describe, expect, it } from 'vitest';
import { RecordingChannel } from '../support/harness.js';
import {
  accept,
  ackAll,
  answer,
  denials,
  imagingStudy,
  join,
  notifications,
  outcomeResource,
  patient,
  patientContext,
  request,
  res,
  studyContext,
  syncCodings,
  syncErrors,
  throws,
  world,
} from './support.js';

const SYSTEM = 'https://fhircast.hl7.org/events/syncerror';

/** A topic with a viewer (Patient-open) that received one event, two SyncError watchers and a subscriber of another topic. */
async function scene(options: { ackTimeoutMs?: number } = {}) {
  const w = await world(options);
  const viewer = join(w.hub, w.topic, ['Patient-open', 'SyncError'], { subscriberName: 'PACS viewer' });
  const worklist = join(w.hub, w.topic, ['SyncError', 'Patient-open'], { subscriberName: 'Worklist' });
  const dashboard = join(w.hub, w.topic, ['syncerror'], { subscriberName: 'Dashboard' });
  const elsewhere = join(w.hub, w.hub.createTopic(), ['*']);
  const id = await accept(w.hub, request(w.topic, 'Patient-open', patientContext()));
  ackAll(worklist);
  return { ...w, viewer, worklist, dashboard, elsewhere, id };
}

describe('HUB-SYNC: SyncError', () => {
  it('HUB-SYNC-01 an answer of 409, another 4xx or a 5xx makes the hub send a SyncError to the topic\u2019s other SyncError subscribers', async () => {
    for (const status of [409, 400, 403, 404, 422, 500, 502, 503]) {
      const { viewer, worklist, dashboard, elsewhere, id } = await scene();
      answer(viewer, { id, status });
      for (const sub of [worklist, dashboard]) {
        const errors = syncErrors(sub.channel);
        expect(errors, `status ${status}`).toHaveLength(1);
        expect(syncCodings(errors[0]).eventid).toBe(id);
      }
      expect(elsewhere.channel.events).toHaveLength(0);
    }
  });

  it('HUB-SYNC-02 the subscriber that failed does not receive the SyncError about its own failure', async () => {
    const { viewer, worklist, id } = await scene();
    answer(viewer, { id, status: 500 });
    expect(syncErrors(viewer.channel)).toHaveLength(0);
    expect(syncErrors(worklist.channel)).toHaveLength(1);
  });

  it('HUB-SYNC-03 the SyncError context is one operationoutcome entry: severity warning, code processing, diagnostics naming subscriber and reason', async () => {
    const refused = await scene();
    answer(refused.viewer, { id: refused.id, status: 409 });
    const failed = await scene();
    answer(failed.viewer, { id: failed.id, status: 500 });
    const silent = await scene();
    silent.tick(10_001);
    const reasons: string[] = [];
    for (const s of [refused, failed, silent]) {
      const [frame] = syncErrors(s.dashboard.channel);
      expect(frame.event['hub.topic']).toBe(s.topic);
      expect(frame.event.context).toHaveLength(1);
      const [entry] = frame.event.context;
      expect(entry.key).toBe('operationoutcome');
      expect(entry.resource.resourceType).toBe('OperationOutcome');
      const issue = entry.resource.issue[0];
      expect(issue.severity).toBe('warning');
      expect(issue.code).toBe('processing');
      expect(issue.diagnostics).toContain('PACS viewer');
      reasons.push(issue.diagnostics);
    }
    expect(reasons[0]).toMatch(/refus/i);
    expect(reasons[1]).toMatch(/not delivered|fail|error/i);
    expect(new Set(reasons).size).toBe(3);
  });

  it('HUB-SYNC-04 details.coding names the failed event id, its name and the subscriber.name', async () => {
    const { hub, topic, viewer, dashboard } = await scene();
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-1', 'ACC-1'), patient('pt-2', 'MRN-2'))));
    const derived = notifications(viewer.channel).at(-1)!;
    expect(derived.event['hub.event']).toBe('Patient-open');
    answer(viewer, { id: derived.id, status: 409 });
    const [frame] = syncErrors(dashboard.channel);
    const coding = frame.event.context[0].resource.issue[0].details.coding as Array<{ system: string; code: string }>;
    expect(coding.length).toBeGreaterThanOrEqual(3);
    expect(coding).toContainEqual(expect.objectContaining({ system: `${SYSTEM}/eventid`, code: derived.id }));
    expect(coding).toContainEqual(expect.objectContaining({ system: `${SYSTEM}/eventname`, code: 'Patient-open' }));
    expect(coding).toContainEqual(expect.objectContaining({ system: `${SYSTEM}/subscribername`, code: 'PACS viewer' }));
  });

  it('HUB-SYNC-05 details.coding repeats the name under .../syncerror/subscriber', async () => {
    const { viewer, dashboard, id } = await scene();
    answer(viewer, { id, status: 503 });
    const coding = syncErrors(dashboard.channel)[0].event.context[0].resource.issue[0].details.coding as Array<{ system: string; code: string }>;
    expect(coding).toContainEqual(expect.objectContaining({ system: `${SYSTEM}/subscriber`, code: 'PACS viewer' }));
  });

  it('HUB-SYNC-05 HUB-SEC-10 without subscriber.name the hub uses its own label, which does not reveal the endpoint', async () => {
    const { hub, topic } = await world();
    const anonymous = join(hub, topic, ['Patient-open']);
    const dashboard = join(hub, topic, ['SyncError']);
    const id = await accept(hub, request(topic, 'Patient-open', patientContext()));
    answer(anonymous, { id, status: 500 });
    const [frame] = syncErrors(dashboard.channel);
    const codes = syncCodings(frame);
    expect(typeof codes.subscribername).toBe('string');
    expect(codes.subscribername!.length).toBeGreaterThan(0);
    expect(codes.subscriber).toBe(codes.subscribername);
    expect(JSON.stringify(frame)).not.toContain(anonymous.endpoint);
  });

  it('HUB-SYNC-06 a subscriber that does not answer within 10 000 ms by default is reported in a SyncError', async () => {
    const { dashboard, id, tick } = await scene();
    tick(9_999);
    expect(syncErrors(dashboard.channel)).toHaveLength(0);
    tick(2);
    const errors = syncErrors(dashboard.channel);
    expect(errors).toHaveLength(1);
    expect(syncCodings(errors[0])).toMatchObject({ eventid: id, eventname: 'Patient-open', subscribername: 'PACS viewer' });
  });

  it('HUB-SYNC-06 the ack timeout is set by the engine option', async () => {
    const { dashboard, tick } = await scene({ ackTimeoutMs: 2_500 });
    tick(2_400);
    expect(syncErrors(dashboard.channel)).toHaveLength(0);
    tick(101);
    expect(syncErrors(dashboard.channel)).toHaveLength(1);
  });

  it('HUB-SYNC-07 after a SyncError for an unanswered notification the silent subscriber gets a denial with a reason and its socket is closed', async () => {
    const { hub, topic, viewer, dashboard, tick } = await scene();
    tick(10_001);
    expect(syncErrors(dashboard.channel)).toHaveLength(1);
    const denial = denials(viewer.channel);
    expect(denial).toHaveLength(1);
    expect(denial[0]['hub.topic']).toBe(topic);
    expect(typeof denial[0]['hub.reason']).toBe('string');
    expect(denial[0]['hub.reason'].length).toBeGreaterThan(0);
    expect(viewer.channel.closedWith?.code).toBe(1000);
    expect(hub.hasEndpoint(viewer.endpoint)).toBe(false);
    throws(() => hub.connect(viewer.endpoint, new RecordingChannel()), 404);
    const count = viewer.channel.frames.length;
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-2', 'MRN-2'))));
    expect(viewer.channel.frames).toHaveLength(count);
  });

  it('HUB-SYNC-08 an abnormal close (1006, 1011, 4000) leads to a SyncError naming the last event sent to that subscriber', async () => {
    for (const code of [1006, 1011, 1002, 4000]) {
      const { viewer, dashboard, worklist, hub, topic } = await scene();
      const last = await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-2', 'MRN-2'))));
      ackAll(viewer);
      ackAll(worklist);
      viewer.handle.closed(code);
      const errors = syncErrors(dashboard.channel);
      expect(errors, `close ${code}`).toHaveLength(1);
      expect(syncCodings(errors[0])).toMatchObject({ eventid: last, eventname: 'Patient-open', subscribername: 'PACS viewer' });
    }
  });

  it('HUB-SYNC-08 a subscriber that got no event and drops is reported with the code none', async () => {
    const { hub, topic } = await world();
    const fresh = join(hub, topic, ['Patient-open'], { subscriberName: 'Dictation' });
    const dashboard = join(hub, topic, ['SyncError']);
    fresh.handle.closed(1006);
    const [frame] = syncErrors(dashboard.channel);
    expect(syncCodings(frame)).toMatchObject({ eventid: 'none', eventname: 'none', subscribername: 'Dictation' });
  });

  it('HUB-SYNC-09 a close with 1000, 1001 or 1005 leads to no SyncError', async () => {
    for (const code of [1000, 1001, 1005]) {
      const { viewer, dashboard, tick } = await scene();
      viewer.handle.closed(code);
      tick(20_000);
      expect(syncErrors(dashboard.channel), `close ${code}`).toHaveLength(0);
    }
  });

  it('HUB-SYNC-10 a SyncError posted by a subscriber is relayed like any request and changes no context', async () => {
    const { hub, topic, viewer, worklist, dashboard, id } = await scene();
    answer(viewer, { id, status: 200 });
    const before = hub.getContext(topic);
    const posted = await accept(hub, request(topic, 'SyncError', [res('operationoutcome', outcomeResource())]));
    for (const sub of [viewer, worklist, dashboard]) {
      const errors = syncErrors(sub.channel);
      expect(errors.map((f) => f.id)).toEqual([posted]);
      expect(errors[0].event.context[0].resource).toEqual(outcomeResource());
    }
    expect(hub.getContext(topic)).toEqual(before);
  });

  it('HUB-SYNC-10 hub-generated SyncErrors never trigger further SyncErrors, whatever their recipients answer', async () => {
    const { viewer, worklist, dashboard, id, tick } = await scene();
    answer(viewer, { id, status: 409 });
    const [generated] = syncErrors(worklist.channel);
    answer(worklist, { id: generated.id, status: 500 });
    answer(dashboard, { id: generated.id, status: 409 });
    answer(dashboard, { status: 500 });
    tick(10_001);
    tick(10_001);
    expect(syncErrors(viewer.channel)).toHaveLength(0);
    expect(syncErrors(worklist.channel)).toHaveLength(1);
    expect(syncErrors(dashboard.channel)).toHaveLength(1);
    expect(denials(dashboard.channel)).toHaveLength(0);
  });
});
