/** The host's checks of what pages send: Comlink control messages and typed-API arguments. */
import { describe, expect, it } from 'vitest';
import { bridgeRequest, jsonBody, subscribeArgs } from '../../../src/host/arguments.js';
import { serializedRequest } from '../../../src/host/serve-fetch.js';
import { controlProblem } from '../../../src/host/control-guard.js';
import { HOST_METHODS } from '../../../src/link/messages.js';

const methods = new Set<string>(HOST_METHODS);
const raw = (value: unknown) => ({ type: 'RAW', value });

describe('control guard', () => {
  it('passes method calls of the HostApi with plain arguments', () => {
    expect(controlProblem({ id: '1', type: 'APPLY', path: ['publish'], argumentList: [raw({})] }, methods)).toBeUndefined();
  });

  it.each([
    [null, 'must be an object'],
    ['text', 'must be an object'],
    [{ type: 'GET', path: ['publish'] }, 'only method calls'],
    [{ type: 'SET', path: ['publish'], value: raw(1) }, 'only method calls'],
    [{ type: 'CONSTRUCT', path: ['publish'], argumentList: [] }, 'only method calls'],
    [{ type: 'RELEASE' }, 'only method calls'],
    [{ type: 'APPLY', path: ['hub', 'publish'], argumentList: [] }, 'unknown method'],
    [{ type: 'APPLY', path: ['constructor'], argumentList: [] }, 'unknown method'],
    [{ type: 'APPLY', path: 'publish', argumentList: [] }, 'unknown method'],
    [{ type: 'APPLY', path: ['publish'], argumentList: 'x' }, 'plain values'],
    [{ type: 'APPLY', path: ['publish'], argumentList: [{ type: 'HANDLER', name: 'proxy', value: 1 }] }, 'plain values'],
  ])('refuses %j', (message, reason) => {
    expect(controlProblem(message, methods)).toContain(reason);
  });
});

describe('typed-API arguments', () => {
  it('subscribe options: topic, a non-empty list of names, an optional positive lease', () => {
    expect(subscribeArgs({ topic: 't', events: ['Patient-open'], leaseSeconds: 60 })).toEqual({ topic: 't', events: ['Patient-open'], leaseSeconds: 60, subscriberName: undefined });
    expect(() => subscribeArgs({ topic: 't', events: [] })).toThrow(/non-empty list/);
    expect(() => subscribeArgs({ topic: 't', events: [3] })).toThrow(/events\[0\]/);
    expect(() => subscribeArgs({ topic: 't', events: ['x'], leaseSeconds: 1.5 })).toThrow(/positive integer/);
    expect(() => subscribeArgs({ topic: '', events: ['x'] })).toThrow(/topic/);
    expect(() => subscribeArgs('nope')).toThrow(/object/);
  });

  it('a context change must be JSON within the limit, counted in UTF-8 bytes', () => {
    expect(jsonBody({ id: 'x' }, 100)).toEqual({ id: 'x' });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => jsonBody(cyclic, 100)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => jsonBody({ big: 1n }, 100)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => jsonBody(undefined, 100)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => jsonBody({ text: 'é'.repeat(40) }, 60)).toThrow(expect.objectContaining({ status: 413 })); // 40 characters, 80 bytes
  });

  it('a serialized request needs string parts and a body within the limit', () => {
    const ok = { url: 'http://h/hub', method: 'POST', headers: [['a', 'b']], body: new ArrayBuffer(4) };
    expect(serializedRequest(ok, 10)).toEqual(ok);
    expect(() => serializedRequest({ ...ok, headers: [['a']] }, 10)).toThrow(/headers/);
    expect(() => serializedRequest({ ...ok, body: 'text' }, 10)).toThrow(/ArrayBuffer/);
    expect(() => serializedRequest({ ...ok, body: new ArrayBuffer(11) }, 10)).toThrow(expect.objectContaining({ status: 413 }));
  });

  it('a bridge configuration names a topic, a remote hub and a known dialect', () => {
    expect(bridgeRequest({ topic: 't', remoteHubUrl: 'https://r/hub' })).toMatchObject({ topic: 't', remoteHubUrl: 'https://r/hub' });
    expect(() => bridgeRequest({ topic: 't', remoteHubUrl: 'https://r/hub', dialect: 'mqtt' })).toThrow(/dialect/);
    expect(() => bridgeRequest({ topic: 't', remoteHubUrl: 'https://r/hub', events: 'Patient-open' })).toThrow(/list/);
  });
});
