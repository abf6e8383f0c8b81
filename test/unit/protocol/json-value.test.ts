/** Plain JSON of bounded depth (src/protocol/json-value.ts). */
import { describe, expect, it } from 'vitest';
import { assertPlainJson, MAX_JSON_DEPTH } from '../../../src/protocol/json-value.js';

function refusal(value: unknown, maxDepth?: number): string {
  try {
    assertPlainJson(value, 'body', maxDepth);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('accepted');
}

const nested = (depth: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

describe('assertPlainJson', () => {
  it('HUB-SEC-09 accepts JSON values, a repeated primitive included, up to the depth limit', () => {
    expect(() => assertPlainJson({ a: [1, 'x', true, null, { b: 2.5 }], c: 'x', d: 'x' }, 'body')).not.toThrow();
    expect(() => assertPlainJson(nested(MAX_JSON_DEPTH), 'body')).not.toThrow();
    expect(MAX_JSON_DEPTH).toBe(64);
  });

  it('HUB-SEC-09 refuses what is not JSON or nests too deep, with a 400 that says which', () => {
    expect(refusal({ n: Number.POSITIVE_INFINITY })).toBe('body: numbers must be finite');
    expect(refusal({ n: Number.NaN })).toBe('body: numbers must be finite');
    expect(refusal({ f: () => 1 })).toBe('body: a function is not a JSON value');
    expect(refusal([1n])).toBe('body: a bigint is not a JSON value');
    expect(refusal({ u: undefined })).toBe('body: a undefined is not a JSON value');
    expect(refusal(nested(MAX_JSON_DEPTH + 1))).toBe('body: nested deeper than 64 levels');
    expect(refusal(nested(3), 2)).toBe('body: nested deeper than 2 levels');
    const shared = { x: 1 };
    expect(refusal({ a: shared, b: shared })).toBe('body: contains a cycle or a shared object');
  });
});
