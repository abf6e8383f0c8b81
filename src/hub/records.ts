/**
 * The engine's stored records and their keys (DESIGN.md "State at any size"). State is per key: a
 * topic header, one record per open context, one record per shared content resource, and the
 * identity record. Every storage (memory, LMDB, IndexedDB, Redis) stores exactly these keys and
 * values; a change writes only the keys it touched. Records are validated with zod when loaded.
 *
 * Key scheme (in each part `%` is written `%25` and `/` is written `%2F`, so `/` only ever
 * separates parts):
 * - `identity`: the users file's salted secret hash and user → topic map;
 * - `topic/<topic>`: {@link TopicHeader};
 * - `ctx/<topic>/<Type>/<id>`: {@link ContextRecord} of the open context anchored at Type/id;
 * - `res/<topic>/<Type>/<id>/<ResType>/<resId>`: {@link ContentRecord}, one shared resource of it.
 * All keys of one topic share the prefix returned by {@link topicPrefixes}.
 */
import * as z from 'zod/mini';
import type { Notification, Resource } from '../protocol/index.js';

/** Key of the identity record. */
export const IDENTITY_KEY = 'identity';

const part = (text: string): string => text.replace(/[%/]/g, (c) => (c === '%' ? '%25' : '%2F'));
const unpart = (text: string): string => text.replace(/%(25|2F)/g, (_, code: string) => (code === '25' ? '%' : '/'));

/** Key of a topic's header. */
export const topicKey = (topic: string): string => `topic/${part(topic)}`;

/** Key of the open context anchored at `type/id` on `topic`. */
export const contextKey = (topic: string, type: string, id: string): string => `ctx/${part(topic)}/${part(type)}/${part(id)}`;

/** Key of one shared content resource of an open context. */
export const contentKey = (topic: string, type: string, id: string, resourceType: string, resourceId: string): string =>
  `res/${part(topic)}/${part(type)}/${part(id)}/${part(resourceType)}/${part(resourceId)}`;

/** Prefixes under which every context and content record of `topic` lives (for range scans). */
export const topicPrefixes = (topic: string): { contexts: string; content: string } => ({ contexts: `ctx/${part(topic)}/`, content: `res/${part(topic)}/` });

/** What a key names, read back from the key alone (undefined for a key that is not a record key). */
export type ParsedKey =
  | { kind: 'identity' }
  | { kind: 'topic'; topic: string }
  | { kind: 'context'; topic: string; type: string; id: string }
  | { kind: 'content'; topic: string; type: string; id: string; resourceType: string; resourceId: string };

/** Splits a record key into its parts; undefined when the key is not one of this scheme. */
export function parseKey(key: string): ParsedKey | undefined {
  if (key === IDENTITY_KEY) return { kind: 'identity' };
  const parts = key.split('/');
  const decoded = parts.slice(1).map(unpart);
  const [topic, type, id, resourceType, resourceId] = decoded;
  if (parts[0] === 'topic' && decoded.length === 1) return { kind: 'topic', topic: topic! };
  if (parts[0] === 'ctx' && decoded.length === 3) return { kind: 'context', topic: topic!, type: type!, id: id! };
  if (parts[0] === 'res' && decoded.length === 5) return { kind: 'content', topic: topic!, type: type!, id: id!, resourceType: resourceType!, resourceId: resourceId! };
  return undefined;
}

/** A topic's header: what is not per context. */
export interface TopicHeader {
  topic: string;
  createdAt: number;
  /** Order of the last open on the topic; larger is newer. */
  seq: number;
  /** `Type/id` of the current context, if any. */
  current?: string;
}

/** An open event the hub derived from another (fhircast-spec.md §6.4). */
export interface DerivedOpen {
  /** Implied event name, e.g. Patient-open. */
  event: string;
  type: string;
  id: string;
  notification: Notification;
}

/** One open context, without its content (which is in {@link ContentRecord}s). */
export interface ContextRecord {
  topic: string;
  anchorType: string;
  anchorId: string;
  /** The open notification that made it current (HUB-GET-02), as broadcast. */
  notification: Notification;
  versionId: string;
  /** The topic's `seq` at this context's last open. */
  seq: number;
  contentBundleId: string;
  /** Every open the last open implies, also those not sent live because the resource was open (HUB-CTX-13). */
  derived: DerivedOpen[];
}

/** One shared content resource of an open context. */
export interface ContentRecord {
  /** Position in the content: content is listed by ascending order (insertion order, HUB-CONTENT-11). */
  order: number;
  resource: Resource;
}

/** The identity record (users file): no secret in clear. */
export interface IdentityRecord {
  salt: string;
  secretHash: string;
  /** username → topic */
  users: Record<string, string>;
}

