/**
 * One topic's state (multi-tab, fhircast-spec.md §6): its header, its open contexts by anchor in
 * order of last open, and each context's shared content by resource. Every mutation names the
 * storage records it touched, so a change writes only those (HUB-BOUND-02); every lookup by anchor
 * is a map lookup, so no change costs more with more open contexts (HUB-BOUND-01).
 */
import type { ContextEntry, GetContextResponse, Notification, Resource, ResourceIdentity } from '../protocol/index.js';
import { jsonBytes } from './bounds.js';
import type { ContentChange } from './content-sharing.js';
import { contentKey, contextKey, topicKey, type ContentRecord, type ContextRecord, type DerivedOpen, type TopicHeader } from './records.js';
import type { Scheduled } from './deadline-heap.js';
import type { HubSubscription } from './subscriptions.js';

export type { DerivedOpen } from './records.js';

/** Produces a record's value at write time; `undefined` deletes the key. */
export type RecordProducer = () => unknown;

/** The storage records one change touched: key → producer of the value to write. */
export type RecordChanges = Map<string, RecordProducer>;

/** One shared content resource with its position and size. */
interface ContentItem {
  order: number;
  resource: Resource;
  bytes: number;
}

/** One open context: its record, plus its content held by resource (`Type/id`). */
export interface OpenContext extends ContextRecord {
  content: Map<string, ContentItem>;
  contentBytes: number;
  nextOrder: number;
}

/** `Type/id` of a resource: the anchor key of the maps below. */
export const resourceRef = (identity: ResourceIdentity): string => `${identity.type}/${identity.id}`;

const DELETE: RecordProducer = () => undefined;

export class TopicState implements Scheduled {
  heapIndex?: number;
  dueAt?: number;
  heapSeq?: number;
  readonly header: TopicHeader;
  /** Open contexts by anchor, least recently opened first. */
  private readonly contexts = new Map<string, OpenContext>();
  /** Anchor → the contexts whose last open implied it (HUB-CTX-13 and closes of derived opens). */
  private readonly impliedBy = new Map<string, Set<OpenContext>>();
  /** The topic's subscriptions, so fan-out costs the topic's subscriber count only. */
  readonly subscribers = new Set<HubSubscription>();
  /** Last open, close, update, subscribe or unsubscribe (HUB-BOUND-05 idle clock). */
  lastActiveAt: number;
  /** A topic of a user group (HUB-ID): never forgotten for idleness. */
  pinned = false;

  constructor(header: TopicHeader, now: number) {
    this.header = header;
    this.lastActiveAt = now;
  }

  /** Puts a context read from storage back, with its content records. */
  restore(record: ContextRecord, content: readonly ContentRecord[]): void {
    const sorted = [...content].sort((a, b) => a.order - b.order);
    const ctx: OpenContext = { ...record, content: new Map(), contentBytes: 0, nextOrder: 0 };
    for (const item of sorted) {
      const bytes = jsonBytes(item.resource);
      ctx.content.set(resourceRef({ type: item.resource.resourceType, id: item.resource.id! }), { order: item.order, resource: item.resource, bytes });
      ctx.contentBytes += bytes;
      ctx.nextOrder = item.order + 1;
    }
    this.contexts.set(resourceRef({ type: record.anchorType, id: record.anchorId }), ctx);
  }

  /** Orders restored contexts by their last open and indexes their derived opens; call once after `restore`s. */
  finishRestore(): void {
    const ordered = [...this.contexts.values()].sort((a, b) => a.seq - b.seq);
    this.contexts.clear();
    for (const ctx of ordered) {
      this.contexts.set(resourceRef({ type: ctx.anchorType, id: ctx.anchorId }), ctx);
      this.index(ctx);
    }
  }

  get topic(): string {
    return this.header.topic;
  }

  /** Number of open contexts. */
  get size(): number {
    return this.contexts.size;
  }

  /** No subscriber and no open context: the topic may be forgotten once idle (HUB-BOUND-05). */
  get empty(): boolean {
    return this.contexts.size === 0 && this.subscribers.size === 0;
  }

  /** Open contexts, least recently opened first. */
  openContexts(): IterableIterator<OpenContext> {
    return this.contexts.values();
  }

