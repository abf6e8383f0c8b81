/**
 * Checks of the client API's arguments, made in the page before anything is sent: a call with a
 * missing or ill-typed argument rejects with a HubError 400 that names the argument, instead of a
 * TypeError (or a DataCloneError) with no status. The host checks the values again.
 */
import { badRequest } from '../protocol/outcome.js';

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

/** A non-empty string, or a 400 naming `what`. */
export function requireText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw badRequest(`${what} must be a non-empty string, got ${describe(value)}`, 'required');
  return value;
}

/** A plain object (not null, not an array), or a 400 naming `what`. */
export function requireObject<T extends object>(value: unknown, what: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(`${what} must be an object, got ${describe(value)}`, 'structure');
  return value as T;
}

/** A function, or a 400 naming `what`. */
export function requireFunction<T extends (...args: never[]) => unknown>(value: unknown, what: string): T {
  if (typeof value !== 'function') throw badRequest(`${what} must be a function, got ${describe(value)}`, 'required');
  return value as T;
}

