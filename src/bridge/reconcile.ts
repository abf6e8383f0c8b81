/**
 * After a (re)connect the remote hub is the source of truth: its current context is compared with
 * the local one, and when they differ the bridge publishes on the local topic whatever makes the
 * local current context the remote's. Pure functions; the bridge does the publishing.
 */
import { entryIdentity, type ContextEntry } from '../protocol/index.js';
import type { RemoteContext } from './frames.js';

/** An event that brings the local topic in step: name and context. */
export interface ReconcileEvent {
  name: string;
  context: ContextEntry[];
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * What a context is about: each entry's key and the resource it names (`Type/id`). Two hubs may
 * spell the same resource differently (element order, elements a hub drops), so resources count
 * as equal by identity; entries without one are compared by value.
 */
function signature(context: RemoteContext): string {
  const parts = context.entries.map((entry) => {
    const identity = entryIdentity(entry);
    return identity ? `${entry.key}=${identity.type}/${identity.id}` : `${entry.key}~${canonicalJson(entry)}`;
  });
  return `${context.type.toLowerCase()}|${parts.sort().join('|')}`;
}

/** True when both hubs have the same current context. */
export function sameContext(a: RemoteContext, b: RemoteContext): boolean {
  if (a.type === '' && b.type === '') return true;
  return signature(a) === signature(b);
}

/**
 * The local event that adopts the remote's current context, or undefined when nothing is to do.
 * The remote has one → `<Type>-open` with its context. The remote has none but the local topic
 * has → `<Type>-close` of the local current anchor (its other open contexts stay open).
 */
export function reconcileEvent(remote: RemoteContext, local: RemoteContext): ReconcileEvent | undefined {
  if (sameContext(remote, local)) return undefined;
  if (remote.type !== '') return { name: `${remote.type}-open`, context: remote.entries };
  if (local.type !== '') return { name: `${local.type}-close`, context: local.entries };
  return undefined;
}
