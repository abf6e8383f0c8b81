/**
 * One HTTP request from the hub to a callback, bounded every way a callback can misbehave: a
 * timeout on the injected timers (so tests use a fake clock), redirects never followed, and at most
 * a few KiB of the answer read. The outcome is a value, never a throw.
 */
import type { WebhookTimers } from './types.js';

/** How a call ended. */
export type CallOutcome =
  | { kind: 'answer'; status: number; text: string }
  | { kind: 'network'; reason: string }
  | { kind: 'timeout' }
  | { kind: 'aborted' };

/** What a call needs. */
export interface CallOut {
  fetch: typeof fetch;
  timers: WebhookTimers;
}

/** Makes the request; `readLimit` bytes of the body at most are read (0 reads none). */
export async function callOut(io: CallOut, url: string, init: RequestInit, timeoutMs: number, readLimit: number, cancel?: AbortSignal): Promise<CallOutcome> {
  const abort = new AbortController();
  let timedOut = false;
  const timer = io.timers.set(() => {
    timedOut = true;
    abort.abort();
  }, timeoutMs);
  const onCancel = () => abort.abort();
  cancel?.addEventListener('abort', onCancel);
  try {
    const response = await io.fetch(url, { ...init, redirect: 'manual', signal: abort.signal });
    const text = await readCapped(response, readLimit);
    return { kind: 'answer', status: response.status, text };
  } catch (error) {
    if (timedOut) return { kind: 'timeout' };
    if (cancel?.aborted) return { kind: 'aborted' };
    return { kind: 'network', reason: error instanceof Error ? error.message : String(error) };
  } finally {
    io.timers.clear(timer);
    cancel?.removeEventListener('abort', onCancel);
  }
}

/** Reads up to `limit` bytes of the body as text, then stops pulling: a huge answer costs nothing. */
async function readCapped(response: Response, limit: number): Promise<string> {
  const body = response.body;
  if (!body) return '';
  if (limit <= 0) {
    await body.cancel().catch(() => undefined);
    return '';
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total <= limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
  const bytes = new Uint8Array(Math.min(total, limit + 1));
  let at = 0;
  for (const c of chunks) {
    const part = c.subarray(0, bytes.byteLength - at);
    bytes.set(part, at);
    at += part.byteLength;
    if (at >= bytes.byteLength) break;
  }
  return new TextDecoder().decode(bytes);
}
