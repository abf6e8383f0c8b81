/**
 * Request context change (fhircast-spec.md §5): checking a request against the catalog, and what
 * an accepted event does to a topic's open contexts (opens, closes, content updates, derived opens).
 */
import {
  badRequest,
  conflict,
  entryIdentity,
  notFound,
  notificationSpelling,
  tooLarge,
  resolveEventName,
  validateContext,
  validateTopic,
  type ContextEntry,
  type EventDefinition,
  type Notification,
  type ResourceIdentity,
} from '../protocol/index.js';
import { parseChange } from './change-parser.js';
import { readContentChanges } from './content-sharing.js';
import type { BroadcastOptions } from './delivery.js';
import type { DerivedOpen, OpenContext, RecordChanges, TopicState } from './topic-state.js';

/** A request that passed every check, as the notification the hub will send. */
export interface CheckedChange {
  topic: string;
  /** The catalog name of the event. */
  name: string;
  definition: EventDefinition;
  notification: Notification;
}

/**
 * Checks a context change against the catalog: topic, event name, required keys, cardinality and
 * resource types. Throws HubError 400 naming the problem; changes nothing. The change parser must
 * have loaded (`loadChangeParser`, which `Hub.create` starts).
 */
export function checkChange(body: unknown, pathTopic: string | undefined, now: number): CheckedChange {
  const request = parseChange(body);
  const event = request.event;
  const rawName = event['hub.event'];
  const bodyTopic = event['hub.topic'];
  if (pathTopic !== undefined && bodyTopic !== undefined && bodyTopic !== pathTopic) {
    throw badRequest(`${rawName}: event.hub.topic ${JSON.stringify(bodyTopic)} differs from the topic in the URL ${JSON.stringify(pathTopic)}`, 'value');
  }
  const topic = validateTopic(bodyTopic ?? pathTopic, `${rawName}: event.hub.topic`);
  const resolved = resolveEventName(rawName);
  if (!resolved) throw badRequest(`event.hub.event ${JSON.stringify(rawName)} is not an event this hub knows (catalog, <ResourceType>-open/close/update/select, or a reverse-domain name)`, 'not-supported');
  const definition = resolved.definition;
  const context = validateContext(definition, resolved.name, event.context, { allowEmpty: resolved.legacy === 'user-logout' });
  const notification: Notification = {
    timestamp: request.timestamp ?? new Date(now).toISOString(),
    id: request.id,
    event: { ...event, 'hub.topic': topic, 'hub.event': notificationSpelling(resolved.name), context },
  };
  return { topic, name: resolved.name, definition, notification };
}

/** What applying an event needs from the engine. */
export interface ApplyEnvironment {
  /** A new unguessable id (version ids, derived event ids). */
  newId(): string;
  /** The bounds in force (HUB-BOUND-03/04). */
  maxOpenContexts: number;
  maxContentBytes: number;
}

/** One notification to fan out to the topic's subscribers. */
export interface Broadcast {
  /** Catalog name the subscribers' filters are matched against. */
  canonical: string;
  notification: Notification;
  /** Derived opens, for subscribers of the implied events only (HUB-CTX-09..13). */
  derived: readonly DerivedOpen[];
  options: BroadcastOptions;
}

/** What an accepted event did: the records to persist and the notifications to send. */
export interface ChangeOutcome {
  /** Every storage record the change touched (HUB-BOUND-02); empty when stored state is unchanged. */
  records: RecordChanges;
  /** What to send, in order. */
  broadcasts: Broadcast[];
  /** Contexts forgotten to stay within the open-context bound (HUB-BOUND-03). */
  forgotten: OpenContext[];
}

/**
 * Applies an accepted event to the topic and says what to persist and send; sends nothing itself.
 * Throws HubError 404 (update or select of a context that is not open), 409 (stale version), 413
 * (content past its bound) or 400 before anything is changed. The checked change is not modified:
 * the broadcast notification is a new object.
 */
