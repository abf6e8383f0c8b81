/**
 * Checks an event's `context` against its catalog row (HUB-CHANGE-09/10/12, HUB-INFRA-01/04):
 * required and repeated keys, resource types, and the `id` of resources in opens and closes.
 */
import type { ContextKeyRule, EventDefinition } from './catalog.js';
import type { ContextEntry } from './messages.js';
import { badRequest } from './outcome.js';

/** A resource's identity: type and logical id. */
export interface ResourceIdentity {
  type: string;
  id: string;
}

/** Reads `Type/id` from a relative or absolute reference (a trailing `_history/v` is ignored). */
export function parseReference(reference: string): ResourceIdentity | undefined {
  const parts = reference.split('?')[0]!.split('/').filter(Boolean);
  const hist = parts.lastIndexOf('_history');
  const usable = hist >= 0 ? parts.slice(0, hist) : parts;
  if (usable.length < 2) return undefined;
  const id = usable[usable.length - 1]!;
  const type = usable[usable.length - 2]!;
  return /^[A-Z][A-Za-z]+$/.test(type) && id ? { type, id } : undefined;
}

/** The identity named by a context entry, whether it holds a resource or a Reference. */
export function entryIdentity(entry: ContextEntry | undefined): ResourceIdentity | undefined {
  if (!entry) return undefined;
  const res = entry.resource;
  if (res && typeof res === 'object' && typeof res.resourceType === 'string' && typeof res.id === 'string' && res.id) {
    return { type: res.resourceType, id: res.id };
  }
  const ref = entry.reference;
  if (ref && typeof ref === 'object' && typeof ref.reference === 'string') return parseReference(ref.reference);
  return undefined;
}

function checkEntry(eventName: string, rule: ContextKeyRule, entry: ContextEntry, needsId: boolean): void {
  const where = `${eventName}: context key "${rule.key}"`;
  const res = entry.resource as Record<string, unknown> | undefined;
  if (rule.shape === 'resource' || res !== undefined) {
    if (typeof res !== 'object' || res === null || Array.isArray(res) || typeof res.resourceType !== 'string') {
      throw badRequest(`${where} must hold a FHIR resource in "resource"${rule.resourceType ? ` of type ${rule.resourceType}` : ''}`, 'structure');
    }
    if (rule.resourceType && res.resourceType !== rule.resourceType) {
      throw badRequest(`${where} must hold a ${rule.resourceType}, not a ${res.resourceType}`, 'value');
    }
    if (needsId && (typeof res.id !== 'string' || res.id === '')) {
      throw badRequest(`${where}: the ${res.resourceType} has no id (opens and closes must name resources by id)`, 'required');
    }
    return;
  }
  const ref = entry.reference as Record<string, unknown> | undefined;
  if (typeof ref !== 'object' || ref === null || typeof ref.reference !== 'string') {
    throw badRequest(`${where} must hold a Reference ("reference": {"reference": "Type/id"}) or a resource`, 'structure');
  }
  if (rule.resourceType) {
    const identity = parseReference(ref.reference);
    if (!identity || identity.type !== rule.resourceType) {
      throw badRequest(`${where} must reference a ${rule.resourceType} (got ${JSON.stringify(ref.reference)})`, 'value');
    }
  }
}

/**
 * Validates and returns the context entries of an event. Unknown keys are relayed unchanged;
 * organisation (reverse-domain) events are not checked beyond being an array.
 */
export function validateContext(
  definition: EventDefinition,
  eventName: string,
  context: readonly unknown[],
  options: { allowEmpty?: boolean } = {},
): ContextEntry[] {
  if (definition.kind === 'custom') return context as ContextEntry[];
  context.forEach((entry, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || typeof (entry as ContextEntry).key !== 'string') {
      throw badRequest(`${eventName}: context[${i}] must be an object with a string "key"`, 'structure');
    }
  });
  const entries = context as ContextEntry[];
  if (definition.emptyContext && entries.length > 0) {
    throw badRequest(`${eventName} must have an empty context, got ${entries.length} entries`, 'value');
  }
  if (options.allowEmpty && entries.length === 0) return entries;
  const needsId = definition.kind === 'open' || definition.kind === 'close';
  for (const rule of definition.keys) {
    const matching = entries.filter((e) => e.key === rule.key);
    if (matching.length < rule.min) {
      throw badRequest(`${eventName}: required context key "${rule.key}"${rule.resourceType ? ` (${rule.resourceType})` : ''} is missing`, 'required');
    }
    if (matching.length > rule.max) {
      throw badRequest(`${eventName}: context key "${rule.key}" appears ${matching.length} times but at most ${rule.max} is allowed`, 'structure');
    }
    for (const entry of matching) checkEntry(eventName, rule, entry, needsId && definition.catalog);
  }
  if (needsId && definition.anchorKey) {
    const anchor = entries.find((e) => e.key === definition.anchorKey);
    if (anchor) checkEntry(eventName, definition.keys.find((k) => k.key === definition.anchorKey)!, anchor, true);
  }
  return entries;
}
