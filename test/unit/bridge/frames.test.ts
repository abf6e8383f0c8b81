/** Reading what a remote hub sends (src/bridge/frames.ts): frames and get-context answers. */
import { describe, expect, it } from 'vitest';
import { readFrame, readRemoteContext } from '../../../src/bridge/frames.js';

const pat = (id: string, extra = {}) => ({ key: 'patient', resource: { resourceType: 'Patient', id, ...extra } });

describe('reading remote frames', () => {
  it('tells confirmations, denials, heartbeats, notifications and garbage apart', () => {
    expect(readFrame('{"hub.mode":"subscribe","hub.lease_seconds":"60"}')).toEqual({ kind: 'confirmation', topic: undefined, events: undefined, leaseSeconds: 60 });
    expect(readFrame('{"hub.mode":"denied","hub.reason":"bye"}')).toEqual({ kind: 'denial', reason: 'bye' });
    expect(readFrame('{"id":"JS SANDBOX","event":{"hub.event":"heartbeat"}}')).toEqual({ kind: 'heartbeat', periodMs: undefined });
    expect(readFrame('{"id":"h","event":{"hub.event":"Heartbeat","context":[{"key":"period","decimal":"10"}]}}')).toEqual({ kind: 'heartbeat', periodMs: 10_000 });
    expect(readFrame('{"header":{},"body":{"id":"e1","event":{"hub.event":"Patient-open","context":[]}}}')).toMatchObject({ kind: 'notification', notification: { id: 'e1' } });
    for (const junk of ['', 'x', '1', '[]', '{}', '{"event":{}}', '{"event":{"hub.event":"Patient-open","context":{}}}']) expect(readFrame(junk).kind).toBe('ignored');
  });
});

describe('reading get-context answers', () => {
  it('reads the STU3 object, a bare array, {}, and the 2019 event shape, dropping the content entry', () => {
    const content = { key: 'content', resource: { resourceType: 'Bundle', type: 'collection' } };
    expect(readRemoteContext({ 'context.type': 'Patient', 'context.versionId': 'v', context: [pat('1'), content] })).toEqual({ type: 'Patient', versionId: 'v', entries: [pat('1')] });
    expect(readRemoteContext({ 'context.type': '', context: [] })).toEqual({ type: '', entries: [] });
    expect(readRemoteContext({})).toEqual({ type: '', entries: [] });
    expect(readRemoteContext([pat('2'), { key: 'study', resource: { resourceType: 'ImagingStudy', id: 's' } }]).type).toBe('ImagingStudy');
    expect(readRemoteContext({ id: 'x', event: { 'hub.topic': 't', context: [pat('3')] } })).toEqual({ type: 'Patient', versionId: undefined, entries: [pat('3')] });
  });
});
