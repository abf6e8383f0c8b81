/**
 * Event-name recognition: catalog names (any case), 2019 legacy aliases, `<ResourceType>-<verb>` for
 * other resource types, and reverse-domain organisation events (HUB-CHANGE-11).
 */
import { ANCHOR_KEYS, catalogEvent, type EventDefinition, type EventKind, type ContextKeyRule } from './catalog.js';
import { canonicalResourceType } from './resource-types.js';
import { MAX_EVENT_NAME_LENGTH } from './name-limits.js';

/** 2019 proposal names (lower case) and the STU3 event each stands for (HUB-LEGACY-01). */
export const LEGACY_ALIASES: Readonly<Record<string, string>> = {
  'open-imaging-study': 'ImagingStudy-open',
  'switch-imaging-study': 'ImagingStudy-open',
  'close-imaging-study': 'ImagingStudy-close',
  'user-logout': 'userLogout',
};

/** The STU3 event a legacy name stands for; own entries only, so `constructor` or `__proto__` name nothing. */
export function legacyAlias(lower: string): string | undefined {
  return Object.hasOwn(LEGACY_ALIASES, lower) ? LEGACY_ALIASES[lower] : undefined;
}

/** Names a subscriber may list in `hub.events` that are not events one can publish. */
const SUBSCRIBE_ONLY = new Set(['heartbeat']);

const REVERSE_DOMAIN = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+$/;

export { MAX_EVENT_NAME_LENGTH } from './name-limits.js';
const RESOURCE_EVENT = /^([A-Za-z]+)-(open|close|update|select)$/i;

/** A recognised event name. */
export interface ResolvedEvent {
  /** The STU3 spelling (catalog name, `<Type>-<verb>`, or the organisation name as given). */
  name: string;
  definition: EventDefinition;
  /** Set when the request used a 2019 name. */
  legacy?: string;
}

// Bounded: keys are R4 resource types (a fixed list) times four verbs.
const generatedDefinitions = new Map<string, EventDefinition>();

function resourceEventDefinition(type: string, verb: string): EventDefinition {
  const name = `${type}-${verb}`;
  let def = generatedDefinitions.get(name);
  if (!def) {
    const anchorKey = ANCHOR_KEYS[type] ?? type.toLowerCase();
    const keys: ContextKeyRule[] =
      verb === 'update'
        ? [{ key: anchorKey, min: 1, max: 1, resourceType: type, shape: 'reference' }, { key: 'updates', min: 1, max: 1, resourceType: 'Bundle', shape: 'resource' }]
        : verb === 'select'
          ? [{ key: anchorKey, min: 1, max: 1, resourceType: type, shape: 'reference' }]
          : [{ key: anchorKey, min: 0, max: 1, resourceType: type, shape: 'resource' }];
    def = { name, kind: verb as EventKind, anchorType: type, anchorKey, keys, catalog: false };
    generatedDefinitions.set(name, def);
  }
  return def;
}

/**
 * Recognises an event name for publishing, or returns undefined when the hub does not know it or
 * it is longer than MAX_EVENT_NAME_LENGTH. Nothing is remembered: organisation names come from
 * clients, and a cache of them grew with every request, refused ones included (HUB-SEC-11).
 */
export function resolveEventName(raw: string): ResolvedEvent | undefined {
  const name = raw.trim();
  if (name.length > MAX_EVENT_NAME_LENGTH) return undefined;
  const lower = name.toLowerCase();
  const fromCatalog = catalogEvent(lower);
  if (fromCatalog) return { name: fromCatalog.name, definition: fromCatalog };
  const alias = legacyAlias(lower);
  if (alias) {
    const def = catalogEvent(alias)!;
    return { name: def.name, definition: def, legacy: lower };
  }
  const m = RESOURCE_EVENT.exec(name);
  if (m) {
    const type = canonicalResourceType(m[1]!);
    if (!type) return undefined;
    const verb = m[2]!.toLowerCase();
    const catalogRow = catalogEvent(`${type}-${verb}`);
    if (catalogRow) return { name: catalogRow.name, definition: catalogRow };
    const def = resourceEventDefinition(type, verb);
    return { name: def.name, definition: def };
  }
  if (REVERSE_DOMAIN.test(name)) {
    // Organisation events carry no context rules and never change state; a definition is two words.
    return { name, definition: { name, kind: 'custom', keys: [], catalog: false } };
  }
  return undefined;
}

/** One normalised entry of a subscription's `hub.events`. */
export type EventFilter =
  | { kind: 'all' }
  | { kind: 'resource'; type: string; text: string }
  | { kind: 'name'; lower: string; text: string }
  | { kind: 'legacy'; lower: string; stu3Lower: string };

/** Parses one `hub.events` entry, or returns undefined when it names nothing the hub knows (HUB-SUB-05). */
export function parseEventFilter(raw: string): EventFilter | undefined {
  const entry = raw.trim();
  if (entry === '*') return { kind: 'all' };
  const lower = entry.toLowerCase();
  const wildcard = /^([A-Za-z]+)-\*$/.exec(entry);
  if (wildcard) {
    const type = canonicalResourceType(wildcard[1]!);
    return type ? { kind: 'resource', type: type.toLowerCase(), text: `${type}-*` } : undefined;
  }
  if (SUBSCRIBE_ONLY.has(lower)) return { kind: 'name', lower, text: lower };
  const alias = legacyAlias(lower);
  if (alias) return { kind: 'legacy', lower, stu3Lower: alias.toLowerCase() };
  const resolved = resolveEventName(entry);
  if (!resolved) return undefined;
  return { kind: 'name', lower: resolved.name.toLowerCase(), text: resolved.name };
}

/** The text of a filter as the confirmation echoes it. */
export function filterText(filter: EventFilter): string {
  switch (filter.kind) {
    case 'all':
      return '*';
    case 'legacy':
      return filter.lower;
    default:
      return filter.text;
  }
}

/**
 * Decides whether a subscription's filters match an event, and under which name it is delivered
 * (HUB-NOTIFY-03/04/05, HUB-LEGACY-03). Returns undefined when the event does not match.
 */
export function matchEvent(filters: readonly EventFilter[], canonicalName: string, deliveredName: string): string | undefined {
  const lower = canonicalName.toLowerCase();
  const dash = lower.lastIndexOf('-');
  const resourceLower = dash > 0 ? lower.slice(0, dash) : undefined;
  let legacyName: string | undefined;
  for (const f of filters) {
    if (f.kind === 'all') return deliveredName;
    if (f.kind === 'name' && f.lower === lower) return deliveredName;
    if (f.kind === 'resource' && resourceLower === f.type) return deliveredName;
    if (f.kind === 'legacy' && f.stu3Lower === lower) {
      // `open-imaging-study` is preferred over `switch-imaging-study` when both are listed.
      if (!legacyName || f.lower === 'open-imaging-study') legacyName = f.lower;
    }
  }
  return legacyName;
}
