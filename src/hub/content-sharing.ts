/**
 * Reads a content-sharing `updates` Bundle into the changes it asks for, all entries or none
 * (fhircast-spec.md §8.3, HUB-CONTENT-06..10). Applying them is the topic state's job.
 */
import { badRequest, parseReference, tooLarge, type Resource, type ResourceIdentity } from '../protocol/index.js';

/** Largest number of entries one update may carry. */
export const MAX_BUNDLE_ENTRIES = 10_000;

type Change = { method: 'PUT'; identity: ResourceIdentity; resource: Resource } | { method: 'DELETE'; identity: ResourceIdentity };

function readChanges(eventName: string, bundle: Record<string, unknown>): Change[] {
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) throw badRequest(`${eventName}: updates Bundle.entry must be an array`, 'structure');
  if (entries.length > MAX_BUNDLE_ENTRIES) throw tooLarge(`${eventName}: updates Bundle has ${entries.length} entries, more than ${MAX_BUNDLE_ENTRIES}`);
  const seen = new Set<string>();
  return entries.map((raw: unknown, i: number): Change => {
    const where = `${eventName}: updates Bundle.entry[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest(`${where} must be an object`, 'structure');
    const entry = raw as Record<string, unknown>;
    for (const banned of ['search', 'response', 'link']) {
      if (entry[banned] !== undefined) throw badRequest(`${where} must not have "${banned}" in a content-sharing Bundle`, 'structure');
    }
    const request = entry.request as Record<string, unknown> | undefined;
    const method = typeof request?.method === 'string' ? request.method.toUpperCase() : undefined;
    let change: Change;
    if (method === 'PUT') {
      const res = entry.resource as Resource | undefined;
      if (!res || typeof res !== 'object' || typeof res.resourceType !== 'string' || typeof res.id !== 'string' || !res.id) {
        throw badRequest(`${where}: a PUT needs a resource with resourceType and id`, 'required');
      }
      change = { method, identity: { type: res.resourceType, id: res.id }, resource: res };
    } else if (method === 'DELETE') {
      const fromUrl = typeof request?.url === 'string' ? parseReference(request.url) : undefined;
      const fromFullUrl = typeof entry.fullUrl === 'string' ? parseReference(entry.fullUrl) : undefined;
      const res = entry.resource as Resource | undefined;
      const fromResource = res && typeof res.resourceType === 'string' && typeof res.id === 'string' ? { type: res.resourceType, id: res.id } : undefined;
      const identity = fromUrl ?? fromFullUrl ?? fromResource;
      if (!identity) throw badRequest(`${where}: a DELETE must name its target as Type/id in request.url or fullUrl`, 'required');
      change = { method, identity };
    } else {
      throw badRequest(`${where}: request.method must be PUT or DELETE, got ${JSON.stringify(request?.method ?? null)}`, 'value');
    }
    const key = `${change.identity.type}/${change.identity.id}`;
    if (seen.has(key)) throw badRequest(`${eventName}: updates Bundle names ${key} more than once`, 'structure');
    seen.add(key);
    return change;
  });
}

/** One validated change of an `updates` Bundle. */
export type ContentChange = Change;

/** Validates an `updates` Bundle (all entries or none, HUB-CONTENT-06..10); changes nothing. */
export function readContentChanges(eventName: string, bundle: Record<string, unknown>): ContentChange[] {
  return readChanges(eventName, bundle);
}
