import { describe, expect, it } from 'vitest';
import type { Hub } from '../../../src/hub/index.js';
import {
  type Fhir,
  accept,
  ackAll,
  del,
  diagnosticReport,
  imagingStudy,
  issueOf,
  join,
  notifications,
  observation,
  patient,
  patientContext,
  put,
  ref,
  refuse,
  reportContext,
  request,
  res,
  studyContext,
  updateBundle,
  updateContext,
  world,
} from './support.js';

/** The resources of the current context's content Bundle. */
function contentOf(hub: Hub, topic: string): Fhir[] {
  const entries = hub.getContext(topic).context.filter((e) => e.key === 'content');
  expect(entries).toHaveLength(1);
  const bundle = entries[0]!.resource as unknown as { entry?: Array<{ resource: Fhir }> };
  return (bundle.entry ?? []).map((e) => e.resource);
}

const versionOf = (hub: Hub, topic: string): string => hub.getContext(topic)['context.versionId']!;

/** Sends a DiagnosticReport-update for dr against a versionId. */
function update(topic: string, reportId: string, versionId: string | undefined, entries: unknown[], bundleId = 'ub-1') {
  return request(topic, 'DiagnosticReport-update', updateContext(reportId, updateBundle(bundleId, entries), 'pt-7'), versionId === undefined ? {} : { event: { 'context.versionId': versionId } });
}

