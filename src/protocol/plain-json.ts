/**
 * The check of plain JSON of bounded depth, without recursion (a hostile body thousands of levels
 * deep must not blow the stack here or in any JSON.stringify after it). It says what is wrong rather
 * than throwing a HubError, and imports nothing: the worker's context-change chunk (tabcast-change.js)
 * uses it without importing the worker's entry module (./json-value.ts throws the 400).
 */

/** Deepest nesting a request may have; FHIR resources in FHIRcast events stay far below it. */
export const MAX_JSON_DEPTH = 64;

/** Why a value is not plain JSON, with the OperationOutcome issue code to report it under. */
export interface JsonProblem {
  diagnostics: string;
  code: 'value' | 'structure';
}

/** What makes the value not JSON (bigint, function, cycle, non-finite number) or nested too deep; undefined when it is fine. */
export function plainJsonProblem(value: unknown, what: string, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  const stack: Array<[unknown, number]> = [[value, 0]];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { diagnostics: `${what}: numbers must be finite`, code: 'value' };
      continue;
    }
    if (typeof v !== 'object') return { diagnostics: `${what}: a ${typeof v} is not a JSON value`, code: 'structure' };
    if (depth >= maxDepth) return { diagnostics: `${what}: nested deeper than ${maxDepth} levels`, code: 'structure' };
    if (seen.has(v)) return { diagnostics: `${what}: contains a cycle or a shared object`, code: 'structure' };
    seen.add(v);
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const child of children) stack.push([child, depth + 1]);
  }
  return undefined;
}
