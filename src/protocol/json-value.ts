/**
 * Checks that a value is plain JSON of bounded depth, without recursion (a hostile body thousands
 * of levels deep must not blow the stack here or in any JSON.stringify after it).
 */
import { badRequest } from './outcome.js';

/** Deepest nesting a request may have; FHIR resources in FHIRcast events stay far below it. */
export const MAX_JSON_DEPTH = 64;

/** Throws a 400 when the value is not JSON (bigint, function, cycle, non-finite number) or is nested too deep. */
export function assertPlainJson(value: unknown, what: string, maxDepth = MAX_JSON_DEPTH): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw badRequest(`${what}: numbers must be finite`, 'value');
      continue;
    }
    if (typeof v !== 'object') throw badRequest(`${what}: a ${typeof v} is not a JSON value`, 'structure');
    if (depth >= maxDepth) throw badRequest(`${what}: nested deeper than ${maxDepth} levels`, 'structure');
    if (seen.has(v)) throw badRequest(`${what}: contains a cycle or a shared object`, 'structure');
    seen.add(v);
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const child of children) stack.push([child, depth + 1]);
  }
}