describe('HUB-CONTENT: content sharing', () => {
  it('HUB-CONTENT-01 a DiagnosticReport-open broadcast carries a versionId never used before in the topic, and get-context returns it', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['DiagnosticReport-open', 'DiagnosticReport-update']);
    const used: string[] = [];
    for (const id of ['dr-1', 'dr-2', 'dr-1', 'dr-3']) {
      await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport(id))));
      const broadcast = notifications(viewer.channel).at(-1)!;
      const v = broadcast.event['context.versionId'];
      expect(typeof v).toBe('string');
      expect(used).not.toContain(v);
      expect(versionOf(hub, topic)).toBe(v);
      used.push(v);
      await accept(hub, update(topic, id, v, [put(observation(`obs-${used.length}`))]));
      ackAll(viewer);
      used.push(versionOf(hub, topic));
    }
    expect(new Set(used).size).toBe(used.length);
  });

  it('HUB-CONTENT-02 the content rules apply to any <Type>-update whose anchor key names an open context (study, patient, lower-case type)', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['*']);
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-1', 'ACC-1'), patient())));
    const v1 = versionOf(hub, topic);
    await accept(hub, request(topic, 'ImagingStudy-update', [ref('study', 'ImagingStudy/st-1'), res('updates', updateBundle('ub-s', [put(observation('obs-kv', 'key image note'))]))], { event: { 'context.versionId': v1 } }));
    const sent = notifications(viewer.channel).at(-1)!;
    expect(sent.event['context.priorVersionId']).toBe(v1);
    expect(contentOf(hub, topic).map((r) => r.id)).toEqual(['obs-kv']);
    await refuse(hub, request(topic, 'ImagingStudy-update', [ref('study', 'ImagingStudy/st-1'), res('updates', updateBundle('ub-s2', []))], { event: { 'context.versionId': v1 } }), 409);

    await accept(hub, request(topic, 'Patient-open', patientContext()));
    const vp = versionOf(hub, topic);
    await accept(hub, request(topic, 'Patient-update', [ref('patient', 'Patient/pt-7'), res('updates', updateBundle('ub-p', [put({ resourceType: 'AllergyIntolerance', id: 'al-1', patient: { reference: 'Patient/pt-7' }, code: { text: 'iodinated contrast' } })]))], { event: { 'context.versionId': vp } }));
    expect(contentOf(hub, topic).map((r) => r.id)).toEqual(['al-1']);

    const order = { resourceType: 'ServiceRequest', id: 'sr-1', status: 'active', intent: 'order', subject: { reference: 'Patient/pt-7' } };
    await accept(hub, request(topic, 'ServiceRequest-open', [res('servicerequest', order)]));
    const vs = versionOf(hub, topic);
    await accept(hub, request(topic, 'ServiceRequest-update', [ref('servicerequest', 'ServiceRequest/sr-1'), res('updates', updateBundle('ub-sr', [put(observation('obs-sr'))]))], { event: { 'context.versionId': vs } }));
    expect(contentOf(hub, topic).map((r) => r.id)).toEqual(['obs-sr']);
    await refuse(hub, request(topic, 'Encounter-update', [ref('encounter', 'Encounter/enc-404'), res('updates', updateBundle('ub-e', []))], { event: { 'context.versionId': vs } }), 404);
  });

  it('HUB-CONTENT-03 HUB-CONTENT-04 an update with a stale versionId is refused with 409 conflict; nothing is applied or broadcast', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    const v1 = versionOf(hub, topic);
    await accept(hub, update(topic, 'dr-1', v1, [put(observation('obs-1'))]));
    const v2 = versionOf(hub, topic);
    const viewer = join(hub, topic, ['DiagnosticReport-update']);
    const before = hub.getContext(topic);
    for (const stale of [v1, 'v-made-up', v2 + 'x']) {
      const error = await refuse(hub, update(topic, 'dr-1', stale, [put(observation('obs-2')), del('Observation', 'obs-1')]), 409);
      expect(issueOf(error).code).toBe('conflict');
    }
    expect(viewer.channel.events).toHaveLength(0);
    expect(hub.getContext(topic)).toEqual(before);
  });

  it('HUB-CONTENT-05 an update without a versionId gets 400; a bare event.versionId is read when context.versionId is absent', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    const v1 = versionOf(hub, topic);
    await refuse(hub, update(topic, 'dr-1', undefined, [put(observation('obs-1'))]), 400);
    await refuse(hub, update(topic, 'dr-1', '', [put(observation('obs-1'))]), 400);
    expect(contentOf(hub, topic)).toEqual([]);
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('ub-1', [put(observation('obs-1'))])), { event: { versionId: v1 } }));
    expect(contentOf(hub, topic).map((r) => r.id)).toEqual(['obs-1']);
    const v2 = versionOf(hub, topic);
    await refuse(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('ub-2', [put(observation('obs-2'))])), { event: { versionId: v1 } }), 409);
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('ub-3', [put(observation('obs-3'))])), { event: { 'context.versionId': v2, versionId: 'ignored-when-dotted-present' } }));
  });

  it('HUB-CONTENT-06 updates must hold exactly one Bundle that names no resource twice, else 400', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    const v = versionOf(hub, topic);
    const ev = { event: { 'context.versionId': v } };
    await refuse(hub, request(topic, 'DiagnosticReport-update', [ref('report', 'DiagnosticReport/dr-1')], ev), 400);
    await refuse(hub, request(topic, 'DiagnosticReport-update', [ref('report', 'DiagnosticReport/dr-1'), res('updates', updateBundle('a', [])), res('updates', updateBundle('b', []))], ev), 400);
    await refuse(hub, request(topic, 'DiagnosticReport-update', [ref('report', 'DiagnosticReport/dr-1'), res('updates', observation())], ev), 400);
    await refuse(hub, update(topic, 'dr-1', v, [put(observation('obs-1', 'size', 10)), put(observation('obs-1', 'size', 11))]), 400);
    await refuse(hub, update(topic, 'dr-1', v, [put(observation('obs-1')), del('Observation', 'obs-1')]), 400);
    expect(contentOf(hub, topic)).toEqual([]);
    expect(versionOf(hub, topic)).toBe(v);
  });

  it('HUB-CONTENT-07 entries may only PUT or DELETE, and a PUT needs a resource with resourceType and id', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    const v = versionOf(hub, topic);
    const obs = observation('obs-1');
    const bad: unknown[] = [
      { request: { method: 'POST', url: 'Observation' }, resource: obs },
      { request: { method: 'PATCH', url: 'Observation/obs-1' }, resource: obs },
      { request: { method: 'GET', url: 'Observation/obs-1' } },
      { resource: obs },
      { request: { method: 'PUT', url: 'Observation/obs-1' } },
      { request: { method: 'PUT', url: 'Observation/obs-1' }, resource: { ...obs, id: undefined } },
      { request: { method: 'PUT', url: 'Observation/obs-1' }, resource: { id: 'obs-1', status: 'final' } },
    ];
    for (const entry of bad) await refuse(hub, update(topic, 'dr-1', v, [entry]), 400);
    expect(contentOf(hub, topic)).toEqual([]);
    await accept(hub, update(topic, 'dr-1', v, [put(obs)]));
  });

  it('HUB-CONTENT-08 an update is atomic: when one entry is refused none is applied', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    await accept(hub, update(topic, 'dr-1', versionOf(hub, topic), [put(observation('obs-1', 'nodule', 8))]));
    const before = hub.getContext(topic);
    const v = before['context.versionId'];
    await refuse(hub, update(topic, 'dr-1', v, [put(observation('obs-2', 'nodule', 9)), del('Observation', 'obs-1'), put(observation('obs-1', 'nodule', 12)), { request: { method: 'POST', url: 'Observation' }, resource: observation('obs-3') }]), 400);
    expect(hub.getContext(topic)).toEqual(before);
    expect(contentOf(hub, topic)).toEqual([observation('obs-1', 'nodule', 8)]);
  });

  it('HUB-CONTENT-09 an accepted update is broadcast with a new versionId, priorVersionId and the request\u2019s Bundle id', async () => {
    const { hub, topic } = await world();
    const editor = join(hub, topic, ['DiagnosticReport-open', 'DiagnosticReport-update']);
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    const v1 = versionOf(hub, topic);
    const body = update(topic, 'dr-1', v1, [put(observation('obs-1'))], 'bundle-from-request-42');
    const id = await accept(hub, body);
    const broadcast = notifications(editor.channel).at(-1)!;
    expect(broadcast.id).toBe(id);
    expect(broadcast.event['hub.event']).toBe('DiagnosticReport-update');
    expect(broadcast.event['context.priorVersionId']).toBe(v1);
    expect(broadcast.event['context.versionId']).not.toBe(v1);
    expect(typeof broadcast.event['context.versionId']).toBe('string');
    expect(broadcast.event['context.versionId']).toBe(versionOf(hub, topic));
    expect(broadcast.event.context.find((e: any) => e.key === 'updates').resource.id).toBe('bundle-from-request-42');
  });

  it('HUB-CONTENT-10 PUT adds or replaces by type and id; DELETE names its target by request.url, else fullUrl, else resource; an unknown DELETE is a no-op', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    const step = async (entries: unknown[]) => accept(hub, update(topic, 'dr-1', versionOf(hub, topic), entries));
    await step([put(observation('obs-1', 'nodule', 8)), put(observation('obs-2', 'effusion', 3)), put({ resourceType: 'ImagingSelection', id: 'obs-1', status: 'available', code: { text: 'same id, other type' } })]);
    expect(contentOf(hub, topic).map((r) => `${r.resourceType}/${r.id}`).sort()).toEqual(['ImagingSelection/obs-1', 'Observation/obs-1', 'Observation/obs-2']);
    await step([put(observation('obs-1', 'nodule', 11))]);
    expect(contentOf(hub, topic).filter((r) => r.id === 'obs-1' && r.resourceType === 'Observation')).toEqual([observation('obs-1', 'nodule', 11)]);
    await step([{ fullUrl: 'Observation/obs-2', request: { method: 'DELETE', url: 'ImagingSelection/obs-1' } }]);
    expect(contentOf(hub, topic).map((r) => `${r.resourceType}/${r.id}`).sort()).toEqual(['Observation/obs-1', 'Observation/obs-2']);
    await step([{ fullUrl: 'https://ehr.example.org/fhir/Observation/obs-2', request: { method: 'DELETE' } }]);
    expect(contentOf(hub, topic).map((r) => `${r.resourceType}/${r.id}`)).toEqual(['Observation/obs-1']);
    await step([{ request: { method: 'DELETE' }, resource: { resourceType: 'Observation', id: 'obs-1' } }]);
    expect(contentOf(hub, topic)).toEqual([]);
    await step([put(observation('obs-5'))]);
    await step([del('Observation', 'obs-404'), del('Media', 'm-1')]);
    expect(contentOf(hub, topic)).toEqual([observation('obs-5')]);
  });

  it('HUB-CONTENT-11 every non-empty get-context answer ends with exactly one content Bundle of type collection, without request members', async () => {
    const { hub, topic } = await world();
    const steps: Array<[number, () => Promise<unknown>]> = [
      [0, () => accept(hub, request(topic, 'Patient-open', patientContext()))],
      [0, () => accept(hub, request(topic, 'DiagnosticReport-open', reportContext()))],
      [2, () => accept(hub, update(topic, 'dr-1', versionOf(hub, topic), [put(observation('obs-1')), put(observation('obs-2'))]))],
    ];
    for (const [expectEntries, step] of steps) {
      await step();
      const { context } = hub.getContext(topic);
      const contents = context.filter((e) => e.key === 'content');
      expect(contents).toHaveLength(1);
      expect(context.at(-1)!.key).toBe('content');
      const bundle = contents[0]!.resource as unknown as { resourceType: string; type: string; entry?: Array<Record<string, unknown>> };
      expect(bundle.resourceType).toBe('Bundle');
      expect(bundle.type).toBe('collection');
      expect(bundle.entry ?? []).toHaveLength(expectEntries);
      for (const e of bundle.entry ?? []) expect(e.request).toBeUndefined();
    }
  });

  it('HUB-CONTENT-12 a PUT of the open\u2019s own DiagnosticReport shows up in content while context keeps the original', async () => {
    const { hub, topic } = await world();
    const original = diagnosticReport('dr-1', 'pt-7', 'preliminary');
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(original)));
    const signed = { ...diagnosticReport('dr-1', 'pt-7', 'final'), conclusion: 'Stable 8 mm nodule, right upper lobe.' };
    await accept(hub, update(topic, 'dr-1', versionOf(hub, topic), [put(signed)]));
    const { context } = hub.getContext(topic);
    expect(context.find((e) => e.key === 'report')!.resource).toEqual(original);
    expect(contentOf(hub, topic)).toEqual([signed]);
  });

  it('HUB-CONTENT-13 an update or select for a report that is not open gets 404 not-found', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
    const v = versionOf(hub, topic);
    const e1 = await refuse(hub, update(topic, 'dr-2', v, [put(observation())]), 404);
    expect(issueOf(e1).code).toBe('not-found');
    const e2 = await refuse(hub, request(topic, 'DiagnosticReport-select', [ref('report', 'DiagnosticReport/dr-2'), ref('select', 'Observation/obs-1')]), 404);
    expect(issueOf(e2).code).toBe('not-found');
    await accept(hub, request(topic, 'DiagnosticReport-close', reportContext(diagnosticReport('dr-1'))));
    const e3 = await refuse(hub, update(topic, 'dr-1', v, [put(observation())]), 404);
    expect(issueOf(e3).code).toBe('not-found');
  });

  it('HUB-CONTENT-14 an update to an open report that is not current is checked against that report\u2019s versionId and applied to it', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
    const v1 = versionOf(hub, topic);
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-2'))));
    const v2 = versionOf(hub, topic);
    await accept(hub, update(topic, 'dr-2', v2, [put(observation('obs-b'))]));
    const current = hub.getContext(topic);
    await refuse(hub, update(topic, 'dr-1', current['context.versionId'], [put(observation('obs-a'))]), 409);
    await accept(hub, update(topic, 'dr-1', v1, [put(observation('obs-a'))]));
    expect(hub.getContext(topic)).toEqual(current);
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
    expect(contentOf(hub, topic)).toEqual([observation('obs-a')]);
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-2'))));
    expect(contentOf(hub, topic)).toEqual([observation('obs-b')]);
  });

  it('HUB-CONTENT-15 DiagnosticReport-close drops the content; a later open starts empty with a new versionId', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    const v1 = versionOf(hub, topic);
    await accept(hub, update(topic, 'dr-1', v1, [put(observation('obs-1'))]));
    const v2 = versionOf(hub, topic);
    await accept(hub, request(topic, 'DiagnosticReport-close', reportContext()));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    expect(contentOf(hub, topic)).toEqual([]);
    expect([v1, v2]).not.toContain(versionOf(hub, topic));
    await refuse(hub, update(topic, 'dr-1', v2, [put(observation('obs-9'))]), 409);
  });

  it('HUB-CONTENT-16 re-opening a report that is still open keeps its content, gives a new versionId in the broadcast and makes it current', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['DiagnosticReport-open']);
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
    await accept(hub, update(topic, 'dr-1', versionOf(hub, topic), [put(observation('obs-1'))]));
    const before = versionOf(hub, topic);
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-3', 'MRN-3'))));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
    const reopened = notifications(viewer.channel).at(-1)!;
    expect(reopened.event['context.versionId']).not.toBe(before);
    expect(hub.getContext(topic)['context.type']).toBe('DiagnosticReport');
    expect(versionOf(hub, topic)).toBe(reopened.event['context.versionId']);
    expect(contentOf(hub, topic)).toEqual([observation('obs-1')]);
  });

  it('HUB-CONTENT-16 the catch-up DiagnosticReport-open carries the report\u2019s latest versionId', async () => {
    const { hub, topic } = await world();
    const openId = await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
    const atOpen = versionOf(hub, topic);
    await accept(hub, update(topic, 'dr-1', versionOf(hub, topic), [put(observation('obs-1'))]));
    await accept(hub, update(topic, 'dr-1', versionOf(hub, topic), [put(observation('obs-2'))]));
    const first = join(hub, topic, ['DiagnosticReport-open']);
    const [caught] = notifications(first.channel);
    expect(caught.id).toBe(openId);
    expect(caught.event['context.versionId']).not.toBe(atOpen);
    expect(caught.event['context.versionId']).toBe(versionOf(hub, topic));
    expect(caught.event['context.priorVersionId']).toBeUndefined();
    // dr-1 stays open but is no longer current; its version moves on through a non-current update.
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-3', 'MRN-3'))));
    await accept(hub, update(topic, 'dr-1', caught.event['context.versionId'], [put(observation('obs-3'))]));
    const second = join(hub, topic, ['DiagnosticReport-open']);
    const [again] = notifications(second.channel);
    expect(again.event['context.versionId']).not.toBe(caught.event['context.versionId']);
    await accept(hub, update(topic, 'dr-1', again.event['context.versionId'], [put(observation('obs-4'))]));
  });

  it('HUB-CONTENT-17 DiagnosticReport-select is broadcast and changes neither content, versionIds nor the current context', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['DiagnosticReport-select']);
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
    const v1 = versionOf(hub, topic);
    await accept(hub, update(topic, 'dr-1', v1, [put(observation('obs-1')), put(observation('obs-2'))]));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-2'))));
    const before = hub.getContext(topic);
    const snapshot = JSON.stringify(hub.inspect().topics.find((t) => t.topic === topic)!.open);
    const id1 = await accept(hub, request(topic, 'DiagnosticReport-select', [ref('report', 'DiagnosticReport/dr-2'), ref('patient', 'Patient/pt-7'), ref('select', 'Observation/obs-9')]));
    const id2 = await accept(hub, request(topic, 'DiagnosticReport-select', [res('report', diagnosticReport('dr-1')), ref('select', 'Observation/obs-1'), ref('select', 'Observation/obs-2')]));
    expect(notifications(viewer.channel).map((f) => f.id)).toEqual([id1, id2]);
    expect(hub.getContext(topic)).toEqual(before);
    expect(JSON.stringify(hub.inspect().topics.find((t) => t.topic === topic)!.open)).toBe(snapshot);
  });

  it('HUB-CONTENT-17 in an update, report may be given as a resource instead of a reference', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
    await accept(hub, request(topic, 'DiagnosticReport-update', [res('report', diagnosticReport('dr-1')), res('updates', updateBundle('ub-1', [put(observation('obs-1'))]))], { event: { 'context.versionId': versionOf(hub, topic) } }));
    expect(contentOf(hub, topic)).toEqual([observation('obs-1')]);
  });

  it('HUB-CONTENT-11 HUB-CONTENT-14 content is kept per report: each open report has its own content', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
    await accept(hub, update(topic, 'dr-1', versionOf(hub, topic), [put(observation('obs-1'))]));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-2'))));
    expect(contentOf(hub, topic)).toEqual([]);
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-1', 'ACC-1'))));
    expect(contentOf(hub, topic)).toEqual([]);
  });
});
