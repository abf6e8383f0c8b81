/** The one error type and its named constructors (src/protocol/outcome.ts). */
import { describe, expect, it } from 'vitest';
import { badRequest, conflict, forbidden, HubError, isHubError, notFound, operationOutcome, tooLarge, unauthorized, unsupportedMediaType } from '../../../src/protocol/outcome.js';

describe('HubError', () => {
  it('HUB-CHANGE-13 carries its status and an OperationOutcome with one error issue', () => {
    const e = new HubError(418, 'processing', 'why');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('HubError');
    expect(e.message).toBe('why');
    expect(e.status).toBe(418);
    expect(e.outcome).toEqual({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', diagnostics: 'why' }] });
  });

  it.each([
    [badRequest('b'), 400, 'invalid'],
    [badRequest('b', 'required'), 400, 'required'],
    [unauthorized('b'), 401, 'login'],
    [forbidden('b'), 403, 'forbidden'],
    [notFound('b'), 404, 'not-found'],
    [conflict('b'), 409, 'conflict'],
    [tooLarge('b'), 413, 'too-long'],
    [unsupportedMediaType('b'), 415, 'not-supported'],
  ])('the named constructor gives %#: status %i, issue code %s', (error, status, code) => {
    expect(error.status).toBe(status);
    expect(error.outcome.issue![0]).toEqual({ severity: 'error', code, diagnostics: 'b' });
  });

  it('is rebuilt from its plain parts, keeping the outcome as given', () => {
    const outcome = operationOutcome('warning', 'conflict', 'stale version');
    const e = HubError.from(409, outcome);
    expect(e).toBeInstanceOf(HubError);
    expect(e.status).toBe(409);
    expect(e.message).toBe('stale version');
    expect(e.outcome).toBe(outcome);
    const bare = HubError.from(500, { resourceType: 'OperationOutcome', issue: [] } as never);
    expect(bare.message).toBe('hub error 500');
    expect(bare.status).toBe(500);
    expect(bare.outcome.issue).toEqual([]);
    const rebuilt = HubError.from(503, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', diagnostics: 'busy' }] } as never);
    expect(rebuilt.message).toBe('busy');
    expect(new HubError(503, 'processing', 'x').outcome.issue![0]!.code).toBe('processing');
  });

  it('is recognised across a structured clone, and nothing else is', () => {
    expect(isHubError(notFound('x'))).toBe(true);
    expect(isHubError(structuredClone({ status: 404, outcome: notFound('x').outcome }))).toBe(true);
    expect(isHubError({ status: '404', outcome: notFound('x').outcome })).toBe(false);
    expect(isHubError({ status: 404, outcome: { resourceType: 'Patient' } })).toBe(false);
    expect(isHubError({ status: 404 })).toBe(false);
    expect(isHubError(null)).toBe(false);
    expect(isHubError(new Error('x'))).toBe(false);
  });
});