export function applyEvent(state: TopicState, change: CheckedChange, env: ApplyEnvironment): ChangeOutcome {
  const { definition: def, name } = change;
  const records: RecordChanges = new Map();
  const out: ChangeOutcome = { records, broadcasts: [], forgotten: [] };
  const send = (notification: Notification, derived: readonly DerivedOpen[] = [], options: BroadcastOptions = {}) => out.broadcasts.push({ canonical: name, notification, derived, options });
  const event = { ...change.notification.event };
  const notification: Notification = { ...change.notification, event };
  const context = event.context;
  const anchorEntry = def.anchorKey ? context.find((e) => e.key === def.anchorKey) : undefined;
  const anchor = entryIdentity(anchorEntry);
  switch (def.kind) {
    case 'open': {
      if (!anchor) break; // a relay-only open without an identifiable anchor: nothing to keep
      const versionId = env.newId();
      event['context.versionId'] = versionId;
      delete event['context.priorVersionId'];
      const { implied, live } = deriveOpens(state, def, notification, env.newId);
      out.forgotten = state.open(anchor, notification, versionId, env.newId, implied, env.maxOpenContexts, records);
      send(notification, live);
      return out;
    }
    case 'close': {
      if (anchor) state.close(anchor, records);
      send(notification);
      return out;
    }
    case 'update': {
      const ctx = openAnchor(state, def, anchor, name);
      const versionId = event['context.versionId'] ?? (event.versionId as string | undefined);
      if (typeof versionId !== 'string' || versionId === '') {
        throw badRequest(`${name}: context.versionId is required on updates (the version your content is based on)`, 'required');
      }
      const updates = context.find((e) => e.key === 'updates')?.resource as Record<string, unknown> | undefined;
      const changes = readContentChanges(name, updates ?? {});
      if (versionId !== ctx.versionId) {
        throw conflict(`${name}: context.versionId ${JSON.stringify(versionId)} is stale; the current version of ${ctx.anchorType}/${ctx.anchorId} is ${JSON.stringify(ctx.versionId)}. Read the context again and retry`);
      }
      const bytes = state.contentBytesAfter(ctx, changes);
      if (bytes > env.maxContentBytes) {
        throw tooLarge(`${name}: the shared content of ${ctx.anchorType}/${ctx.anchorId} would hold ${bytes} bytes of JSON, more than this hub's limit of ${env.maxContentBytes}; nothing was applied`);
      }
      const next = env.newId();
      state.updateContent(ctx, changes, next, records);
      event['context.versionId'] = next;
      event['context.priorVersionId'] = versionId;
      send(notification);
      return out;
    }
    case 'select': {
      openAnchor(state, def, anchor, name);
      send(notification);
      return out;
    }
    case 'home':
      state.clearCurrent(records);
      send(notification);
      return out;
    case 'logout':
      state.closeAll(records);
      send(notification);
      return out;
    case 'syncerror':
      send(notification, [], { track: false });
      return out;
    default:
      break;
  }
  send(notification);
  return out;
}

function openAnchor(state: TopicState, def: EventDefinition, anchor: ResourceIdentity | undefined, name: string): OpenContext {
  const ctx = anchor ? state.find(anchor) : undefined;
  if (!ctx) {
    const what = anchor ? `${anchor.type}/${anchor.id}` : `the ${def.anchorKey} named`;
    throw notFound(`${name}: ${what} is not an open context on this topic; open it first`);
  }
  return ctx;
}

/**
 * Computes the derived opens of an open event (fhircast-spec.md §6.4, HUB-CTX-09..13): every
 * implied open is kept with the context (a later catch-up may need it, HUB-CTX-06), but only
 * those whose resource is not open yet go out live (HUB-CTX-13).
 */
function deriveOpens(state: TopicState, def: EventDefinition, source: Notification, newId: () => string): { implied: DerivedOpen[]; live: DerivedOpen[] } {
  const derived: DerivedOpen[] = [];
  const live: DerivedOpen[] = [];
  for (const implied of def.implies ?? []) {
    const entries = source.event.context.filter((e) => e.key === implied.fromKey);
    for (const entry of entries) {
      const identity = entryIdentity(entry);
      if (!identity) continue;
      const alreadyOpen = state.isOpen(identity);
      const extra = source.event.context.filter((e) => implied.withKeys.includes(e.key));
      const context: ContextEntry[] = [entry, ...extra];
      const open: DerivedOpen = {
        event: implied.event,
        type: identity.type,
        id: identity.id,
        notification: {
          timestamp: source.timestamp,
          id: newId(),
          event: { 'hub.topic': source.event['hub.topic'], 'hub.event': implied.event, context, 'context.versionId': newId() },
        },
      };
      derived.push(open);
      if (!alreadyOpen) live.push(open);
    }
  }
  return { implied: derived, live };
}

/** Best-effort topic, event name and id of a (possibly malformed) request, for the activity log. */
export function describeRequest(body: unknown, pathTopic: string | undefined): { topic?: string; event?: string; eventId?: string } {
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const e = typeof b.event === 'object' && b.event !== null ? (b.event as Record<string, unknown>) : {};
  return { topic: text(e['hub.topic']) ?? pathTopic, event: text(e['hub.event']), eventId: text(b.id) };
}

/** A short string, or undefined. */
function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.length <= 256 ? v : undefined;
}
