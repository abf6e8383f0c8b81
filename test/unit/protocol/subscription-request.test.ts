/** Reading subscribe/unsubscribe requests (src/protocol/subscription-request.ts), from forms and JSON alike. */
import { describe, expect, it } from 'vitest';
import { formParams, parseSubscriptionRequest } from '../../../src/protocol/subscription-request.js';
import { isHubError } from '../../../src/protocol/outcome.js';

const base = { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': 'T1', 'hub.events': 'Patient-open' };

/** The 400 a request gets: its issue code and diagnostics. */
function refusal(params: Record<string, unknown>): { status: number; code: string; text: string } {
  try {
    parseSubscriptionRequest(params);
  } catch (error) {
    if (!isHubError(error)) throw error;
    const issue = error.outcome.issue![0]!;
    return { status: error.status, code: issue.code, text: issue.diagnostics! };
  }
  throw new Error('the request was accepted');
}

describe('parseSubscriptionRequest', () => {
  it('HUB-TOLERANT-03 reads a subscribe: trimmed events with empty entries dropped, a lease, a subscriber name', () => {
    expect(parseSubscriptionRequest({ ...base, 'hub.events': ' Patient-open, ,Patient-close ', 'hub.lease_seconds': ' 60 ', 'subscriber.name': ' viewer ' })).toEqual({
      mode: 'subscribe',
      topic: 'T1',
      events: ['Patient-open', 'Patient-close'],
      leaseSeconds: 60,
      endpoint: undefined,
      subscriberName: 'viewer',
    });
  });

  it('HUB-TOLERANT-01 HUB-TOLERANT-02 HUB-TOLERANT-03 takes hub.events as a JSON list (entries may hold commas), the channel type in any case, hub.lease as the lease', () => {
    const r = parseSubscriptionRequest({ ...base, 'hub.channel.type': 'WebSocket', 'hub.events': ['Patient-open,Patient-close', 'Encounter-open'], 'hub.lease': 30 });
    expect(r.events).toEqual(['Patient-open', 'Patient-close', 'Encounter-open']);
    expect(r.leaseSeconds).toBe(30);
  });

  it('HUB-TOLERANT-01 prefers hub.lease_seconds when hub.lease is given too', () => {
    expect(parseSubscriptionRequest({ ...base, 'hub.lease_seconds': '45', 'hub.lease': '90' }).leaseSeconds).toBe(45);
  });

  it('leaves the lease unset when it is absent, null or empty', () => {
    for (const lease of [undefined, null, '']) expect(parseSubscriptionRequest({ ...base, 'hub.lease_seconds': lease }).leaseSeconds).toBeUndefined();
  });

  it('reads an unsubscribe with its endpoint and no events', () => {
    expect(parseSubscriptionRequest({ 'hub.channel.type': 'websocket', 'hub.mode': 'unsubscribe', 'hub.topic': 'T1', 'hub.channel.endpoint': ' wss://h/e1 ' })).toEqual({
      mode: 'unsubscribe',
      topic: 'T1',
      events: [],
      endpoint: 'wss://h/e1',
    });
  });

  const refusals: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['no body object', [] as unknown as Record<string, unknown>, 'structure', /form or a JSON object/],
    ['no hub.mode', { ...base, 'hub.mode': undefined }, 'required', /hub\.mode is missing/],
    ['an unknown hub.mode', { ...base, 'hub.mode': 'publish' }, 'value', /hub\.mode "publish" is not supported/],
    ['no hub.channel.type', { ...base, 'hub.channel.type': '' }, 'required', /hub\.channel\.type is missing/],
    ['a channel type other than websocket', { ...base, 'hub.channel.type': 'webhook' }, 'not-supported', /"webhook" is not supported: STU3 hubs offer websocket only/],
    ['a hub.mode that is an object', { ...base, 'hub.mode': { x: 1 } }, 'value', /hub\.mode must be a string/],
    ['an unsubscribe without endpoint', { ...base, 'hub.mode': 'unsubscribe' }, 'required', /endpoint is required to unsubscribe/],
    ['a list of events with a number in it', { ...base, 'hub.events': ['Patient-open', 3] }, 'value', /must be a list of event names/],
    ['events given as an object', { ...base, 'hub.events': { a: 1 } }, 'value', /comma-separated string or a list/],
    ['no events', { ...base, 'hub.events': undefined }, 'required', /hub\.events is missing or empty/],
    ['only empty events', { ...base, 'hub.events': ' , ' }, 'required', /hub\.events is missing or empty/],
    ['a lease of 0', { ...base, 'hub.lease_seconds': '0' }, 'value', /positive integer, got "0"/],
    ['a negative lease', { ...base, 'hub.lease_seconds': -5 }, 'value', /positive integer, got -5/],
    ['a fractional lease', { ...base, 'hub.lease_seconds': '1.5' }, 'value', /positive integer/],
    ['a lease beyond safe integers', { ...base, 'hub.lease_seconds': '99999999999999999999' }, 'value', /positive integer/],
    ['a lease that is a list', { ...base, 'hub.lease_seconds': [60] }, 'value', /positive integer/],
  ];
  it.each(refusals)('HUB-CHANGE-13 refuses %s with a 400 naming the parameter', (_what, params, code, text) => {
    const r = refusal(params);
    expect(r.status).toBe(400);
    expect(r.code).toBe(code);
    expect(r.text).toMatch(text);
  });

  it('reads numbers and booleans given for text parameters as their text', () => {
    expect(parseSubscriptionRequest({ ...base, 'subscriber.name': 42 }).subscriberName).toBe('42');
    expect(parseSubscriptionRequest({ ...base, 'subscriber.name': true }).subscriberName).toBe('true');
    expect(parseSubscriptionRequest({ ...base, 'subscriber.name': '  ' }).subscriberName).toBeUndefined();
    expect(parseSubscriptionRequest({ ...base, 'subscriber.name': null, 'hub.channel.endpoint': null }).subscriberName).toBeUndefined();
  });
});

describe('formParams', () => {
  it('collects each parameter once, and refuses one given twice with a 400 naming it', () => {
    expect(formParams(new URLSearchParams('hub.mode=subscribe&hub.topic=T1'))).toEqual({ 'hub.mode': 'subscribe', 'hub.topic': 'T1' });
    let error: unknown;
    try {
      formParams(new URLSearchParams('hub.topic=T1&hub.topic=T2'));
    } catch (e) {
      error = e;
    }
    expect(isHubError(error) && error.status).toBe(400);
    expect((error as Error).message).toBe('parameter hub.topic appears more than once');
  });
});
