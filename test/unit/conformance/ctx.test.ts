import { describe, expect, it } from 'vitest';
import {
  accept,
  ackAll,
  confirmations,
  diagnosticReport,
  encounter,
  encounterContext,
  imagingStudy,
  join,
  names,
  notifications,
  patient,
  patientContext,
  put,
  reportContext,
  request,
  res,
  studyContext,
  syncCodings,
  syncErrors,
  updateBundle,
  updateContext,
  observation,
  world,
} from './support.js';
import type { Hub } from '../../../src/hub/index.js';

const EMPTY = { 'context.type': '', context: [] };

/** The topic's open contexts as `Type/id`, and the current one. */
function openOf(hub: Hub, topic: string): { open: string[]; current?: string } {
  const t = hub.inspect().topics.find((x) => x.topic === topic);
  return { open: (t?.open ?? []).map((o) => `${o.type}/${o.id}`).sort(), current: t?.open.find((o) => o.current) ? `${t.open.find((o) => o.current)!.type}/${t.open.find((o) => o.current)!.id}` : undefined };
}

const anchorOf = (frame: any): string => {
  const r = frame.event.context[0].resource;
  return `${r.resourceType}/${r.id}`;
};

describe('HUB-CTX: current context and open contexts', () => {
  it('HUB-CTX-01 several contexts stay open at once and the most recently opened one is current', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-1', 'MRN-1'))));
    expect(hub.getContext(topic)['context.type']).toBe('Patient');
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-1', 'ACC-1', 'pt-1'), patient('pt-1', 'MRN-1'))));
    expect(hub.getContext(topic)['context.type']).toBe('ImagingStudy');
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-2', 'MRN-2'))));
    const ctx = hub.getContext(topic);
    expect(ctx['context.type']).toBe('Patient');
    expect(ctx.context[0]!.resource!.id).toBe('pt-2');
    expect(openOf(hub, topic)).toEqual({ open: ['ImagingStudy/st-1', 'Patient/pt-1', 'Patient/pt-2'], current: 'Patient/pt-2' });
  });

  it('HUB-CTX-02 opening a context that is already open makes it current without duplicating it', async () => {
    const { hub, topic } = await world();
    const p1 = patient('pt-1', 'MRN-1');
    await accept(hub, request(topic, 'Patient-open', patientContext(p1)));
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-1', 'ACC-1', 'pt-1'))));
    const reopen = await accept(hub, request(topic, 'Patient-open', patientContext(p1)));
    expect(hub.getContext(topic)['context.type']).toBe('Patient');
    expect(openOf(hub, topic)).toEqual({ open: ['ImagingStudy/st-1', 'Patient/pt-1'], current: 'Patient/pt-1' });
    const late = join(hub, topic, ['Patient-open', 'ImagingStudy-open']);
    expect(notifications(late.channel).map(anchorOf)).toEqual(['ImagingStudy/st-1', 'Patient/pt-1']);
    expect(notifications(late.channel)[1].id).toBe(reopen);
  });

  it('HUB-CTX-03 after the current context is closed get-context is empty while the other contexts stay open', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
    const drVersion = hub.getContext(topic)['context.versionId'];
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-2', 'MRN-2'))));
    await accept(hub, request(topic, 'Patient-close', patientContext(patient('pt-2', 'MRN-2'))));
    expect(hub.getContext(topic)).toStrictEqual(EMPTY);
    expect(openOf(hub, topic)).toEqual({ open: ['DiagnosticReport/dr-1'], current: undefined });
    // dr-1 is still open: an update checked against its versionId is accepted.
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b-1', [put(observation())])), { event: { 'context.versionId': drVersion } }));
    expect(hub.getContext(topic)).toStrictEqual(EMPTY);
  });

  it('HUB-CTX-04 closing an open context that is not current removes it and leaves the current context unchanged', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-1', 'MRN-1'))));
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-1', 'ACC-1', 'pt-1'))));
    const before = hub.getContext(topic);
    await accept(hub, request(topic, 'Patient-close', patientContext(patient('pt-1', 'MRN-1'))));
    expect(hub.getContext(topic)).toEqual(before);
    expect(openOf(hub, topic)).toEqual({ open: ['ImagingStudy/st-1'], current: 'ImagingStudy/st-1' });
  });

  it('HUB-CTX-05 a close removes only the context whose anchor type and id match', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('x-1', 'MRN-1'))));
    await accept(hub, request(topic, 'Encounter-open', encounterContext(encounter('enc-1', 'x-1'), patient('x-1', 'MRN-1'))));
    const before = hub.getContext(topic);
    await accept(hub, request(topic, 'ImagingStudy-close', studyContext(imagingStudy('x-1', 'ACC-1', 'x-1'))));
    await accept(hub, request(topic, 'Patient-close', patientContext(patient('x-2', 'MRN-2'))));
    expect(hub.getContext(topic)).toEqual(before);
    expect(openOf(hub, topic).open).toEqual(['Encounter/enc-1', 'Patient/x-1']);
    await accept(hub, request(topic, 'Encounter-close', encounterContext(encounter('enc-1', 'x-1'), patient('x-1', 'MRN-1'))));
    expect(openOf(hub, topic)).toEqual({ open: ['Patient/x-1'], current: undefined });
  });

  it('HUB-CTX-05 a close naming no open context is accepted and broadcast with no state change', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-close', 'DiagnosticReport-close']);
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-1', 'MRN-1'))));
    const before = hub.getContext(topic);
    const id1 = await accept(hub, request(topic, 'Patient-close', patientContext(patient('pt-9', 'MRN-9'))));
    const id2 = await accept(hub, request(topic, 'DiagnosticReport-close', reportContext(diagnosticReport('dr-9'))));
    expect(notifications(viewer.channel).map((f) => f.id)).toEqual([id1, id2]);
    expect(hub.getContext(topic)).toEqual(before);
  });

  it('HUB-CTX-05 the hub never derives close events', async () => {
    const { hub, topic } = await world();
    const closes = join(hub, topic, ['Patient-close', 'ImagingStudy-close', 'Encounter-close']);
    const s1 = imagingStudy('st-1', 'ACC-1');
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1', 'pt-7', 'preliminary', ['st-1']), patient(), [s1], encounter())));
    await accept(hub, request(topic, 'DiagnosticReport-close', reportContext(diagnosticReport('dr-1', 'pt-7', 'preliminary', ['st-1']), patient(), [s1], encounter())));
    await accept(hub, request(topic, 'Encounter-open', encounterContext()));
    ackAll(closes);
    expect(closes.channel.events).toHaveLength(0);
    await accept(hub, request(topic, 'Encounter-close', encounterContext()));
    expect(names(closes.channel)).toEqual(['Encounter-close']);
  });

  it('HUB-CTX-06 a Patient-open-only subscriber joining after an Encounter-open gets that patient in a Patient-open', async () => {
    const { hub, topic } = await world();
    const p = patient('pt-4', 'MRN-4');
    await accept(hub, request(topic, 'Encounter-open', encounterContext(encounter('enc-4', 'pt-4'), p)));
    const late = join(hub, topic, ['Patient-open']);
    expect(late.channel.frames[0]['hub.mode']).toBe('subscribe');
    const frames = notifications(late.channel);
    expect(frames).toHaveLength(1);
    expect(frames[0].event['hub.event']).toBe('Patient-open');
    expect(frames[0].event.context.find((e: any) => e.key === 'patient').resource).toEqual(p);
  });

  it('HUB-CTX-06 the catch-up holds the most recent open per anchor type, limited to the subscriber\u2019s events, and no closed context', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-1', 'MRN-1'))));
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-2', 'MRN-2'))));
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-1', 'ACC-1', 'pt-2'))));
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-2', 'ACC-2', 'pt-2'))));
    await accept(hub, request(topic, 'ImagingStudy-close', studyContext(imagingStudy('st-2', 'ACC-2', 'pt-2'))));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1', 'pt-2'), patient('pt-2', 'MRN-2'))));
    const both = join(hub, topic, ['Patient-open', 'ImagingStudy-open']);
    expect(notifications(both.channel).map(anchorOf)).toEqual(['Patient/pt-2', 'ImagingStudy/st-1']);
    const reports = join(hub, topic, ['DiagnosticReport-open']);
    expect(notifications(reports.channel).map(anchorOf)).toEqual(['DiagnosticReport/dr-1']);
    const closesOnly = join(hub, topic, ['Patient-close', 'SyncError']);
    expect(closesOnly.channel.frames).toHaveLength(1);
    const none = join(hub, hub.createTopic(), ['*']);
    expect(none.channel.frames).toHaveLength(1);
  });

  it('HUB-CTX-07 catch-up notifications carry the timestamp of the original event', async () => {
    const { hub, topic, tick } = await world();
    await accept(hub, request(topic, 'Patient-open', patientContext(), { timestamp: '2025-12-31T23:10:00.000Z' }));
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(), { timestamp: '2025-12-31T23:20:00.500Z' }));
    tick(3_600_000);
    const late = join(hub, topic, ['Patient-open', 'ImagingStudy-open']);
    expect(notifications(late.channel).map((f) => f.timestamp)).toEqual(['2025-12-31T23:10:00.000Z', '2025-12-31T23:20:00.500Z']);
  });

  it('HUB-CTX-07 HUB-CTX-12 a derived open in the catch-up carries the source event\u2019s timestamp', async () => {
    const { hub, topic, tick } = await world();
    await accept(hub, request(topic, 'Encounter-open', encounterContext(), { timestamp: '2025-12-31T22:00:00.000Z' }));
    tick(600_000);
    const late = join(hub, topic, ['Patient-open']);
    expect(notifications(late.channel).map((f) => f.timestamp)).toEqual(['2025-12-31T22:00:00.000Z']);
  });

  it('HUB-CTX-08 catch-up reuses the original ids, oldest first, current last, right after the confirmation and before live events', async () => {
    const { hub, topic } = await world();
    const p1 = patient('pt-1', 'MRN-1');
    const idP = await accept(hub, request(topic, 'Patient-open', patientContext(p1)));
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-1', 'ACC-1', 'pt-1'), p1)));
    const idR = await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1', 'pt-1'), p1)));
    const idS2 = await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-1', 'ACC-1', 'pt-1'), p1)));
    const late = join(hub, topic, ['Patient-open', 'ImagingStudy-open', 'DiagnosticReport-open']);
    const live = await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-5', 'MRN-5'))));
    expect(late.channel.frames[0]['hub.mode']).toBe('subscribe');
    expect(late.channel.frames.slice(1).map((f) => f.id)).toEqual([idP, idR, idS2, live]);
  });

  it('HUB-CTX-09 an Encounter-open reaches a Patient-open-only subscriber as a Patient-open holding the encounter\u2019s patient entry', async () => {
    const { hub, topic } = await world();
    const patientOnly = join(hub, topic, ['Patient-open']);
    const ctx = encounterContext(encounter('enc-2', 'pt-2'), patient('pt-2', 'MRN-2'));
    await accept(hub, request(topic, 'Encounter-open', ctx));
    const frames = notifications(patientOnly.channel);
    expect(frames).toHaveLength(1);
    expect(frames[0].event['hub.event']).toBe('Patient-open');
    expect(frames[0].event['hub.topic']).toBe(topic);
    expect(frames[0].event.context.filter((e: any) => e.key === 'patient')).toEqual([ctx[1]]);
  });

  it('HUB-CTX-10 derived opens go out exactly once per source event, and not to subscribers of the source event', async () => {
    const { hub, topic } = await world();
    const patientOnly = join(hub, topic, ['Patient-open', 'patient-open']);
    const both = join(hub, topic, ['Patient-open', 'Encounter-open']);
    const wildcard = join(hub, topic, ['*']);
    const encounters = join(hub, topic, ['Encounter-*', 'Patient-*']);
    const id = await accept(hub, request(topic, 'Encounter-open', encounterContext()));
    expect(names(patientOnly.channel)).toEqual(['Patient-open']);
    expect(notifications(both.channel).map((f) => [f.event['hub.event'], f.id])).toEqual([['Encounter-open', id]]);
    expect(notifications(wildcard.channel).map((f) => [f.event['hub.event'], f.id])).toEqual([['Encounter-open', id]]);
    expect(notifications(encounters.channel).map((f) => [f.event['hub.event'], f.id])).toEqual([['Encounter-open', id]]);
  });

  it('HUB-CTX-11 DiagnosticReport-open implies Patient-open, Encounter-open and one ImagingStudy-open per study, each to subscribers lacking the source', async () => {
    const { hub, topic } = await world();
    const pOnly = join(hub, topic, ['Patient-open']);
    const eOnly = join(hub, topic, ['Encounter-open']);
    const sOnly = join(hub, topic, ['ImagingStudy-open']);
    const pe = join(hub, topic, ['Patient-open', 'Encounter-open']);
    const source = join(hub, topic, ['DiagnosticReport-open', 'Patient-open', 'ImagingStudy-open']);
    const closes = join(hub, topic, ['Patient-close', 'ImagingStudy-close']);
    const studies = [imagingStudy('st-1', 'ACC-1001'), imagingStudy('st-2', 'ACC-1002')];
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1', 'pt-7', 'preliminary', ['st-1', 'st-2']), patient(), studies, encounter())));
    expect(notifications(pOnly.channel).map((f) => [f.event['hub.event'], anchorOf(f)])).toEqual([['Patient-open', 'Patient/pt-7']]);
    expect(notifications(eOnly.channel).map((f) => [f.event['hub.event'], anchorOf(f)])).toEqual([['Encounter-open', 'Encounter/enc-3']]);
    expect(notifications(sOnly.channel).map((f) => [f.event['hub.event'], anchorOf(f)]).sort()).toEqual([
      ['ImagingStudy-open', 'ImagingStudy/st-1'],
      ['ImagingStudy-open', 'ImagingStudy/st-2'],
    ]);
    expect(notifications(pe.channel).map((f) => f.event['hub.event']).sort()).toEqual(['Encounter-open', 'Patient-open']);
    expect(names(source.channel)).toEqual(['DiagnosticReport-open']);
    expect(closes.channel.events).toHaveLength(0);
  });

  it('HUB-CTX-11 DiagnosticReport-open without encounter or study implies only Patient-open', async () => {
    const { hub, topic } = await world();
    const eOnly = join(hub, topic, ['Encounter-open']);
    const sOnly = join(hub, topic, ['ImagingStudy-open']);
    const pOnly = join(hub, topic, ['Patient-open']);
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    expect(eOnly.channel.events).toHaveLength(0);
    expect(sOnly.channel.events).toHaveLength(0);
    expect(names(pOnly.channel)).toEqual(['Patient-open']);
  });

  it('HUB-CTX-11 ImagingStudy-open with a patient implies Patient-open; without one it implies nothing', async () => {
    const { hub, topic } = await world();
    const pOnly = join(hub, topic, ['Patient-open']);
    const both = join(hub, topic, ['ImagingStudy-open', 'Patient-open']);
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-1', 'ACC-1', 'pt-1'))));
    expect(pOnly.channel.events).toHaveLength(0);
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-2', 'ACC-2', 'pt-2'), patient('pt-2', 'MRN-2'))));
    expect(notifications(pOnly.channel).map(anchorOf)).toEqual(['Patient/pt-2']);
    expect(names(both.channel)).toEqual(['ImagingStudy-open', 'ImagingStudy-open']);
  });

  it('HUB-CTX-12 a derived open has a new hub id, the source timestamp and the implied event\u2019s keys named as in the source', async () => {
    const { hub, topic } = await world();
    const pOnly = join(hub, topic, ['Patient-open']);
    const eOnly = join(hub, topic, ['Encounter-open']);
    const sOnly = join(hub, topic, ['ImagingStudy-open']);
    const study = imagingStudy('st-1', 'ACC-1');
    const context = reportContext(diagnosticReport('dr-1', 'pt-7', 'final', ['st-1']), patient(), [study], encounter());
    const byKey = (key: string) => context.find((e) => e.key === key);
    const sourceId = await accept(hub, request(topic, 'DiagnosticReport-open', context, { timestamp: '2025-11-30T07:45:12.000Z' }));
    const [p] = notifications(pOnly.channel);
    const [e] = notifications(eOnly.channel);
    const [s] = notifications(sOnly.channel);
    const ids = [p.id, e.id, s.id];
    for (const id of ids) expect(id).not.toBe(sourceId);
    expect(new Set(ids).size).toBe(3);
    for (const f of [p, e, s]) expect(f.timestamp).toBe('2025-11-30T07:45:12.000Z');
    const keyed = (f: any) => Object.fromEntries(f.event.context.map((x: any) => [x.key, x]));
    expect(keyed(p)).toEqual({ patient: byKey('patient') });
    expect(keyed(e)).toEqual({ encounter: byKey('encounter'), patient: byKey('patient') });
    expect(keyed(s)).toEqual({ study: byKey('study'), encounter: byKey('encounter'), patient: byKey('patient') });
  });

  it('HUB-CTX-12 a derived open is ack-tracked like any notification', async () => {
    const { hub, topic, tick } = await world();
    const pOnly = join(hub, topic, ['Patient-open'], { subscriberName: 'Dictation' });
    const refuser = join(hub, topic, ['Patient-open'], { subscriberName: 'Lab viewer' });
    const watcher = join(hub, topic, ['SyncError']);
    await accept(hub, request(topic, 'Encounter-open', encounterContext()));
    const [derivedForRefuser] = notifications(refuser.channel);
    refuser.handle.receive(JSON.stringify({ id: derivedForRefuser.id, status: 409 }));
    tick(10_001);
    const errors = syncErrors(watcher.channel).map(syncCodings);
    expect(errors).toHaveLength(2);
    const [derived] = notifications(pOnly.channel);
    expect(errors).toContainEqual(expect.objectContaining({ eventid: derivedForRefuser.id, eventname: 'Patient-open', subscribername: 'Lab viewer' }));
    expect(errors).toContainEqual(expect.objectContaining({ eventid: derived.id, eventname: 'Patient-open', subscribername: 'Dictation' }));
  });

  it('HUB-CTX-13 no derived open is sent for a resource already open as the context of its type', async () => {
    const { hub, topic } = await world();
    const pOnly = join(hub, topic, ['Patient-open']);
    const p1 = patient('pt-1', 'MRN-1');
    await accept(hub, request(topic, 'Patient-open', patientContext(p1)));
    await accept(hub, request(topic, 'Encounter-open', encounterContext(encounter('enc-1', 'pt-1'), p1)));
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-1', 'ACC-1', 'pt-1'), p1)));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1', 'pt-1'), p1)));
    expect(notifications(pOnly.channel).map(anchorOf)).toEqual(['Patient/pt-1']);
  });

  it('HUB-CTX-13 a DiagnosticReport-open naming an already open study derives no second ImagingStudy-open', async () => {
    const { hub, topic } = await world();
    const studyOnly = join(hub, topic, ['ImagingStudy-open']);
    const s1 = imagingStudy('st-1', 'ACC-1');
    const s2 = imagingStudy('st-2', 'ACC-2');
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(s1)));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1', 'pt-7', 'preliminary', ['st-1', 'st-2']), patient(), [s1, s2])));
    expect(notifications(studyOnly.channel).map(anchorOf)).toEqual(['ImagingStudy/st-1', 'ImagingStudy/st-2']);
  });

  it('HUB-CTX-13 HUB-CTX-09 once the patient context is closed, a later Encounter-open derives the Patient-open again', async () => {
    const { hub, topic } = await world();
    const pOnly = join(hub, topic, ['Patient-open']);
    const p1 = patient('pt-1', 'MRN-1');
    await accept(hub, request(topic, 'Patient-open', patientContext(p1)));
    await accept(hub, request(topic, 'Patient-close', patientContext(p1)));
    await accept(hub, request(topic, 'Encounter-open', encounterContext(encounter('enc-1', 'pt-1'), p1)));
    expect(notifications(pOnly.channel).map(anchorOf)).toEqual(['Patient/pt-1', 'Patient/pt-1']);
    expect(confirmations(pOnly.channel)).toHaveLength(1);
  });

  it('HUB-CTX-06 HUB-CTX-11 catch-up for an ImagingStudy-open-only subscriber after a DiagnosticReport-open with a study', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1', 'pt-7', 'preliminary', ['st-1']), patient(), [imagingStudy('st-1', 'ACC-1')])));
    const late = join(hub, topic, ['ImagingStudy-open']);
    const frames = notifications(late.channel);
    expect(frames.map((f) => [f.event['hub.event'], anchorOf(f)])).toEqual([['ImagingStudy-open', 'ImagingStudy/st-1']]);
    expect(res('study', imagingStudy('st-1', 'ACC-1'))).toEqual(frames[0].event.context.find((e: any) => e.key === 'study'));
  });
});

describe('HUB-CTX: catch-up after tabs close', () => {
  it('HUB-CTX-06 a Patient-open-only subscriber joining while an encounter is open gets its patient, even after the encounter that first implied it was closed', async () => {
    const { hub, topic } = await world();
    const p2 = patient('pt-2', 'MRN-2');
    await accept(hub, request(topic, 'Encounter-open', encounterContext(encounter('enc-1', 'pt-2'), p2)));
    const second = encounterContext(encounter('enc-2', 'pt-2'), p2);
    await accept(hub, request(topic, 'Encounter-open', second));
    await accept(hub, request(topic, 'Encounter-close', encounterContext(encounter('enc-1', 'pt-2'), p2)));
    expect(hub.getContext(topic)['context.type']).toBe('Encounter');
    const late = join(hub, topic, ['Patient-open']);
    const frames = notifications(late.channel);
    expect(frames.map((f) => f.event['hub.event'])).toEqual(['Patient-open']);
    expect(frames[0].event.context.find((e: any) => e.key === 'patient')).toEqual(second[1]);
  });
});
