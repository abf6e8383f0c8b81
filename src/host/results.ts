/**
 * Turns what a host call did into a Result the page can rebuild a HubError from. Comlink would
 * keep only an error's message; a Result keeps `status` and the OperationOutcome.
 */
import { HubError, isHubError } from '../protocol/outcome.js';
import type { Result, WireError } from '../link/messages.js';

/** A HubError (or anything shaped like one) in cloneable parts; any other error becomes a bare 500. */
export function toWireError(error: unknown, onInternal?: (error: unknown) => void): WireError {
  if (isHubError(error)) return { status: error.status, outcome: error.outcome };
  onInternal?.(error);
  // No message and no stack reach the page: they may describe the host's internals.
  const hidden = new HubError(500, 'exception', 'the hub failed to process this call; it keeps serving');
  return { status: hidden.status, outcome: hidden.outcome };
}

/** Runs a host operation and answers with its value or its error, never with a throw. */
export async function settle<T>(run: () => T | Promise<T>, onInternal?: (error: unknown) => void): Promise<Result<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error: toWireError(error, onInternal) };
  }
}
