/**
 * Responses of the wire. Every error leaves through `errorResponse`, so a reason is written once
 * and reads the same on every route (style.md §6).
 */
import { HubError, isHubError } from '../protocol/index.js';

/**
 * How an error is written: `text` for subscription requests (a plain-text reason, HUB-SUB-06),
 * `outcome` for everything else (an OperationOutcome as FHIR JSON, HUB-CHANGE-13).
 */
export type ErrorForm = 'text' | 'outcome';

const JSON_TYPE = 'application/json';
const FHIR_JSON_TYPE = 'application/fhir+json';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/**
 * A JSON response, always with a body (a JSON Content-Type with an empty body breaks clients,
 * HUB-CHANGE-01). Not cached: topics are bearer tickets and contexts hold PHI.
 */
export function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store' } });
}

/** A response without a body (OPTIONS). */
export function emptyResponse(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers });
}

/**
 * Turns any thrown value into a Response. A HubError keeps its status and reason; anything else
 * is a 500 that says nothing about the cause: no message, no stack (HUB-SEC-09).
 */
export function errorResponse(error: unknown, form: ErrorForm, onInternal?: (error: unknown) => void): Response {
  let hubError: HubError;
  if (isHubError(error)) {
    hubError = error;
  } else {
    onInternal?.(error);
    hubError = new HubError(500, 'exception', 'the hub failed to process this request; it keeps serving');
  }
  const headers: Record<string, string> = {};
  if (hubError.status === 401) headers['www-authenticate'] = 'Bearer';
  const allow = (hubError as { allow?: unknown }).allow;
  if (hubError.status === 405 && typeof allow === 'string') headers.allow = allow;
  const retryAfter = (hubError as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  if (typeof retryAfter === 'number') headers['retry-after'] = String(retryAfter);
  if (form === 'text') {
    const reason = hubError.outcome.issue?.[0]?.diagnostics ?? hubError.message;
    return new Response(reason, { status: hubError.status, headers: { 'content-type': TEXT_TYPE, ...headers } });
  }
  return new Response(JSON.stringify(hubError.outcome), { status: hubError.status, headers: { 'content-type': FHIR_JSON_TYPE, ...headers } });
}

/** 405 for a route that exists but not with this method; `allow` goes into the Allow header. */
export function methodNotAllowed(method: string, allow: readonly string[]): HubError & { allow: string } {
  const err = new HubError(405, 'not-supported', `method ${method} is not allowed here; use ${allow.join(' or ')}`) as HubError & { allow: string };
  err.allow = allow.join(', ');
  return err;
}

/**
 * 429 (this client is over its share) or 503 (the hub as a whole is), with the seconds after
 * which a retry may succeed in the Retry-After header (HUB-SEC-14).
 */
export function retryLater(status: 429 | 503, diagnostics: string, retryAfterSeconds: number): HubError & { retryAfterSeconds: number } {
  const err = new HubError(status, 'transient', diagnostics) as HubError & { retryAfterSeconds: number };
  err.retryAfterSeconds = retryAfterSeconds;
  return err;
}
