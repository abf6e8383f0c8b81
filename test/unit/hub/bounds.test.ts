/** HUB-BOUND-01..07 on the engine (src/hub/bounds.ts and the state it bounds), with a fake clock. */
import { describe, expect, it, vi } from 'vitest';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import { DEFAULT_BOUNDS, type HubStorage } from '../../../src/hub/index.js';
import { contentKey, contextKey, topicKey } from '../../../src/hub/records.js';
import { TopicState } from '../../../src/hub/topic-state.js';
import {
  accept,
  diagnosticReport,
  issueOf,
  join,
  notifications,
  observation,
  patient,
  patientContext,
  put,
  refuse,
  reportContext,
  request,
  throws,
  updateBundle,
  updateContext,
} from '../conformance/support.js';
import { makeHub } from '../support/harness.js';

/** A memory storage that records the keys of every batch. */
function recordingStorage() {
  const inner = memoryStorage();
  const batches: string[][] = [];
  const storage: HubStorage = { loadAll: () => inner.loadAll(), writeBatch: (changes) => (batches.push([...changes.keys()].sort()), inner.writeBatch(changes)) };
  return { inner, batches, storage };
}

const study = (id: string, patientId = 'p-1') => [
  { key: 'study', resource: { resourceType: 'ImagingStudy', id, status: 'available', subject: { reference: `Patient/${patientId}` } } },
  { key: 'patient', resource: { resourceType: 'Patient', id: patientId } },
];

