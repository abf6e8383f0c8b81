/**
 * The invariants every hardening property checks: the hub's accepted state (get-context of every
 * topic plus inspect()), the shape of a get-context answer, the form of a rejection, and that no
 * promise was left rejected without a handler.
 */
import { expect } from 'vitest';
import * as z from 'zod';
import type { Hub } from '../../../../src/hub/index.js';
import { isHubError } from '../../../../src/protocol/index.js';

/**
 * What a rejected request must leave exactly as it was, as JSON text (members named `constructor`
 * or `__proto__` are legal in relayed resources and confuse deep equality, text does not).
 */
export type AcceptedState = string;

/**
 * Reads the accepted state. Topic entries that hold nothing (no open context, no subscriber) are
 * left out: whether the engine keeps such an empty entry after a rejected request is checked on
 * its own (see engine.test.ts, phantom topics), so the broad properties stay sharp on the rest.
 */
export function acceptedState(hub: Hub): AcceptedState {
  const snap = hub.inspect();
  const topics = snap.topics.filter((t) => t.open.length > 0 || t.subscribers.length > 0 || t.current !== undefined);
  const contexts: Record<string, unknown> = {};
  for (const t of topics) contexts[t.topic] = hub.getContext(t.topic);
  return JSON.stringify({ contexts, inspect: { storage: snap.storage, topics } });
}

/** The exact empty get-context answer (HUB-GET-04). */
export const EMPTY_CONTEXT = { 'context.type': '', context: [] };

const Entry = z.looseObject({ key: z.string() });
const ContentBundle = z.object({
  key: z.literal('content'),
  resource: z.object({
    resourceType: z.literal('Bundle'),
    id: z.string().min(1),
    type: z.literal('collection'),
    entry: z.array(z.object({ fullUrl: z.string().min(3), resource: z.looseObject({ resourceType: z.string().min(1), id: z.string().min(1) }) })),
  }),
});
const NonEmptyContext = z.object({
  'context.type': z.string().regex(/^[A-Z][A-Za-z]+$/),
  'context.versionId': z.string().min(1),
  context: z.array(Entry).min(2),
});

/** Names the resource of a context entry, as `Type/id`, when it names one. */
function named(entry: Record<string, unknown>): string | undefined {
  const res = entry.resource as Record<string, unknown> | undefined;
  if (res && typeof res.resourceType === 'string' && typeof res.id === 'string') return `${res.resourceType}/${res.id}`;
  const ref = (entry.reference as Record<string, unknown> | undefined)?.reference;
  return typeof ref === 'string' ? ref.split('/').slice(-2).join('/') : undefined;
}

/**
 * Checks a get-context answer (HUB-GET-01..04, HUB-CONTENT-11): the exact empty shape, or a typed
 * context with a versionId whose entries name the anchor and end in exactly one content Bundle.
 * It must also survive a JSON round trip unchanged (it is sent as JSON on every door).
 */
export function expectWellFormedContext(answer: unknown): void {
  // Compared as text: members named `constructor` or `__proto__` are legal JSON but confuse deep equality.
  const text = JSON.stringify(answer);
  expect(JSON.stringify(JSON.parse(text))).toBe(text);
  const value = answer as Record<string, unknown>;
  if (value['context.type'] === '') {
    expect(value).toStrictEqual(EMPTY_CONTEXT);
    return;
  }
  const parsed = NonEmptyContext.parse(value);
  const contents = parsed.context.filter((e) => e.key === 'content');
  expect(contents).toHaveLength(1);
  ContentBundle.parse(parsed.context[parsed.context.length - 1]);
  const type = parsed['context.type'];
  expect(parsed.context.some((e) => e.key !== 'content' && named(e)?.startsWith(`${type}/`))).toBe(true);
}

/** Checks an engine rejection: a HubError with a 4xx status and an OperationOutcome (HUB-CHANGE-13). */
export function expectClientRejection(error: unknown, where = 'engine'): asserts error is { status: number } {
  if (!isHubError(error)) throw new Error(`${where} threw something that is not a HubError: ${String(error)}`, { cause: error });
  expect(error.status, `${where}: ${error.message}`).toBeGreaterThanOrEqual(400);
  expect(error.status, `${where}: ${error.message}`).toBeLessThan(500);
  const issue = error.outcome.issue?.[0];
  expect(error.outcome.resourceType).toBe('OperationOutcome');
  expect(issue?.severity).toBe('error');
  expect(typeof issue?.code).toBe('string');
  expect(issue?.diagnostics?.length ?? 0).toBeGreaterThan(0);
}

/** Matches text that looks like a stack trace or an internal file name (HUB-SEC-09). */
export const STACK_TRACE = /\n\s+at\s|\bat [\w.<>]+ \(|node:internal|\.ts:\d+|\.js:\d+/;

/** The form an HTTP rejection must take: `outcome` on context-change paths, `text` on subscription paths. */
export type RejectionForm = 'outcome' | 'text';

/** Checks an HTTP rejection: 4xx, never a stack, and the body form its route promises (HUB-SUB-06, HUB-CHANGE-13). */
export async function expectHttpRejection(res: Response, form: RejectionForm | 'either', what: string): Promise<string> {
  const body = await res.text();
  expect(res.status, `${what}: ${body}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what}: ${body}`).toBeLessThan(500);
  expect(body, what).not.toMatch(STACK_TRACE);
  const type = res.headers.get('content-type') ?? '';
  const actual: RejectionForm = type.startsWith('text/plain') ? 'text' : 'outcome';
  if (form !== 'either') expect(actual, `${what}: answered ${type} ${body.slice(0, 200)}`).toBe(form);
  if (actual === 'text') {
    expect(body.trim().length, what).toBeGreaterThan(0);
  } else {
    expect(type, what).toMatch(/^application\/fhir\+json/);
    const outcome = JSON.parse(body) as { resourceType?: string; issue?: Array<{ severity?: string; code?: string; diagnostics?: string }> };
    expect(outcome.resourceType, what).toBe('OperationOutcome');
    expect(outcome.issue?.[0]?.severity, what).toBe('error');
    expect(typeof outcome.issue?.[0]?.code, what).toBe('string');
    expect(outcome.issue?.[0]?.diagnostics?.length ?? 0, what).toBeGreaterThan(0);
  }
  return body;
}

/**
 * Collects unhandled rejections and uncaught exceptions while a test runs; `check()` fails the
 * test if any happened and removes the listeners.
 */
export function watchUnhandled(): { check(): void } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  const onException = (error: unknown) => seen.push(error);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    check() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
      expect(seen.map(String)).toStrictEqual([]);
    },
  };
}

/** Lets pending promise callbacks and immediate tasks run (no timers involved). */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
