import { describe, expect, it } from 'vitest';
import {
  accept,
  diagnosticReport,
  encounter,
  encounterContext,
  imagingStudy,
  join,
  observation,
  patient,
  patientContext,
  put,
  reportContext,
  request,
  res,
  studyContext,
  updateBundle,
  updateContext,
  world,
} from './support.js';

const EMPTY = { 'context.type': '', context: [] };

describe('HUB-GET: get current context', () => {
  it('HUB-GET-01 context.type is the resource type of the current anchor', async () => {
    const { hub, topic } = await world();
    const steps: Array<[string, unknown[], string]> = [
      ['Patient-open', patientContext(), 'Patient'],
      ['Encounter-open', encounterContext(), 'Encounter'],
      ['ImagingStudy-open', studyContext(imagingStudy(), patient()), 'ImagingStudy'],
      ['DiagnosticReport-open', reportContext(), 'DiagnosticReport'],
      ['Patient-open', patientContext(patient('pt-8', 'MRN-8')), 'Patient'],
    ];
    for (const [name, context, type] of steps) {
      await accept(hub, request(topic, name, context));
      const answer = hub.getContext(topic);
      expect(typeof answer).toBe('object');
      expect(answer['context.type']).toBe(type);
    }
  });

  it('HUB-GET-02 context holds the entries of the open that made it current, exactly as received and in order, unchanged by later updates', async () => {
    const { hub, topic } = await world();
    const context = [
      res('patient', patient()),
      { key: 'extension', extension: { 'org.example.room': 'RR-2' } },
      res('study', imagingStudy('st-1', 'ACC-1')),
      res('report', diagnosticReport('dr-1', 'pt-7', 'preliminary', ['st-1'])),
      res('encounter', encounter()),
    ];
    await accept(hub, request(topic, 'DiagnosticReport-open', structuredClone(context)));
    const versionId = hub.getContext(topic)['context.versionId'];
    const finalReport = { ...diagnosticReport('dr-1', 'pt-7', 'final', ['st-1']), conclusion: 'No acute findings.' };
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b-1', [put(finalReport), put(observation())])), { event: { 'context.versionId': versionId } }));
    const answer = hub.getContext(topic);
    expect(answer.context.filter((e) => e.key !== 'content')).toEqual(context);
  });

  it('HUB-GET-02 after a re-open, context holds the entries of that latest open', async () => {
    const { hub, topic } = await world();
    const first = patient('pt-1', 'MRN-1');
    const again = { ...patient('pt-1', 'MRN-1'), name: [{ family: 'Nakamura-Lee', given: ['Aiko'] }] };
    await accept(hub, request(topic, 'Patient-open', patientContext(first)));
    await accept(hub, request(topic, 'Patient-open', [res('patient', again), { key: 'extension', extension: { tab: 2 } }]));
    expect(hub.getContext(topic).context.filter((e) => e.key !== 'content')).toEqual([res('patient', again), { key: 'extension', extension: { tab: 2 } }]);
  });

  it('HUB-GET-03 a non-empty answer carries a string context.versionId that differs each time the current context changes', async () => {
    const { hub, topic } = await world();
    const seen: string[] = [];
    const record = () => {
      const v = hub.getContext(topic)['context.versionId'];
      expect(typeof v).toBe('string');
      expect(v!.length).toBeGreaterThan(0);
      seen.push(v!);
    };
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-1', 'MRN-1'))));
    record();
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-2', 'MRN-2'))));
    record();
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-1', 'MRN-1'))));
    record();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    record();
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b-1', [put(observation())])), { event: { 'context.versionId': seen[3] } }));
    record();
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('HUB-GET-04 with no current context the answer is exactly {"context.type":"","context":[]}', async () => {
    const { hub, topic } = await world();
    expect(hub.getContext(topic)).toStrictEqual(EMPTY);
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext()));
    await accept(hub, request(topic, 'ImagingStudy-close', studyContext()));
    expect(hub.getContext(topic)).toStrictEqual(EMPTY);
    expect(JSON.stringify(hub.getContext(topic))).toBe('{"context.type":"","context":[]}');
  });

  it('HUB-GET-05 an unknown topic gets the empty shape', async () => {
    const { hub } = await world();
    expect(hub.getContext('never-seen-topic-3f9a')).toStrictEqual(EMPTY);
  });

  it('HUB-GET-05 the answer is the topic\u2019s current context whoever asks, not filtered by any subscription', async () => {
    const { hub, topic } = await world();
    join(hub, topic, ['Patient-open']);
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    expect(hub.getContext(topic)['context.type']).toBe('DiagnosticReport');
    const other = hub.createTopic();
    await accept(hub, request(other, 'Patient-open', patientContext(patient('pt-x', 'MRN-X'))));
    expect(hub.getContext(topic)['context.type']).toBe('DiagnosticReport');
    expect(hub.getContext(other)['context.type']).toBe('Patient');
  });
});
