/** Verification of intent (HUB-WEBSUB-03): GET the callback with a challenge it must echo. */
import { callOut, type CallOut } from './call-out.js';
import { VERIFY_READ_LIMIT, VERIFY_TIMEOUT_MS } from './types.js';

/** The query of one verification. */
export interface IntentQuery {
  mode: 'subscribe' | 'unsubscribe';
  topic: string;
  events: string;
  challenge: string;
  leaseSeconds: number;
}

/** Resolves undefined when the callback echoed the challenge with a 2xx within 5 s, else the reason. */
export async function verifyIntent(io: CallOut, callback: URL, q: IntentQuery): Promise<string | undefined> {
  const url = new URL(callback);
  url.searchParams.set('hub.mode', q.mode);
  url.searchParams.set('hub.topic', q.topic);
  if (q.events) url.searchParams.set('hub.events', q.events);
  url.searchParams.set('hub.challenge', q.challenge);
  if (q.leaseSeconds > 0) url.searchParams.set('hub.lease_seconds', String(q.leaseSeconds));
  const outcome = await callOut(io, url.href, { method: 'GET' }, VERIFY_TIMEOUT_MS, VERIFY_READ_LIMIT);
  if (outcome.kind === 'timeout') return `no answer within ${VERIFY_TIMEOUT_MS / 1000} s`;
  if (outcome.kind !== 'answer') return `the request failed (${outcome.kind === 'network' ? outcome.reason : 'aborted'})`;
  if (outcome.status < 200 || outcome.status > 299) return `it answered ${outcome.status}`;
  if (outcome.text !== q.challenge) return 'the answer did not echo the challenge';
  return undefined;
}
