/**
 * The engine's stored records and their keys (DESIGN.md "State at any size"). State is per key: a
 * topic header, one record per open context, one record per shared content resource, and the
 * identity record. Every storage (memory, LMDB, IndexedDB, Redis) stores exactly these keys and
 * values; a change writes only the keys it touched. Records are validated with zod when loaded
 * (record-validation.ts, which loads only when a store holds records).
 *
 * Key scheme (in each part `%` is written `%25` and `/` is written `%2F`, so `/` only ever
 * separates parts):
 * - `identity`: the users file's salted secret hash and user → topic map;
 * - `topic/<topic>`: {@link TopicHeader};
 * - `ctx/<topic>/<Type>/<id>`: {@link ContextRecord} of the open context anchored at Type/id;
 * - `res/<topic>/<Type>/<id>/<ResType>/<resId>`: {@link ContentRecord}, one shared resource of it.
 * All keys of one topic share the prefix returned by {@link topicPrefixes}.
 */
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

/** A stored record that failed validation: its key and why (never its content, which may hold PHI). */
export interface MalformedRecord {
  key: string;
  reason: string;
}
