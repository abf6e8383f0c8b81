/** The bridge's pure parts: configuration checks, frame and get-context reading, reconciling, the id memory. */
import { describe, expect, it } from 'vitest';
import { WebSocket as MockWebSocket } from 'mock-socket';
import { startBridge, type BridgeConfig } from '../../../src/bridge/index.js';
import { readFrame, readRemoteContext } from '../../../src/bridge/frames.js';
import { reconcileEvent, sameContext } from '../../../src/bridge/reconcile.js';
import { SeenIds } from '../../../src/bridge/memory.js';
import { isHubError } from '../../../src/protocol/index.js';
import { localHub } from './support/local.js';

const pat = (id: string, extra = {}) => ({ key: 'patient', resource: { resourceType: 'Patient', id, ...extra } });

describe('startBridge configuration checks', () => {
  const cases: Array<[string, Partial<BridgeConfig>, string]> = [
    ['no topic', { topic: '' }, 'bridge topic'],
    ['a remote hub.url that is not http(s)', { remoteHubUrl: 'ftp://hub.example.org/x' }, 'http: or https:'],
    ['a remote hub.url that is not a URL', { remoteHubUrl: 'hub' }, 'not a URL'],
    ['an unknown dialect', { dialect: 'mqtt' as never }, 'dialect'],
    ['an empty event list', { events: [] }, 'non-empty list'],
    ['an event the local hub does not know', { events: ['Patient-teleport'] }, 'Patient-teleport'],
  ];
  it.each(cases)('throws a HubError 400 for %s', async (_what, patch, words) => {
    const hub = await localHub();
    const start = () => startBridge({ topic: 'T', remoteHubUrl: 'https://hub.example.org/fhircast/hub', ...patch }, { hub, fetch: async () => new Response(), WebSocket: MockWebSocket });
    let error: unknown;
    try {
      start();
    } catch (e) {
      error = e;
    }
    expect(isHubError(error) && error.status).toBe(400);
    expect((error as Error).message).toContain(words);
  });
});

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

describe('reconciling', () => {
  it('counts contexts naming the same resources as equal, however each hub spells them', () => {
    const a = { type: 'Patient', entries: [pat('1', { name: [{ text: 'A' }] })] };
    const b = { type: 'patient', entries: [pat('1')] };
    expect(sameContext(a, b)).toBe(true);
    expect(sameContext(a, { type: 'Patient', entries: [pat('2')] })).toBe(false);
    expect(reconcileEvent(a, b)).toBeUndefined();
  });

  it('opens the remote context, or closes the local one when the remote has none', () => {
    expect(reconcileEvent({ type: 'Patient', entries: [pat('9')] }, { type: '', entries: [] })).toEqual({ name: 'Patient-open', context: [pat('9')] });
    expect(reconcileEvent({ type: '', entries: [] }, { type: 'Patient', entries: [pat('7')] })).toEqual({ name: 'Patient-close', context: [pat('7')] });
  });
});

describe('the id memory', () => {
  it('keeps at most its limit, forgetting the least recently seen id first', () => {
    const seen = new SeenIds(2);
    seen.add('a', 'local');
    seen.add('b', 'remote');
    expect(seen.get('a')).toBe('local'); // a is now the most recent
    seen.add('c', 'remote');
    expect(seen.get('b')).toBeUndefined();
    expect([seen.get('a'), seen.get('c'), seen.size]).toEqual(['local', 'remote', 2]);
  });
});
