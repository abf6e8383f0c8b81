import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import type { HubStorage } from '../../../src/hub/index.js';
import { makeHub, RecordingChannel } from '../support/harness.js';
import {
  accept,
  diagnosticReport,
  join,
  notifications,
  observation,
  patient,
  patientContext,
  put,
  refuse,
  reportContext,
  request,
  settle,
  throws,
  updateBundle,
  updateContext,
} from './support.js';

const SECRET = 'app-wide-secret-7f3d';
const USERS = { secret: SECRET, groups: [['gkustas61', 'georgek'], ['joe', 'joe2']] };

/** Builds a first engine with state worth keeping, then a second one on the same storage. */
async function restart() {
  const storage = memoryStorage();
  const first = (await makeHub({ storage })).hub;
  await first.configureUsers(USERS);
  const created = first.createTopic();
  const pacs = await first.getTopic('gkustas61', SECRET);
  const viewer = join(first, pacs, ['Patient-open']);
  await accept(first, request(pacs, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
  await accept(first, request(pacs, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('ub-1', [put(observation('obs-1', 'nodule', 8))])), { event: { 'context.versionId': first.getContext(pacs)['context.versionId'] } }));
  const dr1Version = first.getContext(pacs)['context.versionId']!;
  await accept(first, request(pacs, 'Patient-open', patientContext(patient('pt-2', 'MRN-2'))));
  await first.flush();
  const before = { context: first.getContext(pacs), inspect: first.inspect() };
  const second = (await makeHub({ storage })).hub;
  return { storage, first, second, created, pacs, viewer, dr1Version, before };
}

describe('HUB-PERSIST: state across restarts', () => {
  it('HUB-PERSIST-01 (engine part) topics handed out by GetTopic survive a restart on the same storage', async () => {
    const { second, pacs } = await restart();
    await second.configureUsers(USERS);
    expect(await second.getTopic('gkustas61', SECRET)).toBe(pacs);
    expect(await second.getTopic('georgek', SECRET)).toBe(pacs);
    expect(await second.getTopic('joe', SECRET)).not.toBe(pacs);
  });

  it('HUB-PERSIST-02 (engine part) open contexts survive, current and non-current: same get-context, versionId included, and a non-current close still works', async () => {
    const { second, pacs, before } = await restart();
    expect(second.getContext(pacs)).toEqual(before.context);
    await accept(second, request(pacs, 'DiagnosticReport-close', reportContext(diagnosticReport('dr-1'))));
    expect(second.getContext(pacs)).toEqual(before.context);
    expect(second.inspect().topics.find((t) => t.topic === pacs)!.open.map((o) => `${o.type}/${o.id}`)).toEqual(['Patient/pt-2']);
  });

  it('HUB-PERSIST-03 (engine part) content survives: an update with the versionId from before the restart is accepted and the content is intact', async () => {
    const { second, pacs, dr1Version } = await restart();
    await accept(second, request(pacs, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('ub-2', [put(observation('obs-2', 'effusion', 3))])), { event: { 'context.versionId': dr1Version } }));
    await accept(second, request(pacs, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'))));
    const content = second.getContext(pacs).context.find((e) => e.key === 'content')!.resource as unknown as { entry: Array<{ resource: unknown }> };
    expect(content.entry.map((e) => e.resource)).toEqual([observation('obs-1', 'nodule', 8), observation('obs-2', 'effusion', 3)]);
  });

  it('HUB-PERSIST-04 (engine part) subscriptions do not survive; a client that re-subscribes gets its catch-up from the persisted state', async () => {
    const { second, pacs, viewer } = await restart();
    expect(second.hasEndpoint(viewer.endpoint)).toBe(false);
    throws(() => second.connect(viewer.endpoint, new RecordingChannel()), 404);
    const again = join(second, pacs, ['Patient-open', 'DiagnosticReport-open']);
    expect(notifications(again.channel).map((f) => `${f.event['hub.event']} ${f.event.context[0].resource.id}`)).toEqual(['DiagnosticReport-open dr-1', 'Patient-open pt-2']);
  });

  it('HUB-PERSIST-05 (engine part) a change is durable before its 202: publish resolves only after storage has it', async () => {
    const inner = memoryStorage();
    const releases: Array<() => void> = [];
    const gated: HubStorage = {
      loadAll: () => inner.loadAll(),
      writeBatch: (changes) => new Promise<void>((resolve, reject) => releases.push(() => inner.writeBatch(changes).then(resolve, reject))),
    };
    const { hub } = await makeHub({ storage: gated });
    const topic = hub.createTopic();
    await settle();
    while (releases.length) releases.shift()!();
    await settle();
    let answered = false;
    const pending = hub.publish(request(topic, 'Patient-open', patientContext(patient('pt-9', 'MRN-9')))).then(() => (answered = true));
    await settle();
    expect(answered).toBe(false);
    expect(JSON.stringify([...inner.data])).not.toContain('pt-9');
    while (releases.length) releases.shift()!();
    await pending;
    expect(JSON.stringify([...inner.data])).toContain('pt-9');
    const restarted = (await makeHub({ storage: inner })).hub;
    expect(restarted.getContext(topic).context[0]!.resource!.id).toBe('pt-9');
  });

  it('HUB-PERSIST-07 a new engine on the same storage restores topics, groups, open contexts and content', async () => {
    const { second, created, pacs, before } = await restart();
    expect(second.topicIds()).toEqual(expect.arrayContaining([created, pacs]));
    expect(second.usersConfigured).toBe(true);
    expect(await second.verifySecret(SECRET)).toBe(true);
    expect(await second.getTopic('georgek', SECRET)).toBe(pacs);
    expect(second.getContext(pacs)).toEqual(before.context);
    const restored = second.inspect().topics.find((t) => t.topic === pacs)!.open;
    expect(restored).toEqual(before.inspect.topics.find((t) => t.topic === pacs)!.open);
    expect(restored.find((o) => o.id === 'dr-1')!.contentCount).toBe(1);
    await refuse(second, request(pacs, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('ub-3', [])), { event: { 'context.versionId': 'stale' } }), 409);
  });
});