const text = z.string();
const nonEmpty = z.string().check(z.minLength(1));
// Only the zod/mini parts the protocol schemas already use (plus number), to keep the worker small.
const count = z.number().check(z.refine((n) => Number.isSafeInteger(n) && n >= 0, 'must be a whole number, 0 or more'));

const NotificationRecordSchema = z.looseObject({
  timestamp: text,
  id: nonEmpty,
  event: z.looseObject({ 'hub.topic': text, 'hub.event': nonEmpty, context: z.array(z.looseObject({ key: text })) }),
});

/** Schema of {@link TopicHeader}. */
export const TopicHeaderSchema = z.looseObject({ topic: nonEmpty, createdAt: z.number(), seq: count, current: z.optional(nonEmpty) });

/** Schema of {@link ContextRecord}. */
export const ContextRecordSchema = z.looseObject({
  topic: nonEmpty,
  anchorType: nonEmpty,
  anchorId: nonEmpty,
  notification: NotificationRecordSchema,
  versionId: nonEmpty,
  seq: count,
  contentBundleId: nonEmpty,
  derived: z.array(z.looseObject({ event: nonEmpty, type: nonEmpty, id: nonEmpty, notification: NotificationRecordSchema })),
});

/** Schema of {@link ContentRecord}. */
export const ContentRecordSchema = z.looseObject({ order: count, resource: z.looseObject({ resourceType: nonEmpty, id: nonEmpty }) });

/** Schema of {@link IdentityRecord}. */
export const IdentityRecordSchema = z.looseObject({
  salt: nonEmpty,
  secretHash: nonEmpty,
  users: z.looseObject({}).check(z.refine((users) => Object.values(users).every((t) => typeof t === 'string'), 'every user must map to a topic')),
});

/** A stored record that failed validation: its key and why (never its content, which may hold PHI). */
export interface MalformedRecord {
  key: string;
  reason: string;
}

/** Every valid record of a loaded store, by kind; malformed ones are listed instead. */
export interface LoadedRecords {
  identity?: IdentityRecord;
  headers: Map<string, TopicHeader>;
  /** topic → context records */
  contexts: Map<string, ContextRecord[]>;
  /** context key → content records with their resource keys */
  content: Map<string, Array<{ key: string; record: ContentRecord }>>;
  malformed: MalformedRecord[];
}

/**
 * Sorts and validates everything `loadAll()` returned (issue 19 item 7, HUB-SEC-15). A record whose
 * key is unknown, whose value fails its schema, or whose key disagrees with its value is listed in
 * `malformed` and left out.
 */
export function readRecords(stored: ReadonlyMap<string, unknown>): LoadedRecords {
  const out: LoadedRecords = { headers: new Map(), contexts: new Map(), content: new Map(), malformed: [] };
  const bad = (key: string, reason: string) => out.malformed.push({ key, reason });
  for (const [key, value] of stored) {
    const parsed = parseKey(key);
    if (!parsed) {
      bad(key, 'not a key of this hub\u2019s record scheme');
      continue;
    }
    const schema = { identity: IdentityRecordSchema, topic: TopicHeaderSchema, context: ContextRecordSchema, content: ContentRecordSchema }[parsed.kind];
    const result = schema.safeParse(value);
    if (!result.success) {
      bad(key, `a ${parsed.kind} record that does not have the expected shape (${result.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')})`);
      continue;
    }
    switch (parsed.kind) {
      case 'identity':
        out.identity = value as IdentityRecord;
        break;
      case 'topic': {
        const header = value as TopicHeader;
        if (header.topic !== parsed.topic) bad(key, 'a topic header whose topic is not the one in its key');
        else out.headers.set(parsed.topic, header);
        break;
      }
      case 'context': {
        const ctx = value as ContextRecord;
        if (ctx.topic !== parsed.topic || ctx.anchorType !== parsed.type || ctx.anchorId !== parsed.id) {
          bad(key, 'a context record whose topic or anchor is not the one in its key');
          break;
        }
        const list = out.contexts.get(parsed.topic) ?? [];
        list.push(ctx);
        out.contexts.set(parsed.topic, list);
        break;
      }
      case 'content': {
        const rec = value as ContentRecord;
        if (rec.resource.resourceType !== parsed.resourceType || rec.resource.id !== parsed.resourceId) {
          bad(key, 'a content record whose resource is not the one in its key');
          break;
        }
        const owner = contextKey(parsed.topic, parsed.type, parsed.id);
        const list = out.content.get(owner) ?? [];
        list.push({ key, record: rec });
        out.content.set(owner, list);
        break;
      }
    }
  }
  return out;
}