  /** The open context of an anchor. */
  find(identity: ResourceIdentity): OpenContext | undefined {
    return this.contexts.get(resourceRef(identity));
  }

  /** The current context, if any. */
  current(): OpenContext | undefined {
    return this.header.current === undefined ? undefined : this.contexts.get(this.header.current);
  }

  /** True when a resource is open on the topic, as an anchor or through a derived open (HUB-CTX-13). */
  isOpen(identity: ResourceIdentity): boolean {
    const ref = resourceRef(identity);
    return this.contexts.has(ref) || (this.impliedBy.get(ref)?.size ?? 0) > 0;
  }

  /**
   * Opens (or re-opens) a context and makes it current (HUB-CTX-01/02). A re-open keeps the
   * content (HUB-CONTENT-16). Beyond `maxOpen`, the least recently opened context that is not
   * current is forgotten with its content (HUB-BOUND-03); those are returned.
   */
  open(identity: ResourceIdentity, notification: Notification, versionId: string, newBundleId: () => string, derived: DerivedOpen[], maxOpen: number, touched: RecordChanges): OpenContext[] {
    const ref = resourceRef(identity);
    this.header.seq += 1;
    let ctx = this.contexts.get(ref);
    if (ctx) {
      this.unindex(ctx);
      this.contexts.delete(ref); // re-inserted below: the map stays in order of last open
      ctx.notification = notification;
      ctx.versionId = versionId;
      ctx.seq = this.header.seq;
      ctx.derived = derived; // the latest open's context defines what it implies
    } else {
      ctx = { topic: this.topic, anchorType: identity.type, anchorId: identity.id, notification, versionId, seq: this.header.seq, contentBundleId: newBundleId(), derived, content: new Map(), contentBytes: 0, nextOrder: 0 };
    }
    this.contexts.set(ref, ctx);
    this.index(ctx);
    this.header.current = ref;
    this.touchHeader(touched);
    this.touchContext(ctx, touched);
    const forgotten: OpenContext[] = [];
    for (const old of this.contexts.values()) {
      if (this.contexts.size <= maxOpen) break;
      if (old === ctx || resourceRef({ type: old.anchorType, id: old.anchorId }) === this.header.current) continue;
      this.drop(old, touched);
      forgotten.push(old);
    }
    return forgotten;
  }

  /**
   * Closes the context of an anchor, if open (HUB-CTX-03/04/05), dropping its content
   * (HUB-CONTENT-15), and removes the anchor from the derived opens of other contexts. Every
   * record this changes is in `touched`, derived opens included.
   */
  close(identity: ResourceIdentity, touched: RecordChanges): void {
    const ref = resourceRef(identity);
    const ctx = this.contexts.get(ref);
    if (ctx) this.drop(ctx, touched);
    const implying = this.impliedBy.get(ref);
    if (implying) {
      this.impliedBy.delete(ref);
      for (const other of implying) {
        other.derived = other.derived.filter((d) => !(d.type === identity.type && d.id === identity.id));
        this.touchContext(other, touched);
      }
    }
    if (this.header.current === ref) {
      this.header.current = undefined;
      this.touchHeader(touched);
    }
  }

  /** Leaves every context open but none current (Home-open, HUB-INFRA-05). */
  clearCurrent(touched: RecordChanges): void {
    if (this.header.current === undefined) return;
    this.header.current = undefined;
    this.touchHeader(touched);
  }

  /** Drops every context and its content (userLogout, HUB-INFRA-02). */
  closeAll(touched: RecordChanges): void {
    for (const ctx of [...this.contexts.values()]) this.drop(ctx, touched);
    this.impliedBy.clear();
    this.header.current = undefined;
    this.touchHeader(touched);
  }

  /** Bytes of JSON the context's content would hold after `changes`. */
  contentBytesAfter(ctx: OpenContext, changes: readonly ContentChange[]): number {
    let bytes = ctx.contentBytes;
    for (const change of changes) {
      bytes -= ctx.content.get(resourceRef(change.identity))?.bytes ?? 0;
      if (change.method === 'PUT') bytes += jsonBytes(change.resource);
    }
    return bytes;
  }

