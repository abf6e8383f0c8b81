import { describe, expect, it } from 'vitest';
import type { Hub } from '../../../src/hub/index.js';
import {
  accept,
  ackAll,
  denials,
  diagnosticReport,
  imagingStudy,
  join,
  names,
  notifications,
  observation,
  outcomeResource,
  parametersResource,
  patient,
  patientContext,
  put,
  refuse,
  reportContext,
  request,
  res,
  studyContext,
  updateBundle,
  updateContext,
  world,
} from './support.js';

const EMPTY = { 'context.type': '', context: [] };
const openCount = (hub: Hub, topic: string) => hub.inspect().topics.find((t) => t.topic === topic)?.open.length ?? 0;

describe('HUB-INFRA: userLogout, userHibernate, Home-open', () => {
  it('HUB-INFRA-01 userLogout and userHibernate need exactly one parameters entry holding a Parameters resource, else 400', async () => {
    const { hub, topic } = await world();
    const all = join(hub, topic, ['*']);
    for (const name of ['userLogout', 'userHibernate']) {
      await refuse(hub, request(topic, name, []), 400);
      await refuse(hub, request(topic, name, [res('parameters', parametersResource()), res('parameters', parametersResource('system-timeout'))]), 400);
      await refuse(hub, request(topic, name, [res('parameters', outcomeResource())]), 400);
      await refuse(hub, request(topic, name, [{ key: 'parameters', reference: { reference: 'Parameters/p-1' } }]), 400);
      await refuse(hub, request(topic, name, [res('operationoutcome', parametersResource())]), 400);
    }
    expect(all.channel.events).toHaveLength(0);
    await accept(hub, request(topic, 'userLogout', [res('parameters', parametersResource('system-timeout'))]));
    await accept(hub, request(topic, 'userHibernate', [res('parameters', { ...parametersResource('system-initiated'), parameter: [...(parametersResource('system-initiated').parameter as unknown[]), { name: 'hub', valueBoolean: true }] })]));
    expect(names(all.channel)).toEqual(['userLogout', 'userHibernate']);
  });

  it('HUB-INFRA-02 an accepted userLogout is broadcast, then every open context and its content is dropped; subscriptions stay', async () => {
    const { hub, topic } = await world();
    const all = join(hub, topic, ['*']);
    const viewer = join(hub, topic, ['userLogout', 'Patient-open']);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-1', 'ACC-1'), patient())));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
    const v = hub.getContext(topic)['context.versionId'];
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('ub-1', [put(observation('obs-1'))])), { event: { 'context.versionId': v } }));
    ackAll(all);
    ackAll(viewer);
    const logout = await accept(hub, request(topic, 'userLogout', [res('parameters', parametersResource('user-initiated'))]));
    expect(notifications(all.channel).at(-1)!.id).toBe(logout);
    expect(notifications(viewer.channel).at(-1)!.id).toBe(logout);
    expect(hub.getContext(topic)).toStrictEqual(EMPTY);
    expect(openCount(hub, topic)).toBe(0);
    const late = join(hub, topic, ['*']);
    expect(late.channel.frames).toHaveLength(1);
    await refuse(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('ub-2', [put(observation('obs-2'))])), { event: { 'context.versionId': hub.getContext(topic)['context.versionId'] ?? v } }), 404);
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
    const content = hub.getContext(topic).context.find((e) => e.key === 'content')!.resource as unknown as { entry?: unknown[] };
    expect(content.entry ?? []).toHaveLength(0);
    expect(hub.getContext(topic)['context.versionId']).not.toBe(v);
    for (const sub of [all, viewer]) {
      expect(denials(sub.channel)).toHaveLength(0);
      expect(hub.hasEndpoint(sub.endpoint)).toBe(true);
    }
    expect(names(all.channel).at(-1)).toBe('DiagnosticReport-open');
  });

  it('HUB-INFRA-03 an accepted userHibernate is broadcast and changes no context or content', async () => {
    const { hub, topic } = await world();
    const all = join(hub, topic, ['*']);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    const v = hub.getContext(topic)['context.versionId'];
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('ub-1', [put(observation('obs-1'))])), { event: { 'context.versionId': v } }));
    const before = hub.getContext(topic);
    const opened = openCount(hub, topic);
    const id = await accept(hub, request(topic, 'userHibernate', [res('parameters', parametersResource('system-timeout'))]));
    expect(notifications(all.channel).at(-1)!.id).toBe(id);
    expect(notifications(all.channel).at(-1)!.event['hub.event']).toBe('userHibernate');
    expect(hub.getContext(topic)).toEqual(before);
    expect(openCount(hub, topic)).toBe(opened);
  });

  it('HUB-INFRA-04 a Home-open whose context is not empty gets 400', async () => {
    const { hub, topic } = await world();
    const all = join(hub, topic, ['*']);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    const before = hub.getContext(topic);
    await refuse(hub, request(topic, 'Home-open', patientContext()), 400);
    await refuse(hub, request(topic, 'Home-open', [{ key: 'extension', extension: { tab: 'home' } }]), 400);
    expect(hub.getContext(topic)).toEqual(before);
    expect(names(all.channel)).toEqual(['Patient-open']);
  });

  it('HUB-INFRA-05 after Home-open get-context is empty while other contexts stay open, and a later open becomes current', async () => {
    const { hub, topic } = await world();
    const all = join(hub, topic, ['*']);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    const v = hub.getContext(topic)['context.versionId'];
    const home = await accept(hub, request(topic, 'Home-open', []));
    expect(notifications(all.channel).at(-1)!.id).toBe(home);
    expect(hub.getContext(topic)).toStrictEqual(EMPTY);
    expect(openCount(hub, topic)).toBe(2);
    // the report is still open: an update against its version is accepted
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('ub-1', [put(observation('obs-1'))])), { event: { 'context.versionId': v } }));
    expect(hub.getContext(topic)).toStrictEqual(EMPTY);
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext()));
    expect(hub.getContext(topic)['context.type']).toBe('ImagingStudy');
  });
});
