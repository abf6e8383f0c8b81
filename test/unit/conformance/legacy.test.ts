import { describe, expect, it } from 'vitest';
import {
  accept,
  answer,
  confirmations,
  diagnosticReport,
  imagingStudy,
  join,
  names,
  notifications,
  parametersResource,
  patient,
  patientContext,
  refuse,
  reportContext,
  request,
  res,
  studyContext,
  syncCodings,
  syncErrors,
  world,
} from './support.js';

describe('HUB-LEGACY: 2019 event names', () => {
  it('HUB-LEGACY-01 the four legacy names are aliases in hub.events, matched case-insensitively', async () => {
    const { hub, topic } = await world();
    const open = join(hub, topic, ['Open-Imaging-Study']);
    const swtch = join(hub, topic, ['SWITCH-imaging-study']);
    const close = join(hub, topic, ['close-IMAGING-study']);
    const logout = join(hub, topic, ['User-Logout']);
    for (const sub of [open, swtch, close, logout]) expect(confirmations(sub.channel)).toHaveLength(1);
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext()));
    await accept(hub, request(topic, 'ImagingStudy-close', studyContext()));
    await accept(hub, request(topic, 'userLogout', [res('parameters', parametersResource())]));
    expect(notifications(open.channel)).toHaveLength(1);
    expect(notifications(swtch.channel)).toHaveLength(1);
    expect(notifications(close.channel)).toHaveLength(1);
    expect(notifications(logout.channel)).toHaveLength(1);
    expect(notifications(open.channel)[0].event.context[0].resource.id).toBe('st-1');
  });

  it('HUB-LEGACY-02 a request with a legacy hub.event is validated, applied and broadcast as its STU3 event', async () => {
    const { hub, topic } = await world();
    const stu3 = join(hub, topic, ['ImagingStudy-open', 'ImagingStudy-close']);
    await refuse(hub, request(topic, 'open-imaging-study', [res('patient', patient())]), 400);
    await refuse(hub, request(topic, 'switch-imaging-study', [res('study', diagnosticReport('st-1'))]), 400);
    const id = await accept(hub, request(topic, 'open-imaging-study', studyContext(imagingStudy('st-1', 'ACC-1'), patient())));
    expect(hub.getContext(topic)['context.type']).toBe('ImagingStudy');
    expect(notifications(stu3.channel).map((f) => [f.id, f.event['hub.event']])).toEqual([[id, 'ImagingStudy-open']]);
    await accept(hub, request(topic, 'SWITCH-IMAGING-STUDY', studyContext(imagingStudy('st-2', 'ACC-2'), patient())));
    expect(hub.getContext(topic).context[0]!.resource!.id).toBe('st-2');
    await accept(hub, request(topic, 'close-imaging-study', studyContext(imagingStudy('st-2', 'ACC-2'), patient())));
    expect(hub.getContext(topic)).toStrictEqual({ 'context.type': '', context: [] });
    expect(names(stu3.channel)).toEqual(['ImagingStudy-open', 'ImagingStudy-open', 'ImagingStudy-close']);
  });

  it('HUB-LEGACY-03 subscribers of the STU3 name or a wildcard get the STU3 name; legacy-only subscribers get a legacy name, each event once', async () => {
    const { hub, topic } = await world();
    const stu3 = join(hub, topic, ['ImagingStudy-open', 'open-imaging-study']);
    const star = join(hub, topic, ['switch-imaging-study', '*']);
    const resource = join(hub, topic, ['switch-imaging-study', 'ImagingStudy-*']);
    const openOnly = join(hub, topic, ['open-imaging-study']);
    const switchOnly = join(hub, topic, ['switch-imaging-study']);
    const bothLegacy = join(hub, topic, ['switch-imaging-study', 'open-imaging-study']);
    const bothReversed = join(hub, topic, ['OPEN-imaging-study', 'switch-imaging-study']);
    const closeLegacy = join(hub, topic, ['close-imaging-study', 'user-logout']);
    await accept(hub, request(topic, 'open-imaging-study', studyContext(imagingStudy('st-1', 'ACC-1'))));
    await accept(hub, request(topic, 'ImagingStudy-close', studyContext(imagingStudy('st-1', 'ACC-1'))));
    await accept(hub, request(topic, 'userLogout', [res('parameters', parametersResource())]));
    expect(names(stu3.channel)).toEqual(['ImagingStudy-open']);
    expect(names(star.channel)).toEqual(['ImagingStudy-open', 'ImagingStudy-close', 'userLogout']);
    expect(names(resource.channel)).toEqual(['ImagingStudy-open', 'ImagingStudy-close']);
    expect(names(openOnly.channel)).toEqual(['open-imaging-study']);
    expect(names(switchOnly.channel)).toEqual(['switch-imaging-study']);
    expect(names(bothLegacy.channel)).toEqual(['open-imaging-study']);
    expect(names(bothReversed.channel)).toEqual(['open-imaging-study']);
    expect(names(closeLegacy.channel)).toEqual(['close-imaging-study', 'user-logout']);
  });

  it('HUB-LEGACY-03 legacy-only subscribers also get derived and catch-up ImagingStudy-opens under the legacy name', async () => {
    const { hub, topic } = await world();
    const live = join(hub, topic, ['switch-imaging-study']);
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1', 'pt-7', 'preliminary', ['st-1']), patient(), [imagingStudy('st-1', 'ACC-1')])));
    expect(names(live.channel)).toEqual(['switch-imaging-study']);
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-2', 'ACC-2'))));
    const late = join(hub, topic, ['open-imaging-study']);
    expect(names(late.channel)).toEqual(['open-imaging-study']);
    expect(notifications(late.channel)[0].event.context[0].resource.id).toBe('st-2');
  });

  it('HUB-LEGACY-03 HUB-SYNC-04 a SyncError about a legacy delivery names the event as it was sent', async () => {
    const { hub, topic } = await world();
    const legacy = join(hub, topic, ['open-imaging-study'], { subscriberName: 'Legacy PACS' });
    const watcher = join(hub, topic, ['SyncError']);
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext()));
    answer(legacy, { id: notifications(legacy.channel)[0].id, status: 409 });
    expect(syncCodings(syncErrors(watcher.channel)[0]).eventname).toBe('open-imaging-study');
  });

  it('HUB-LEGACY-04 a user-logout request with an empty context is accepted and processed as userLogout', async () => {
    const { hub, topic } = await world();
    const stu3 = join(hub, topic, ['userLogout']);
    const legacy = join(hub, topic, ['user-logout']);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext()));
    const id = await accept(hub, request(topic, 'user-logout', []));
    expect(notifications(stu3.channel).map((f) => [f.id, f.event['hub.event']])).toEqual([[id, 'userLogout']]);
    expect(notifications(legacy.channel).map((f) => [f.id, f.event['hub.event']])).toEqual([[id, 'user-logout']]);
    expect(hub.getContext(topic)).toStrictEqual({ 'context.type': '', context: [] });
    expect(hub.inspect().topics.find((t) => t.topic === topic)!.open).toHaveLength(0);
    await refuse(hub, request(topic, 'userLogout', []), 400);
  });
});