  /** Applies checked content changes and the new version; a PUT of a held resource keeps its place. */
  updateContent(ctx: OpenContext, changes: readonly ContentChange[], versionId: string, touched: RecordChanges): void {
    for (const change of changes) {
      const ref = resourceRef(change.identity);
      const held = ctx.content.get(ref);
      const key = contentKey(this.topic, ctx.anchorType, ctx.anchorId, change.identity.type, change.identity.id);
      if (change.method === 'PUT') {
        const bytes = jsonBytes(change.resource);
        const item: ContentItem = { order: held?.order ?? ctx.nextOrder++, resource: change.resource, bytes };
        ctx.contentBytes += bytes - (held?.bytes ?? 0);
        ctx.content.set(ref, item);
        touched.set(key, () => ({ order: item.order, resource: item.resource }) satisfies ContentRecord);
      } else if (held) {
        ctx.contentBytes -= held.bytes;
        ctx.content.delete(ref);
        touched.set(key, DELETE);
      }
    }
    ctx.versionId = versionId;
    this.touchContext(ctx, touched);
  }

  /** The get-current-context answer (HUB-GET-01..04, HUB-CONTENT-11). */
  getContext(): GetContextResponse {
    const ctx = this.current();
    if (!ctx) return { 'context.type': '', context: [] };
    const openEntries = ctx.notification.event.context.filter((e) => e.key !== 'content');
    const content: ContextEntry = {
      key: 'content',
      resource: {
        resourceType: 'Bundle',
        id: ctx.contentBundleId,
        type: 'collection',
        entry: [...ctx.content.values()].map(({ resource: r }) => ({ fullUrl: `${r.resourceType}/${r.id}`, resource: r })),
      },
    };
    return { 'context.type': ctx.anchorType, 'context.versionId': ctx.versionId, context: [...openEntries, content] };
  }

  /** The header record, and every record of the topic for a full rewrite (tests, migrations). */
  touchHeader(touched: RecordChanges): void {
    const header = this.header;
    touched.set(topicKey(this.topic), () => ({ topic: header.topic, createdAt: header.createdAt, seq: header.seq, ...(header.current === undefined ? {} : { current: header.current }) }) satisfies TopicHeader);
  }

  /** Deletes the header record (the topic is forgotten; it holds no context by then). */
  forget(touched: RecordChanges): void {
    touched.set(topicKey(this.topic), DELETE);
  }

  private touchContext(ctx: OpenContext, touched: RecordChanges): void {
    touched.set(contextKey(this.topic, ctx.anchorType, ctx.anchorId), () => toContextRecord(ctx));
  }

  /** Removes a context, its content and its derived-open index entries, and deletes their records. */
  private drop(ctx: OpenContext, touched: RecordChanges): void {
    this.contexts.delete(resourceRef({ type: ctx.anchorType, id: ctx.anchorId }));
    this.unindex(ctx);
    touched.set(contextKey(this.topic, ctx.anchorType, ctx.anchorId), DELETE);
    for (const item of ctx.content.values()) {
      touched.set(contentKey(this.topic, ctx.anchorType, ctx.anchorId, item.resource.resourceType, item.resource.id!), DELETE);
    }
  }

  private index(ctx: OpenContext): void {
    for (const d of ctx.derived) {
      const ref = resourceRef(d);
      let set = this.impliedBy.get(ref);
      if (!set) this.impliedBy.set(ref, (set = new Set()));
      set.add(ctx);
    }
  }

  private unindex(ctx: OpenContext): void {
    for (const d of ctx.derived) {
      const ref = resourceRef(d);
      const set = this.impliedBy.get(ref);
      set?.delete(ctx);
      if (set?.size === 0) this.impliedBy.delete(ref);
    }
  }
}

/** The stored form of an open context (its content is stored per resource). */
function toContextRecord(ctx: OpenContext): ContextRecord {
  return {
    topic: ctx.topic,
    anchorType: ctx.anchorType,
    anchorId: ctx.anchorId,
    notification: ctx.notification,
    versionId: ctx.versionId,
    seq: ctx.seq,
    contentBundleId: ctx.contentBundleId,
    derived: ctx.derived,
  };
}
