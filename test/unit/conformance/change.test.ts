import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import {
  accept,
  diagnosticReport,
  encounter,
  imagingStudy,
  issueOf,
  join,
  names,
  notifications,
  outcomeResource,
  parametersResource,
  patient,
  patientContext,
  put,
  ref,
  refuse,
  reportContext,
  request,
  res,
  settle,
  studyContext,
  syncErrors,
  updateBundle,
  updateContext,
  world,
} from './support.js';

describe('HUB-CHANGE: request context change', () => {
  it('HUB-CHANGE-02 (engine part) the path topic is used when the body names none; a body naming another topic gets 400', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open', 'Patient-close']);
    await accept(hub, request(undefined, 'Patient-open', patientContext()), { pathTopic: topic });
    expect(notifications(viewer.channel)[0].event['hub.topic']).toBe(topic);
    expect(hub.getContext(topic)['context.type']).toBe('Patient');
    await accept(hub, request(topic, 'Patient-close', patientContext()), { pathTopic: topic });
    const other = hub.createTopic();
    await refuse(hub, request(other, 'Patient-open', patientContext(patient('pt-2'))), 400, { pathTopic: topic });
    expect(notifications(viewer.channel)).toHaveLength(2);
    expect(hub.getContext(other)).toEqual({ 'context.type': '', context: [] });
  });

  it('HUB-CHANGE-03 an accepted request reaches every matching subscriber of the topic, the requester\u2019s own subscription included', async () => {
    const { hub, topic } = await world();
    const requester = join(hub, topic, ['ImagingStudy-open'], { subscriberName: 'Worklist' });
    const viewer = join(hub, topic, ['ImagingStudy-open', 'ImagingStudy-close'], { subscriberName: 'Viewer' });
    const reporting = join(hub, topic, ['imagingstudy-open'], { subscriberName: 'Reporting' });
    const unrelated = join(hub, topic, ['Encounter-open']);
    const id = await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy(), patient())));
    for (const sub of [requester, viewer, reporting]) expect(notifications(sub.channel).map((f) => f.id)).toEqual([id]);
    expect(notifications(unrelated.channel)).toHaveLength(0);
  });

  it('HUB-CHANGE-04 the broadcast carries the request\u2019s id', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['*']);
    const ids = ['0f4e6c1a-8e1b-4c7e-9d61-5c1f0a3b2d11', 'rq-77', 'urn:uuid:5a7c'];
    await accept(hub, request(topic, 'Patient-open', patientContext(), { id: ids[0] }));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(), { id: ids[1] }));
    await accept(hub, request(topic, 'userHibernate', [res('parameters', parametersResource())], { id: ids[2] }));
    expect(notifications(viewer.channel).map((f) => f.id)).toEqual(ids);
  });

  it('HUB-CHANGE-05 the broadcast carries the request\u2019s timestamp and its context unchanged, unknown members included', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['*']);
    const context = [
      res('report', diagnosticReport('dr-1', 'pt-7', 'preliminary', ['st-1'])),
      res('patient', patient()),
      res('study', imagingStudy('st-1', 'ACC-1001')),
      { key: 'extension', extension: { 'org.example.priority': 'stat' } },
    ];
    const body = request(topic, 'DiagnosticReport-open', structuredClone(context), { timestamp: '2025-03-02T09:15:00.120+01:00' });
    await accept(hub, body);
    const [frame] = notifications(viewer.channel);
    expect(frame.timestamp).toBe('2025-03-02T09:15:00.120+01:00');
    expect(frame.event.context).toEqual(context);
  });

  it('HUB-CHANGE-08 a body whose id is not a non-empty string gets 400', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['*']);
    for (const id of [undefined, '', 42, null, { value: 'x' }]) {
      const body: Record<string, unknown> = request(topic, 'Patient-open', patientContext());
      if (id === undefined) delete body.id;
      else body.id = id;
      await refuse(hub, body, 400);
    }
    expect(viewer.channel.events).toHaveLength(0);
  });

  it('HUB-CHANGE-08 a body whose event is not an object, lacks hub.event, or whose context is not an array gets 400', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['*']);
    await refuse(hub, { timestamp: '2026-01-01T08:00:00Z', id: 'rq-a' }, 400);
    await refuse(hub, { timestamp: '2026-01-01T08:00:00Z', id: 'rq-b', event: 'Patient-open' }, 400);
    await refuse(hub, { timestamp: '2026-01-01T08:00:00Z', id: 'rq-c', event: [] }, 400);
    await refuse(hub, { timestamp: '2026-01-01T08:00:00Z', id: 'rq-d', event: { 'hub.topic': topic, context: patientContext() } }, 400);
    await refuse(hub, request(topic, 'Patient-open', { key: 'patient', resource: patient() }), 400);
    await refuse(hub, request(topic, 'Patient-open', 'patient'), 400);
    await refuse(hub, { timestamp: '2026-01-01T08:00:00Z', id: 'rq-e', event: { 'hub.topic': topic, 'hub.event': 'Patient-open' } }, 400);
    await refuse(hub, [request(topic, 'Patient-open', patientContext())], 400);
    await refuse(hub, 'not an object', 400);
    expect(viewer.channel.events).toHaveLength(0);
  });

  it('HUB-CHANGE-08 a timestamp that is present but not ISO 8601 gets 400', async () => {
    const { hub, topic } = await world();
    for (const timestamp of ['yesterday', '03/02/2025 09:15', '1740906900', '2025-13-02T09:15:00Z', '2025-02-30T09:15:00Z', '2025-03-02T25:15:00Z', '']) {
      const error = await refuse(hub, request(topic, 'Patient-open', patientContext(), { timestamp }), 400);
      expect(issueOf(error).diagnostics).toMatch(/timestamp/);
    }
    await refuse(hub, { ...request(topic, 'Patient-open', patientContext()), timestamp: 1740906900 }, 400);
    expect(hub.getContext(topic)).toEqual({ 'context.type': '', context: [] });
  });

  it('HUB-CHANGE-08 a missing timestamp is set to the time of receipt', async () => {
    const { hub, topic, clock, tick } = await world();
    const viewer = join(hub, topic, ['Patient-open']);
    tick(90_000);
    await accept(hub, request(topic, 'Patient-open', patientContext(), { timestamp: null }));
    const [frame] = notifications(viewer.channel);
    expect(Date.parse(frame.timestamp)).toBe(clock.now());
  });

  it('HUB-CHANGE-09 a catalog event missing a required context key gets 400', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['*']);
    const cases: Array<[string, unknown[]]> = [
      ['Patient-open', []],
      ['Patient-close', []],
      ['Encounter-open', [res('encounter', encounter())]],
      ['Encounter-open', [res('patient', patient())]],
      ['ImagingStudy-open', [res('patient', patient())]],
      ['DiagnosticReport-open', [res('patient', patient())]],
      ['DiagnosticReport-open', [res('report', diagnosticReport())]],
      ['DiagnosticReport-update', [ref('report', 'DiagnosticReport/dr-1')]],
      ['DiagnosticReport-select', [ref('patient', 'Patient/pt-7')]],
      ['SyncError', []],
    ];
    for (const [name, context] of cases) await refuse(hub, request(topic, name, context), 400);
    expect(viewer.channel.events).toHaveLength(0);
  });

  it('HUB-CHANGE-09 a key repeated beyond its cardinality gets 400', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['*']);
    const p1 = patient('pt-1', 'MRN-1');
    const p2 = patient('pt-2', 'MRN-2');
    const cases: Array<[string, unknown[]]> = [
      ['Patient-open', [res('patient', p1), res('patient', p2)]],
      ['Encounter-open', [res('encounter', encounter('e1', 'pt-1')), res('encounter', encounter('e2', 'pt-1')), res('patient', p1)]],
      ['ImagingStudy-open', [res('study', imagingStudy('st-1')), res('study', imagingStudy('st-2'))]],
      ['DiagnosticReport-open', [res('report', diagnosticReport('dr-1')), res('report', diagnosticReport('dr-2')), res('patient', p1)]],
      ['userLogout', [res('parameters', parametersResource()), res('parameters', parametersResource('system-timeout'))]],
    ];
    for (const [name, context] of cases) await refuse(hub, request(topic, name, context), 400);
    expect(viewer.channel.events).toHaveLength(0);
  });

  it('HUB-CHANGE-10 a catalog key holding a resource of the wrong type gets 400', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    const versionId = hub.getContext(topic)['context.versionId'];
    const viewer = join(hub, topic, ['*']);
    viewer.channel.clear();
    const obs = { resourceType: 'Observation', id: 'obs-1', status: 'final', code: { text: 'x' } };
    const cases: Array<[string, unknown[], Record<string, unknown>?]> = [
      ['Patient-open', [res('patient', encounter())]],
      ['Encounter-open', [res('encounter', patient('enc-1')), res('patient', patient())]],
      ['Encounter-open', [res('encounter', encounter()), res('patient', encounter('pt-7'))]],
      ['ImagingStudy-open', [res('study', diagnosticReport('st-1'))]],
      ['DiagnosticReport-open', [res('report', imagingStudy('dr-9')), res('patient', patient())]],
      ['DiagnosticReport-open', [res('report', diagnosticReport('dr-9')), res('patient', patient()), res('study', obs)]],
      ['DiagnosticReport-update', [ref('report', 'DiagnosticReport/dr-1'), res('updates', { resourceType: 'Parameters', id: 'b-1' })], { 'context.versionId': versionId }],
      ['DiagnosticReport-update', [ref('report', 'Patient/pt-7'), res('updates', updateBundle('b-2', []))], { 'context.versionId': versionId }],
      ['SyncError', [res('operationoutcome', parametersResource())]],
      ['userLogout', [res('parameters', outcomeResource())]],
      ['userHibernate', [res('parameters', patient())]],
    ];
    for (const [name, context, event] of cases) await refuse(hub, request(topic, name, context, { event }), 400);
    expect(viewer.channel.events).toHaveLength(0);
    expect(hub.getContext(topic)['context.versionId']).toBe(versionId);
  });

  it('HUB-CHANGE-10 a context entry without a string key, or an open/close whose anchor has no id, gets 400', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['*']);
    const { id: _omit, ...anonymousPatient } = patient();
    const { id: _omit2, ...anonymousStudy } = imagingStudy();
    const { id: _omit3, ...anonymousReport } = diagnosticReport();
    const { id: _omit4, ...anonymousEncounter } = encounter();
    const cases: Array<[string, unknown[]]> = [
      ['Patient-open', [{ resource: patient() }]],
      ['Patient-open', [res('patient', patient()), { key: 7, resource: encounter() }]],
      ['Patient-open', [res('patient', patient()), 'extension']],
      ['Patient-open', [res('patient', { ...anonymousPatient, resourceType: 'Patient' })]],
      ['Patient-close', [res('patient', { ...anonymousPatient, resourceType: 'Patient' })]],
      ['Patient-open', [res('patient', { ...patient(), id: '' })]],
      ['Encounter-open', [res('encounter', { ...anonymousEncounter, resourceType: 'Encounter' }), res('patient', patient())]],
      ['ImagingStudy-open', [res('study', { ...anonymousStudy, resourceType: 'ImagingStudy' })]],
      ['ImagingStudy-close', [res('study', { ...anonymousStudy, resourceType: 'ImagingStudy' })]],
      ['DiagnosticReport-open', [res('report', { ...anonymousReport, resourceType: 'DiagnosticReport' }), res('patient', patient())]],
    ];
    for (const [name, context] of cases) await refuse(hub, request(topic, name, context), 400);
    expect(viewer.channel.events).toHaveLength(0);
  });

  it('HUB-CHANGE-11 catalog names, legacy names, <FHIR type>-open/close/update/select and dash-free reverse-domain names are accepted', async () => {
    const { hub, topic } = await world();
    const all = join(hub, topic, ['*']);
    const accepted: Array<[string, unknown[]]> = [
      ['Patient-open', patientContext()],
      ['open-imaging-study', studyContext()],
      ['switch-imaging-study', studyContext()],
      ['close-imaging-study', studyContext()],
      ['Observation-open', [res('observation', { resourceType: 'Observation', id: 'obs-5', status: 'final', code: { text: 'BP' } })]],
      ['Observation-close', [res('observation', { resourceType: 'Observation', id: 'obs-5', status: 'final', code: { text: 'BP' } })]],
      ['ServiceRequest-open', [res('servicerequest', { resourceType: 'ServiceRequest', id: 'sr-1', status: 'active', intent: 'order', subject: { reference: 'Patient/pt-7' } })]],
      ['ServiceRequest-select', [ref('servicerequest', 'ServiceRequest/sr-1'), ref('select', 'Observation/obs-1')]],
      ['org.example.patient_transmogrify', [{ key: 'whatever', valueString: 'relayed without checks' }]],
      ['com.acme.dictation.start', []],
    ];
    for (const [name, context] of accepted) await accept(hub, request(topic, name, context));
    expect(notifications(all.channel)).toHaveLength(accepted.length);
    expect(notifications(all.channel)[8].event.context).toEqual([{ key: 'whatever', valueString: 'relayed without checks' }]);
  });

  it('HUB-CHANGE-11 any other event name gets 400 naming it', async () => {
    const { hub, topic } = await world();
    const all = join(hub, topic, ['*']);
    for (const name of ['Patient-opened', 'Foo-open', 'Patient-switch', 'heartbeat', 'open-patient-chart', 'patient_open', 'com.example.researchstudy-transmogrify', 'Patient open', 'constructor', '__proto__', 'hasOwnProperty']) {
      const error = await refuse(hub, request(topic, name, patientContext()), 400);
      expect(issueOf(error).diagnostics).toContain(name);
    }
    expect(all.channel.events).toHaveLength(0);
  });

  it('HUB-CHANGE-12 context keys the catalog does not define for an event are accepted and relayed unchanged', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open', 'ImagingStudy-open']);
    const extra = [
      { key: 'extension', extension: { 'org.example.workstation': 'RR-B-03' } },
      { key: 'practitioner', reference: { reference: 'Practitioner/dr-house' } },
      { key: 'org.example.hanging', string: '2x2' },
    ];
    const context = [...patientContext(), ...extra];
    await accept(hub, request(topic, 'Patient-open', structuredClone(context)));
    const studyCtx = [...studyContext(imagingStudy(), patient()), extra[1]!];
    await accept(hub, request(topic, 'ImagingStudy-open', structuredClone(studyCtx)));
    const frames = notifications(viewer.channel);
    expect(frames[0].event.context).toEqual(context);
    expect(frames[1].event.context).toEqual(studyCtx);
  });

  it('HUB-CHANGE-13 every rejection is an OperationOutcome with severity error, an issue code and diagnostics naming the event and the field', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    const versionId = hub.getContext(topic)['context.versionId']!;
    const other = hub.createTopic();
    const cases: Array<{ body: unknown; status: number; event: string; field: string | RegExp; pathTopic?: string }> = [
      { body: request(topic, 'Patient-open', []), status: 400, event: 'Patient-open', field: 'patient' },
      { body: request(topic, 'Encounter-open', [res('encounter', encounter()), res('patient', encounter('pt-7'))]), status: 400, event: 'Encounter-open', field: 'patient' },
      { body: request(topic, 'Patient-opened', patientContext()), status: 400, event: 'Patient-opened', field: /hub\.event/ },
      { body: { ...request(topic, 'Patient-open', patientContext()), id: '' }, status: 400, event: 'Patient-open', field: /\bid\b/ },
      { body: request(topic, 'Patient-open', patientContext(), { timestamp: 'yesterday' }), status: 400, event: 'Patient-open', field: 'timestamp' },
      { body: request(topic, 'Patient-open', 'patient'), status: 400, event: 'Patient-open', field: 'context' },
      { body: request(other, 'Patient-open', patientContext()), status: 400, event: 'Patient-open', field: 'hub.topic', pathTopic: topic },
      { body: request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b-1', [put(patient())]))), status: 400, event: 'DiagnosticReport-update', field: 'versionId' },
      { body: request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b-1', [put(patient())])), { event: { 'context.versionId': 'v-old' } }), status: 409, event: 'DiagnosticReport-update', field: 'versionId' },
      { body: request(topic, 'DiagnosticReport-update', updateContext('dr-404', updateBundle('b-1', [put(patient())])), { event: { 'context.versionId': versionId } }), status: 404, event: 'DiagnosticReport-update', field: 'dr-404' },
      { body: request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b-1', [{ request: { method: 'POST', url: 'Observation' }, resource: { resourceType: 'Observation' } }])), { event: { 'context.versionId': versionId } }), status: 400, event: 'DiagnosticReport-update', field: 'method' },
      { body: request(topic, 'Home-open', patientContext()), status: 400, event: 'Home-open', field: 'context' },
    ];
    for (const c of cases) {
      const error = await refuse(hub, c.body, c.status, c.pathTopic ? { pathTopic: c.pathTopic } : {});
      const issue = issueOf(error);
      expect(issue.severity).toBe('error');
      expect(typeof issue.code).toBe('string');
      expect(issue.code!.length).toBeGreaterThan(0);
      expect(issue.diagnostics, JSON.stringify(c.body)).toContain(c.event);
      if (typeof c.field === 'string') expect(issue.diagnostics).toContain(c.field);
      else expect(issue.diagnostics).toMatch(c.field);
    }
  });

  it('HUB-CHANGE-14 a rejected request changes nothing: no notification goes out and get-context answers as before', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['*']);
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    const versionId = hub.getContext(topic)['context.versionId']!;
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b-1', [put({ resourceType: 'Observation', id: 'obs-1', status: 'preliminary', code: { text: 'nodule' } })])), { event: { 'context.versionId': versionId } }));
    const before = hub.getContext(topic);
    const frames = viewer.channel.events.length;
    const current = before['context.versionId']!;
    const rejected: unknown[] = [
      request(topic, 'Patient-open', []),
      request(topic, 'Patient-open', [res('patient', patient('pt-2')), res('patient', patient('pt-3'))]),
      request(topic, 'DiagnosticReport-close', [res('report', diagnosticReport())]),
      request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b-2', [put({ resourceType: 'Observation', id: 'obs-2', status: 'final', code: { text: 'x' } })])), { event: { 'context.versionId': versionId } }),
      request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b-3', [put({ resourceType: 'Observation', id: 'obs-3', status: 'final', code: { text: 'x' } }), { request: { method: 'PATCH', url: 'Observation/obs-1' } }])), { event: { 'context.versionId': current } }),
      request(topic, 'userLogout', []),
      request(topic, 'Home-open', [res('patient', patient())]),
      request(topic, 'Encounter-open', [res('encounter', encounter())], { timestamp: 'not-a-time' }),
    ];
    for (const body of rejected) {
      await expect(hub.publish(body)).rejects.toMatchObject({ status: expect.any(Number) });
    }
    expect(viewer.channel.events).toHaveLength(frames);
    expect(hub.getContext(topic)).toEqual(before);
  });

  it('HUB-CHANGE-15 the change is applied before publish answers, and get-context issued right after reflects it', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open']);
    const pending = hub.publish(request(topic, 'Patient-open', patientContext()));
    expect(hub.getContext(topic)['context.type']).toBe('Patient');
    expect(notifications(viewer.channel)).toHaveLength(1);
    await expect(pending).resolves.toMatchObject({ status: 202 });
    expect(hub.getContext(topic)['context.type']).toBe('Patient');
  });

  it('HUB-CHANGE-15 rejections are synchronous 4xx answers: nothing is broadcast and no SyncError follows later', async () => {
    const { hub, topic, run } = await world();
    const requester = join(hub, topic, ['*'], { subscriberName: 'Worklist' });
    const watcher = join(hub, topic, ['SyncError']);
    const error = await refuse(hub, request(topic, 'ImagingStudy-open', []), 400);
    expect(error.status).toBeGreaterThanOrEqual(400);
    expect(error.status).toBeLessThan(500);
    run(30_000);
    expect(requester.channel.events).toHaveLength(0);
    expect(syncErrors(watcher.channel)).toHaveLength(0);
  });

  it('HUB-CHANGE-15 the 202 waits for the change to be applied and stored', async () => {
    const storage = memoryStorage();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated = { loadAll: () => storage.loadAll(), writeBatch: async (changes: ReadonlyMap<string, unknown>) => { await gate; await storage.writeBatch(changes); } };
    const { hub, topic } = await world({ storage: gated });
    let answered = false;
    const pending = hub.publish(request(topic, 'Patient-open', patientContext())).then((r) => {
      answered = true;
      return r;
    });
    await settle();
    expect(answered).toBe(false);
    release();
    await expect(pending).resolves.toMatchObject({ status: 202 });
  });

  it('HUB-CHANGE-16 a resent request (same id) is accepted and broadcast again, in arrival order', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open']);
    const first = request(topic, 'Patient-open', patientContext(patient('pt-1', 'MRN-1')), { id: 'rq-resend', timestamp: '2026-01-01T08:00:00Z' });
    await accept(hub, first);
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-2', 'MRN-2')), { id: 'rq-other', timestamp: '2026-01-01T08:01:00Z' }));
    await accept(hub, structuredClone(first));
    expect(notifications(viewer.channel).map((f) => f.id)).toEqual(['rq-resend', 'rq-other', 'rq-resend']);
    expect(hub.getContext(topic).context[0]!.resource!.id).toBe('pt-1');
  });

  it('HUB-CHANGE-16 a request older than the current context is accepted and applied in arrival order', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open']);
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-new', 'MRN-N')), { timestamp: '2026-01-01T10:00:00Z' }));
    const older = await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-old', 'MRN-O')), { timestamp: '2026-01-01T09:00:00Z' }));
    expect(notifications(viewer.channel).map((f) => f.id)[1]).toBe(older);
    expect(hub.getContext(topic).context[0]!.resource!.id).toBe('pt-old');
    expect(names(viewer.channel)).toEqual(['Patient-open', 'Patient-open']);
  });
});
