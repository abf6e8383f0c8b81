import { describe, expect, it } from 'vitest';
import { contentKey, contextKey, parseKey, topicKey, topicPrefixes } from '../../../src/hub/records.js';
import { readRecords } from '../../../src/hub/record-validation.js';

const notification = { timestamp: '2026-01-01T00:00:00Z', id: 'ev-1', event: { 'hub.topic': 'T/1', 'hub.event': 'Patient-open', context: [{ key: 'patient' }] } };
const context = { topic: 'T/1', anchorType: 'Patient', anchorId: 'p 1', notification, versionId: 'v1', seq: 1, contentBundleId: 'b1', derived: [] };

describe('records: the key scheme and validation of stored records', () => {
  it('HUB-BOUND-02 keys name one record each and read back to their parts, whatever characters topics and ids hold', () => {
    const key = contentKey('T/1', 'Patient', 'p 1', 'Observation', 'o/2');
    expect(parseKey(key)).toEqual({ kind: 'content', topic: 'T/1', type: 'Patient', id: 'p 1', resourceType: 'Observation', resourceId: 'o/2' });
    expect(parseKey(contextKey('T/1', 'Patient', 'p 1'))).toEqual({ kind: 'context', topic: 'T/1', type: 'Patient', id: 'p 1' });
    expect(parseKey(topicKey('T/1'))).toEqual({ kind: 'topic', topic: 'T/1' });
    expect(contextKey('T/1', 'Patient', 'p 1').startsWith(topicPrefixes('T/1').contexts)).toBe(true);
    expect(key.startsWith(topicPrefixes('T/1').content)).toBe(true);
    // A topic that is a prefix of another topic does not share its key prefix.
    expect(contextKey('T/10', 'Patient', 'p').startsWith(topicPrefixes('T/1').contexts)).toBe(false);
  });

  it('L2 HUB-SEC-15 malformed records are listed by key and left out; valid ones are read', () => {
    const loaded = readRecords(
      new Map<string, unknown>([
        [topicKey('T/1'), { topic: 'T/1', createdAt: 1, seq: 1, current: 'Patient/p 1' }],
        [contextKey('T/1', 'Patient', 'p 1'), context],
        [contentKey('T/1', 'Patient', 'p 1', 'Observation', 'o'), { order: 0, resource: { resourceType: 'Observation', id: 'o' } }],
        [topicKey('T/2'), { topic: 'T/2', createdAt: 'yesterday', seq: 0 }],
        [contextKey('T/2', 'Patient', 'x'), { ...context, topic: 'T/2' }],
        [contentKey('T/1', 'Patient', 'p 1', 'Observation', 'mismatch'), { order: 1, resource: { resourceType: 'Observation', id: 'other' } }],
        ['not-a-record', 1],
      ]),
    );
    expect([...loaded.headers.keys()]).toEqual(['T/1']);
    expect(loaded.contexts.get('T/1')).toEqual([context]);
    expect(loaded.content.get(contextKey('T/1', 'Patient', 'p 1'))!.map((c) => c.record.resource.id)).toEqual(['o']);
    expect(loaded.malformed.map((m) => m.key).sort()).toEqual([contentKey('T/1', 'Patient', 'p 1', 'Observation', 'mismatch'), contextKey('T/2', 'Patient', 'x'), topicKey('T/2'), 'not-a-record'].sort());
    expect(loaded.malformed.find((m) => m.key === topicKey('T/2'))!.reason).toMatch(/createdAt/);
  });
});
