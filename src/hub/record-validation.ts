/**
 * Validation of stored records on load (HUB-SEC-15): zod schemas of the records of records.ts and
 * the sorting of a loaded store by kind. Only a hub whose store holds records needs this, so the
 * engine loads it (with restore.ts) on first use, outside the worker's first load.
 */
import * as z from 'zod/mini';
import { contextKey, parseKey, type ContentRecord, type ContextRecord, type IdentityRecord, type MalformedRecord, type TopicHeader } from './records.js';

const text = z.string();
const nonEmpty = z.string().check(z.minLength(1));
// Only the zod/mini parts the protocol schemas already use: zod's number schema would add itself to
// the worker's first load, since the zod module it lives in is there for the protocol schemas.
const number = z.unknown().check(z.refine((n) => typeof n === 'number' && Number.isFinite(n), 'must be a number'));
const count = z.unknown().check(z.refine((n) => Number.isSafeInteger(n) && (n as number) >= 0, 'must be a whole number, 0 or more'));

const NotificationRecordSchema = z.looseObject({
  timestamp: text,
  id: nonEmpty,
  event: z.looseObject({ 'hub.topic': text, 'hub.event': nonEmpty, context: z.array(z.looseObject({ key: text })) }),
});

/** Schema of {@link TopicHeader}. */
export const TopicHeaderSchema = z.looseObject({ topic: nonEmpty, createdAt: number, seq: count, current: z.optional(nonEmpty) });

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
