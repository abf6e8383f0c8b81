/** Parsing context-change request bodies (src/protocol/change-request.ts). */
import { describe, expect, it } from 'vitest';
import { describeIssues, parseContextChangeRequest } from '../../../src/protocol/change-request.js';
import { badRequest, isHubError } from '../../../src/protocol/outcome.js';

const event = { 'hub.topic': 'T1', 'hub.event': 'Patient-open', context: [] };

function refusal(body: unknown): { status: number; code: string; text: string } {
  try {
    parseContextChangeRequest(body, badRequest);
  } catch (error) {
    if (!isHubError(error)) throw error;
    const issue = error.outcome.issue![0]!;
    return { status: error.status, code: issue.code, text: issue.diagnostics! };
  }
  throw new Error('the body was accepted');
}

describe('parseContextChangeRequest', () => {
  it('HUB-CHANGE-08 accepts a body without timestamp, and keeps members it does not know', () => {
    const body = { id: 'e1', event: { ...event, extra: 1 }, note: 'x' };
    expect(parseContextChangeRequest(body, badRequest)).toEqual(body);
  });

  it.each([
    '2025-03-02T09:15:00Z',
    '2025-03-02T09:15Z',
    '2025-03-02T09:15:00.123+01:00',
    '2025-03-02T23:59:60-0530',
    '2024-02-29T00:00:00Z',
    '2025-12-31T00:00:00+23:59',
  ])('HUB-CHANGE-08 accepts the ISO 8601 timestamp %s', (timestamp) => {
    expect(parseContextChangeRequest({ timestamp, id: 'e1', event }, badRequest).timestamp).toBe(timestamp);
  });

  it.each([
    ['no zone', '2025-03-02T09:15:00'],
    ['a date only', '2025-03-02'],
    ['month 13', '2025-13-02T09:15:00Z'],
    ['month 0', '2025-00-02T09:15:00Z'],
    ['day 0', '2025-03-00T09:15:00Z'],
    ['February 30', '2025-02-30T09:15:00Z'],
    ['February 29 in a common year', '2025-02-29T09:15:00Z'],
    ['hour 24', '2025-03-02T24:00:00Z'],
    ['minute 60', '2025-03-02T09:60:00Z'],
    ['second 61', '2025-03-02T09:15:61Z'],
    ['offset hour 24', '2025-03-02T09:15:00+24:00'],
    ['offset minute 60', '2025-03-02T09:15:00+01:60'],
    ['text around it', 'at 2025-03-02T09:15:00Z'],
  ])('HUB-CHANGE-08 refuses a timestamp with %s, naming the event and the format', (_what, timestamp) => {
    const r = refusal({ timestamp, id: 'e1', event });
    expect(r).toEqual({ status: 400, code: 'value', text: 'Patient-open request: timestamp must be an ISO 8601 date-time such as 2025-03-02T09:15:00Z' });
  });

  it.each([
    ['not an object', 'hello', 'structure', 'context change request: the body must be a JSON object with timestamp, id and event'],
    ['an array', [], 'structure', 'context change request: the body must be a JSON object with timestamp, id and event'],
    ['null', null, 'structure', 'context change request: the body must be a JSON object with timestamp, id and event'],
    ['no id', { event }, 'required', 'Patient-open request: id is missing or has the wrong type'],
    ['an empty id', { id: '', event }, 'required', 'Patient-open request: id is empty'],
    ['no event', { id: 'e1' }, 'required', 'context change request: event is missing or has the wrong type'],
    ['an event without hub.event', { id: 'e1', event: { context: [] } }, 'required', 'context change request: event.hub.event is missing or has the wrong type'],
    ['an empty hub.event', { id: 'e1', event: { 'hub.event': '', context: [] } }, 'required', 'context change request: event.hub.event is empty'],
    ['a blank hub.event and no context', { id: 'e1', event: { 'hub.event': '  ' } }, 'required', 'context change request: event.context is missing or has the wrong type'],
    ['a context that is not a list', { id: 'e1', event: { ...event, context: {} } }, 'required', 'Patient-open request: event.context is missing or has the wrong type'],
  ])('HUB-CHANGE-08 HUB-CHANGE-13 refuses a body with %s, naming the field', (_what, body, code, text) => {
    const r = refusal(body);
    expect(r.status).toBe(400);
    expect(r.code).toBe(code);
    expect(r.text.startsWith(text)).toBe(true);
  });

  it('trims the event name it names in a refusal', () => {
    expect(refusal({ id: 'e1', event: { 'hub.event': ' Patient-open ', context: 'x' } }).text).toBe('Patient-open request: event.context is missing or has the wrong type');
  });

  it('refuses a body that is not plain JSON (HUB-SEC-09)', () => {
    expect(refusal({ id: 'e1', event: { ...event, n: Number.NaN } })).toMatchObject({ status: 400, code: 'value' });
  });
});

describe('describeIssues', () => {
  it('names at most three fields, with (body) for the root, and says why for each kind of issue', () => {
    const issues = [
      { path: [], code: 'invalid_type', message: 'x' },
      { path: ['a', 0], code: 'invalid_format', message: 'x' },
      { path: ['b'], code: 'too_small', message: 'x' },
      { path: ['c'], code: 'custom', message: 'never shown' },
    ];
    expect(describeIssues(issues, 'W')).toBe('W: (body) is missing or has the wrong type; a.0 has the wrong format; b is empty');
    expect(describeIssues([{ path: ['c'], code: 'custom', message: 'is odd' }], 'W')).toBe('W: c is odd');
  });
});
