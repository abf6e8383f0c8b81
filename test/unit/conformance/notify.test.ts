import { describe, expect, it } from 'vitest';
import {
  ISO_UTC,
  accept,
  ackAll,
  answer,
  diagnosticReport,
  encounter,
  encounterContext,
  heartbeats,
  imagingStudy,
  join,
  names,
  notifications,
  outcomeResource,
  parametersResource,
  patient,
  patientContext,
  reportContext,
  request,
  res,
  studyContext,
  syncErrors,
  world,
} from './support.js';

describe('HUB-NOTIFY: notifications and filtering', () => {
  it('HUB-NOTIFY-01 each notification is one frame {timestamp, id, event{hub.topic, hub.event, context[]}}', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['*']);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    await accept(hub, request(topic, 'Home-open', []));
    await accept(hub, request(topic, 'userHibernate', [res('parameters', parametersResource('system-timeout'))]));
    const frames = notifications(viewer.channel);
    expect(frames).toHaveLength(3);
    for (const frame of frames) {
      expect(Object.keys(frame).sort()).toEqual(['event', 'id', 'timestamp']);
      expect(typeof frame.timestamp).toBe('string');
      expect(typeof frame.id).toBe('string');
      expect(frame.event['hub.topic']).toBe(topic);
      expect(typeof frame.event['hub.event']).toBe('string');
      expect(Array.isArray(frame.event.context)).toBe(true);
    }
    expect(frames[1].event.context).toEqual([]);
  });

  it('HUB-NOTIFY-02 events the hub originates (derived opens, SyncErrors, heartbeats) have hub-unique ids and ISO 8601 UTC timestamps', async () => {
    const { hub, topic, run } = await world({ heartbeatMs: 10_000 });
    const patientOnly = join(hub, topic, ['Patient-open']);
    const studyOnly = join(hub, topic, ['ImagingStudy-open']);
    const watcher = join(hub, topic, ['SyncError', 'DiagnosticReport-open']);
    const requestIds = new Set<string>();
    const s1 = imagingStudy('st-1', 'ACC-1001');
    const s2 = imagingStudy('st-2', 'ACC-1002');
    requestIds.add(await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1', 'pt-7', 'preliminary', ['st-1', 'st-2']), patient(), [s1, s2]))));
    requestIds.add(await accept(hub, request(topic, 'Encounter-open', encounterContext(encounter('enc-9', 'pt-9'), patient('pt-9', 'MRN-9')))));
    const derived = [...notifications(patientOnly.channel), ...notifications(studyOnly.channel)];
    expect(derived).toHaveLength(4); // Patient-open pt-7, Patient-open pt-9, ImagingStudy-open st-1 and st-2
    answer(patientOnly, { id: notifications(patientOnly.channel)[0].id, status: 409 });
    answer(studyOnly, { id: notifications(studyOnly.channel)[0].id, status: 500 });
    ackAll(patientOnly);
    ackAll(studyOnly);
    ackAll(watcher);
    run(30_000);
    const errors = syncErrors(watcher.channel);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    const beats = [patientOnly, studyOnly, watcher].flatMap((s) => heartbeats(s.channel));
    expect(beats.length).toBeGreaterThanOrEqual(9);
    const originated = [...derived, ...errors, ...beats];
    const ids = originated.map((f) => f.id);
    for (const id of ids) {
      expect(typeof id).toBe('string');
      expect(id.length).toBeGreaterThan(0);
      expect(requestIds.has(id)).toBe(false);
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const f of originated) {
      expect(f.timestamp).toMatch(ISO_UTC);
      expect(Number.isNaN(Date.parse(f.timestamp))).toBe(false);
    }
  });

  it('HUB-NOTIFY-03 a subscriber receives only the events named in its hub.events', async () => {
    const { hub, topic } = await world();
    const closer = join(hub, topic, ['Patient-close', 'ImagingStudy-close']);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy(), patient())));
    await accept(hub, request(topic, 'Encounter-open', encounterContext()));
    await accept(hub, request(topic, 'userHibernate', [res('parameters', parametersResource())]));
    await accept(hub, request(topic, 'SyncError', [res('operationoutcome', outcomeResource())]));
    await accept(hub, request(topic, 'ImagingStudy-close', studyContext(imagingStudy(), patient())));
    await accept(hub, request(topic, 'Encounter-close', encounterContext()));
    await accept(hub, request(topic, 'Patient-close', patientContext()));
    expect(closer.channel.events.map((f) => f.event['hub.event'])).toEqual(['ImagingStudy-close', 'Patient-close']);
  });

  it('HUB-NOTIFY-04 event names match without regard to case, both in hub.events and in requests', async () => {
    const { hub, topic } = await world();
    const shouty = join(hub, topic, ['patient-OPEN']);
    const plain = join(hub, topic, ['Patient-open']);
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-1'))));
    await accept(hub, request(topic, 'PATIENT-OPEN', patientContext(patient('pt-2'))));
    await accept(hub, request(topic, 'patient-open', patientContext(patient('pt-3'))));
    expect(notifications(shouty.channel).map((f) => f.event.context[0].resource.id)).toEqual(['pt-1', 'pt-2', 'pt-3']);
    expect(notifications(plain.channel).map((f) => f.event.context[0].resource.id)).toEqual(['pt-1', 'pt-2', 'pt-3']);
  });

  it('HUB-NOTIFY-05 * matches every event and DiagnosticReport-* matches every DiagnosticReport event', async () => {
    const { hub, topic } = await world();
    const all = join(hub, topic, ['*']);
    const reports = join(hub, topic, ['DiagnosticReport-*']);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    const versionId = notifications(reports.channel)[0].event['context.versionId'];
    await accept(hub, request(topic, 'DiagnosticReport-update', [res('report', diagnosticReport()), res('updates', { resourceType: 'Bundle', id: 'b-1', type: 'transaction', entry: [] })], { event: { 'context.versionId': versionId } }));
    await accept(hub, request(topic, 'DiagnosticReport-select', [res('report', diagnosticReport()), { key: 'select', reference: { reference: 'Observation/obs-1' } }]));
    await accept(hub, request(topic, 'SyncError', [res('operationoutcome', outcomeResource())]));
    await accept(hub, request(topic, 'userLogout', [res('parameters', parametersResource())]));
    await accept(hub, request(topic, 'DiagnosticReport-close', reportContext()));
    await accept(hub, request(topic, 'org.example.dictation_started', [{ key: 'extension', extension: { device: 'mic-2' } }]));
    expect(names(reports.channel)).toEqual(['DiagnosticReport-open', 'DiagnosticReport-update', 'DiagnosticReport-select', 'DiagnosticReport-close']);
    expect(all.channel.events.map((f) => f.event['hub.event'])).toEqual([
      'Patient-open',
      'DiagnosticReport-open',
      'DiagnosticReport-update',
      'DiagnosticReport-select',
      'syncerror',
      'userLogout',
      'DiagnosticReport-close',
      'org.example.dictation_started',
    ]);
  });

  it('HUB-NOTIFY-06 events of one topic never reach a subscriber of another topic', async () => {
    const { hub, topic } = await world();
    const other = hub.createTopic();
    const here = join(hub, topic, ['*']);
    const there = join(hub, other, ['*']);
    const silent = join(hub, topic, ['Patient-open']);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    await accept(hub, request(topic, 'Encounter-open', encounterContext(encounter('enc-3', 'pt-8'), patient('pt-8'))));
    answer(silent, { id: notifications(silent.channel)[0].id, status: 409 });
    expect(notifications(here.channel)).toHaveLength(2);
    expect(syncErrors(here.channel)).toHaveLength(1);
    expect(there.channel.events).toHaveLength(0);
  });

  it('HUB-NOTIFY-07 hub.event uses one fixed spelling whatever case the publisher used', async () => {
    const { hub, topic } = await world();
    const all = join(hub, topic, ['*']);
    const cases: Array<[string, unknown[], string]> = [
      ['pATIENT-oPEN', patientContext(), 'Patient-open'],
      ['imagingstudy-open', studyContext(), 'ImagingStudy-open'],
      ['DIAGNOSTICREPORT-OPEN', reportContext(), 'DiagnosticReport-open'],
      ['SYNCERROR', [res('operationoutcome', outcomeResource())], 'syncerror'],
      ['SyncError', [res('operationoutcome', outcomeResource())], 'syncerror'],
      ['USERHIBERNATE', [res('parameters', parametersResource())], 'userHibernate'],
      ['home-OPEN', [], 'Home-open'],
      ['UserLogout', [res('parameters', parametersResource())], 'userLogout'],
    ];
    for (const [sent, context] of cases) await accept(hub, request(topic, sent, context));
    expect(all.channel.events.map((f) => f.event['hub.event'])).toEqual(cases.map((c) => c[2]));
  });

  it('HUB-NOTIFY-07 HUB-SYNC-03 hub-generated SyncErrors are spelled syncerror', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open']);
    const watcher = join(hub, topic, ['SyncError']);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    answer(viewer, { id: notifications(viewer.channel)[0].id, status: 500 });
    expect(watcher.channel.events.map((f) => f.event['hub.event'])).toEqual(['syncerror']);
  });

  it('HUB-NOTIFY-08 SyncErrors, relayed or hub-generated, go only to subscribers whose hub.events match SyncError', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open', 'Patient-close']);
    const other = join(hub, topic, ['Patient-open']);
    const watcher = join(hub, topic, ['syncerror']);
    await accept(hub, request(topic, 'SyncError', [res('operationoutcome', outcomeResource())]));
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    answer(viewer, { id: notifications(viewer.channel)[0].id, status: 409 });
    expect(syncErrors(watcher.channel)).toHaveLength(2);
    expect(syncErrors(viewer.channel)).toHaveLength(0);
    expect(syncErrors(other.channel)).toHaveLength(0);
  });

  it('HUB-NOTIFY-09 each subscriber receives a topic\u2019s events in the order the hub accepted them', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open', 'Patient-close', 'ImagingStudy-open', 'Encounter-open']);
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      const p = patient(`pt-${i}`, `MRN-${i}`);
      const bodies = [
        request(topic, 'Patient-open', patientContext(p)),
        request(topic, 'ImagingStudy-open', studyContext(imagingStudy(`st-${i}`, `ACC-${i}`, p.id), p)),
        request(topic, 'Encounter-open', encounterContext(encounter(`enc-${i}`, p.id), p)),
        request(topic, 'Patient-close', patientContext(p)),
      ];
      for (const body of bodies) sent.push(await accept(hub, body));
    }
    expect(notifications(viewer.channel).map((f) => f.id)).toEqual(sent);
  });
});
