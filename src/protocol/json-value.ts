/**
 * Checks that a value is plain JSON of bounded depth (./plain-json.ts), as a 400 when it is not.
 */
import { badRequest } from './outcome.js';
import { MAX_JSON_DEPTH, plainJsonProblem } from './plain-json.js';

export { MAX_JSON_DEPTH } from './plain-json.js';

/** Throws a 400 when the value is not JSON (bigint, function, cycle, non-finite number) or is nested too deep. */
export function assertPlainJson(value: unknown, what: string, maxDepth = MAX_JSON_DEPTH): void {
  const problem = plainJsonProblem(value, what, maxDepth);
  if (problem) throw badRequest(problem.diagnostics, problem.code);
}