describe('HUB-BOUND: state at any size (engine)', () => {
  it('HUB-BOUND-01 HUB-BOUND-02 the cost of a change does not grow with the open contexts: no change walks them, and each writes the same few records at 10 and at 2,000 open', async () => {
    const { batches, storage } = recordingStorage();
    const { hub } = await makeHub({ storage, bounds: { maxOpenContexts: 5000 } });
    const topic = hub.createTopic();
    const walk = vi.spyOn(TopicState.prototype, 'openContexts');
    const measure = async (n: number) => {
      await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport(`dr-${n}`, 'p-1'), patient('p-1'))));
      await hub.flush();
      batches.length = 0;
      walk.mockClear();
      await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport(`dr-new-${n}`, 'p-1'), patient('p-1'))));
      const v = hub.getContext(topic)['context.versionId'];
      await accept(hub, request(topic, 'DiagnosticReport-update', updateContext(`dr-new-${n}`, updateBundle(`b-${n}`, [put(observation(`obs-${n}`))])), { event: { 'context.versionId': v } }));
      await accept(hub, request(topic, 'DiagnosticReport-select', [{ key: 'report', reference: { reference: `DiagnosticReport/dr-${n}` } }]));
      await accept(hub, request(topic, 'DiagnosticReport-close', reportContext(diagnosticReport(`dr-new-${n}`, 'p-1'), patient('p-1'))));
      await hub.flush();
      return { walks: walk.mock.calls.length, written: batches.flat().length };
    };
    for (let i = 0; i < 9; i++) await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport(`pre-${i}`, 'p-1'), patient('p-1'))));
    const small = await measure(10);
    for (let i = 0; i < 1990; i++) await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport(`bulk-${i}`, 'p-1'), patient('p-1'))));
    const large = await measure(2000);
    expect(small.walks, 'a change walked the open contexts').toBe(0);
    expect(large).toEqual(small);
    // open: context + header; update: context + one resource; close: context + its resource + header.
    expect(small.written).toBeLessThanOrEqual(2 + 2 + 3);
    walk.mockRestore();
  });

  it('HUB-BOUND-02 an open writes one context record and the header; an update writes the context and only the resources it changed', async () => {
    const { batches, storage } = recordingStorage();
    const { hub } = await makeHub({ storage });
    const topic = hub.createTopic();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1', 'p-1'), patient('p-1'))));
    let v = hub.getContext(topic)['context.versionId'];
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b1', [put(observation('o-1')), put(observation('o-2')), put(observation('o-3'))])), { event: { 'context.versionId': v } }));
    await hub.flush();
    batches.length = 0;
    v = hub.getContext(topic)['context.versionId'];
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b2', [put(observation('o-2', 'changed', 3))])), { event: { 'context.versionId': v } }));
    await hub.flush();
    expect(batches).toEqual([[contentKey(topic, 'DiagnosticReport', 'dr-1', 'Observation', 'o-2'), contextKey(topic, 'DiagnosticReport', 'dr-1')].sort()]);
    batches.length = 0;
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('p-2'))));
    await hub.flush();
    expect(batches).toEqual([[contextKey(topic, 'Patient', 'p-2'), topicKey(topic)].sort()]);
  });

  it('HUB-BOUND-03 beyond the bound an open forgets the least recently opened context that is not current, with its content; nothing is broadcast and get-context is unchanged', async () => {
    const { inner, storage } = recordingStorage();
    const { hub } = await makeHub({ storage, bounds: { maxOpenContexts: 3 } });
    const topic = hub.createTopic();
    const closes = join(hub, topic, ['*']);
    const forgets: unknown[] = [];
    hub.observe((e) => e.type === 'forget' && forgets.push(e.detail));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-a', 'p-1'), patient('p-1'))));
    let v = hub.getContext(topic)['context.versionId'];
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-a', updateBundle('b1', [put(observation('o-a'))])), { event: { 'context.versionId': v } }));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-b', 'p-1'), patient('p-1'))));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-c', 'p-1'), patient('p-1'))));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-a', 'p-1'), patient('p-1')))); // dr-a is recent again
    closes.channel.clear();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-d', 'p-1'), patient('p-1'))));
    await hub.flush();
    const open = () => hub.inspect().topics.find((t) => t.topic === topic)!.open.map((o) => o.id);
    expect(open().sort()).toEqual(['dr-a', 'dr-c', 'dr-d']);
    expect(notifications(closes.channel).map((f) => f.event['hub.event']), 'no close was invented').toEqual(['DiagnosticReport-open']);
    expect(hub.getContext(topic)['context.type']).toBe('DiagnosticReport');
    expect(hub.getContext(topic).context[0]!.resource!.id).toBe('dr-d');
    expect(inner.data.has(contextKey(topic, 'DiagnosticReport', 'dr-b'))).toBe(false);
    expect(inner.data.has(contentKey(topic, 'DiagnosticReport', 'dr-a', 'Observation', 'o-a')), 'a kept context keeps its content').toBe(true);
    expect(forgets).toEqual([expect.stringContaining('DiagnosticReport/dr-b')]);
    expect(hub.inspect().forgotten.contexts).toBe(1);
    // Forgetting dr-a now drops its content records too.
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-e', 'p-1'), patient('p-1'))));
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-f', 'p-1'), patient('p-1'))));
    await hub.flush();
    expect(open().sort()).toEqual(['dr-d', 'dr-e', 'dr-f']);
    expect([...inner.data.keys()].filter((k) => k.includes('dr-a'))).toEqual([]);
    v = hub.getContext(topic)['context.versionId'];
    expect(v).toBeDefined();
  });

  it('HUB-BOUND-03 the current context is never forgotten, even when it is the least recently opened', async () => {
    const { hub } = await makeHub({ bounds: { maxOpenContexts: 2 } });
    const topic = hub.createTopic();
    await accept(hub, request(topic, 'ImagingStudy-open', study('st-1')));
    await accept(hub, request(topic, 'ImagingStudy-open', study('st-2')));
    await accept(hub, request(topic, 'ImagingStudy-open', study('st-3')));
    const snap = hub.inspect().topics.find((t) => t.topic === topic)!;
    expect(snap.open.map((o) => o.id)).toEqual(['st-2', 'st-3']);
    expect(snap.current).toBe('ImagingStudy/st-3');
    expect(hub.getContext(topic).context[0]!.resource!.id).toBe('st-3');
  });

  it('HUB-BOUND-04 an update that would bring the shared content past the limit gets 413 with an OperationOutcome, and nothing is applied or sent', async () => {
    const { hub } = await makeHub({ bounds: { maxContentBytes: 2000 } });
    const topic = hub.createTopic();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1', 'p-1'), patient('p-1'))));
    const editor = join(hub, topic, ['DiagnosticReport-update']);
    let v = hub.getContext(topic)['context.versionId']!;
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b1', [put({ ...observation('o-1'), note: 'x'.repeat(900) })])), { event: { 'context.versionId': v } }));
    v = hub.getContext(topic)['context.versionId']!;
    const before = hub.getContext(topic);
    const error = await refuse(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b2', [put({ ...observation('o-2'), note: 'y'.repeat(1100) })])), { event: { 'context.versionId': v } }), 413);
    expect(issueOf(error).diagnostics).toMatch(/DiagnosticReport\/dr-1.*2000/);
    expect(hub.getContext(topic)).toEqual(before);
    expect(notifications(editor.channel)).toHaveLength(1);
    // Replacing a resource with a smaller one frees room: the limit counts what the content holds.
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('b3', [put(observation('o-1')), put({ ...observation('o-2'), note: 'y'.repeat(1100) })])), { event: { 'context.versionId': v } }));
    expect(DEFAULT_BOUNDS.maxContentBytes).toBe(4 * 1024 * 1024);
  });

  it('HUB-BOUND-05 a topic with no subscriber and no open context is forgotten after 24 h without activity; one with either is kept', async () => {
    const { inner, storage } = recordingStorage();
    const { hub, tick } = await makeHub({ storage });
    const idle = hub.createTopic();
    const watched = hub.createTopic();
    const busy = hub.createTopic();
    join(hub, watched, ['Patient-open'], { leaseSeconds: 86_400, autoRenew: true });
    await accept(hub, request(busy, 'Patient-open', patientContext(patient('p-1'))));
    tick(24 * 3600_000 - 1);
    expect(hub.topicIds()).toContain(idle);
    tick(1);
    await hub.flush();
    expect(hub.topicIds().sort()).toEqual([watched, busy].sort());
    expect(inner.data.has(topicKey(idle))).toBe(false);
    expect(hub.inspect().forgotten.topics).toBe(1);
    // Activity restarts the clock: a topic whose last subscriber left is forgotten 24 h later.
    const left = hub.createTopic();
    tick(12 * 3600_000);
    const s = hub.subscribe({ topic: left, events: ['Patient-open'] });
    hub.unsubscribe(left, s.endpoint);
    tick(24 * 3600_000 - 1);
    expect(hub.topicIds()).toContain(left);
    tick(1);
    expect(hub.topicIds()).not.toContain(left);
  });

  it('HUB-BOUND-05 past the topic bound a request that would create a topic gets 503 with a reason; existing topics keep working and nothing is left behind', async () => {
    const { hub } = await makeHub({ bounds: { maxTopics: 2 } });
    const a = hub.createTopic();
    await accept(hub, request('room-b', 'Patient-open', patientContext(patient('p-1'))));
    const refused = await refuse(hub, request('room-c', 'Patient-open', patientContext(patient('p-1'))), 503);
    expect(issueOf(refused).diagnostics).toMatch(/2 topics/);
    expect(issueOf(throws(() => hub.subscribe({ topic: 'room-d', events: ['Patient-open'] }), 503)).diagnostics).toMatch(/limit/);
    throws(() => hub.createTopic(), 503);
    expect(hub.topicIds().sort()).toEqual([a, 'room-b'].sort());
    await accept(hub, request(a, 'Patient-open', patientContext(patient('p-2'))));
    expect(hub.subscribe({ topic: 'room-b', events: ['Patient-open'] }).topic).toBe('room-b');
  });

  it('HUB-BOUND-06 a subscription whose channel is not opened within 60 s of its 202 ends, and its endpoint is refused with 404; one that connects in time stays', async () => {
    const { hub, tick } = await makeHub();
    const topic = hub.createTopic();
    const never = hub.subscribe({ topic, events: ['Patient-open'] });
    const late = hub.subscribe({ topic, events: ['Patient-open'] });
    tick(59_000);
    const { RecordingChannel } = await import('../support/harness.js');
    hub.connect(late.endpoint, new RecordingChannel());
    tick(1000);
    expect(hub.hasEndpoint(never.endpoint)).toBe(false);
    throws(() => hub.connect(never.endpoint, new RecordingChannel()), 404);
    expect(hub.hasEndpoint(late.endpoint)).toBe(true);
    expect(hub.inspect().forgotten.subscriptions).toBe(1);
  });

  it('HUB-BOUND-07 inspect() shows the bounds in force and how many contexts, topics and subscriptions each has forgotten', async () => {
    const defaults = (await makeHub()).hub.inspect();
    expect(defaults.bounds).toEqual({ maxOpenContexts: 100, maxContentBytes: 4_194_304, maxTopics: 10_000, idleTopicMs: 86_400_000, connectTimeoutMs: 60_000 });
    expect(defaults.forgotten).toEqual({ contexts: 0, topics: 0, subscriptions: 0 });
    const { hub } = await makeHub({ bounds: { maxOpenContexts: 1, maxTopics: 7 } });
    expect(hub.inspect().bounds).toMatchObject({ maxOpenContexts: 1, maxTopics: 7, maxContentBytes: 4_194_304 });
    const topic = hub.createTopic();
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('p-1'))));
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('p-2'))));
    expect(hub.inspect().forgotten.contexts).toBe(1);
  });

  it('HUB-BOUND-07 a bound that is not a positive whole number is refused when the engine is built', async () => {
    await expect(makeHub({ bounds: { maxOpenContexts: 0 } })).rejects.toThrow(/maxOpenContexts/);
  });
});
