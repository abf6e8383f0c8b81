/**
 * src/hub/context-change.ts: what an accepted event changes and sends, as data (issue 18 item 1),
 * and the spots where one-line mutations went unnoticed before.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import { loadChangeParser } from '../../../src/hub/change-parser.js';
import { applyEvent, checkChange } from '../../../src/hub/context-change.js';
import { contextKey, topicKey } from '../../../src/hub/records.js';
import { TopicState } from '../../../src/hub/topic-state.js';
import { accept, diagnosticReport, join, notifications, patient, patientContext, reportContext, request } from '../conformance/support.js';
import { makeHub } from '../support/harness.js';

const ENV = { newId: (() => { let n = 0; return () => `id-${++n}`; })(), maxOpenContexts: 100, maxContentBytes: 4 * 1024 * 1024 };
const NOW = Date.parse('2026-01-01T00:00:00Z');

// checkChange runs without an engine here: load the parser Hub.create would load.
beforeAll(() => loadChangeParser());

describe('context-change: outputs as data (issue 18)', () => {
  it('an accepted open returns the records it touched and the broadcast, and sends nothing itself; the checked change is not modified', () => {
    const state = new TopicState({ topic: 'T', createdAt: NOW, seq: 0 }, NOW);
    const change = checkChange(request('T', 'Patient-open', patientContext(patient('p-1'))), undefined, NOW);
    const before = JSON.stringify(change);
    const out = applyEvent(state, change, ENV);
    expect([...out.records.keys()].sort()).toEqual([contextKey('T', 'Patient', 'p-1'), topicKey('T')].sort());
    expect(out.broadcasts).toHaveLength(1);
    expect(out.broadcasts[0]!.notification.event['context.versionId']).toBe(state.find({ type: 'Patient', id: 'p-1' })!.versionId);
    expect(JSON.stringify(change)).toBe(before);
  });

  it('HUB-CTX-01 stripping priorVersionId on open: an open that carries context.priorVersionId is broadcast without it, with the hub\u2019s versionId', async () => {
    const { hub } = await makeHub();
    const topic = hub.createTopic();
    const viewer = join(hub, topic, ['Patient-open']);
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('p-1')), { event: { 'context.priorVersionId': 'from-the-client', 'context.versionId': 'also-from-the-client' } }));
    const [sent] = notifications(viewer.channel);
    expect(sent.event).not.toHaveProperty('context.priorVersionId');
    expect(sent.event['context.versionId']).toBe(hub.getContext(topic)['context.versionId']);
    expect(sent.event['context.versionId']).not.toBe('also-from-the-client');
  });

  it('HUB-NOTIFY-01 relay-only opens without an anchor: an open of a non-catalog type without its anchor key is relayed and opens nothing', async () => {
    const { hub } = await makeHub();
    const topic = hub.createTopic();
    const watcher = join(hub, topic, ['Specimen-open']);
    await accept(hub, request(topic, 'Specimen-open', []));
    expect(notifications(watcher.channel).map((f) => f.event['hub.event'])).toEqual(['Specimen-open']);
    expect(hub.inspect().topics.find((t) => t.topic === topic)!.open).toEqual([]);
    expect(hub.getContext(topic)).toEqual({ 'context.type': '', context: [] });
  });

  it('HUB-CTX-13 closes pruning derived opens: after closing a patient open only through a report, a later report for that patient announces it again, and a new subscriber gets no catch-up for it', async () => {
    const { hub } = await makeHub();
    const topic = hub.createTopic();
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1', 'p-1'), patient('p-1'))));
    await accept(hub, request(topic, 'Patient-close', patientContext(patient('p-1'))));
    const late = join(hub, topic, ['Patient-open']);
    expect(notifications(late.channel), 'the closed patient is not in the catch-up').toEqual([]);
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-2', 'p-1'), patient('p-1'))));
    expect(notifications(late.channel).map((f) => f.event.context[0].resource.id), 'p-1 is no longer open, so the derived open goes out live').toEqual(['p-1']);
  });

  it('HUB-CTX-13 HUB-PERSIST-02 the derived-close bug: closing a resource open only through a derived open is stored, so a restarted engine does not announce it again (memory store)', async () => {
    const storage = memoryStorage();
    const first = (await makeHub({ storage })).hub;
    const topic = first.createTopic();
    await accept(first, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1', 'p-1'), patient('p-1'))));
    await accept(first, request(topic, 'Patient-close', patientContext(patient('p-1'))));
    await first.flush();
    const second = (await makeHub({ storage })).hub;
    const late = join(second, topic, ['Patient-open']);
    expect(notifications(late.channel), 'a restarted hub announced the closed patient again').toEqual([]);
  });
});
