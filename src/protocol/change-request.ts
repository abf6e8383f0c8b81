/**
 * The zod schemas of a request context change (fhircast-spec.md §5.1) and its parsing into a 400
 * that names the field. The engine loads this module on its own (src/hub/change-parser.ts): zod is
 * most of its weight, and the browser worker starts without it (dist/tabcast-change.js).
 */
import * as z from 'zod/mini';
import type { ContextChangeRequest, ContextEntry } from './messages.js';
import type { IssueCode } from './outcome.js';
import { plainJsonProblem } from './plain-json.js';

/**
 * How the parser refuses a body: the engine passes `badRequest` (./outcome.ts). This module imports
 * nothing of the engine at run time, so the worker's chunk of it (tabcast-change.js) does not import
 * the worker's entry module, which a worker started from a URL with a query would evaluate again.
 */
export type Refuse = (diagnostics: string, code: IssueCode) => Error;

const nonEmpty = z.string().check(z.minLength(1));
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;

/** True for an ISO 8601 date-time whose fields name a real instant (no month 13, no February 30). */
function isIsoDateTime(text: string): boolean {
  const m = ISO_8601.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second = 0, offH = 0, offM = 0] = m.slice(1).map((v) => (v === undefined ? undefined : Number(v))) as number[];
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  return month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysInMonth && hour! <= 23 && minute! <= 59 && second <= 60 && offH <= 23 && offM <= 59;
}

/** A FHIR resource as relayed: only `resourceType` is required by the hub. */
export const ResourceSchema = z.looseObject({ resourceType: nonEmpty, id: z.optional(z.string()) });

/**
 * One entry of an event's `context` array: a `key` plus one value member named after its datatype.
 * It types entries only: the hub checks entries itself (./context-rules.ts), with reasons that
 * name the event, so no request schema parses them with this one.
 */
export const ContextEntrySchema = z.looseObject({
  key: z.string(),
  resource: z.optional(ResourceSchema),
  reference: z.optional(z.looseObject({ reference: z.optional(z.string()) })),
});

/** The `event` object of a request; its context entries are typed here and checked by ./context-rules.ts. */
export const EventPayloadSchema = z.looseObject({
  'hub.topic': z.optional(z.string()),
  'hub.event': nonEmpty,
  context: z.array(z.custom<ContextEntry>()),
  'context.versionId': z.optional(z.string()),
  'context.priorVersionId': z.optional(z.string()),
});

/** A request context change body (fhircast-spec.md §5.1). `timestamp` may be absent (set on receipt). */
export const ContextChangeRequestSchema = z.looseObject({
  timestamp: z.optional(z.string().check(z.refine(isIsoDateTime))),
  id: nonEmpty,
  event: EventPayloadSchema,
});

/** Turns a zod failure into a 400 that names the offending field. */
export function describeIssues(issues: readonly { path: PropertyKey[]; code: string; message: string }[], what: string): string {
  const parts = issues.slice(0, 3).map((i) => {
    const field = i.path.map(String).join('.') || '(body)';
    const why = i.code === 'invalid_type' ? 'is missing or has the wrong type' : i.code === 'invalid_format' ? 'has the wrong format' : i.code === 'too_small' ? 'is empty' : i.message;
    return `${field} ${why}`;
  });
  return `${what}: ${parts.join('; ')}`;
}

/** Parses a request context change body, or throws `refuse`'s 400 naming the field (HUB-CHANGE-08). */
export function parseContextChangeRequest(body: unknown, refuse: Refuse): ContextChangeRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw refuse('context change request: the body must be a JSON object with timestamp, id and event', 'structure');
  }
  const problem = plainJsonProblem(body, 'context change request');
  if (problem) throw refuse(problem.diagnostics, problem.code);
  const r = ContextChangeRequestSchema.safeParse(body);
  if (!r.success) {
    // Name the event when the body names one (HUB-CHANGE-13).
    const event = (body as { event?: unknown }).event;
    const named = typeof event === 'object' && event !== null ? (event as Record<string, unknown>)['hub.event'] : undefined;
    const what = typeof named === 'string' && named.trim() !== '' ? `${named.trim()} request` : 'context change request';
    const timestampIssue = r.error.issues.find((i) => i.path[0] === 'timestamp');
    if (timestampIssue) throw refuse(`${what}: timestamp must be an ISO 8601 date-time such as 2025-03-02T09:15:00Z`, 'value');
    throw refuse(describeIssues(r.error.issues, what), 'required');
  }
  return r.data;
}
