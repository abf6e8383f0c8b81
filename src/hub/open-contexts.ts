/**
 * A topic's open contexts (multi-tab, fhircast-spec.md §6): one per anchor resource, the current
 * one, each with its version and shared content. Plain data so it persists as JSON.
 */
import type { ContextEntry, GetContextResponse, Notification, Resource } from '../protocol/index.js';
import type { ResourceIdentity } from '../protocol/index.js';

/** An open event the hub derived from another (fhircast-spec.md §6.4). */
export interface DerivedOpen {
  /** Implied event name, e.g. Patient-open. */
  event: string;
  type: string;
  id: string;
  notification: Notification;
}

/** One open context. */
export interface OpenContext {
  anchorType: string;
  anchorId: string;
  /** The open notification that made it current (HUB-GET-02), as broadcast. */
  notification: Notification;
  versionId: string;
  /** Order of the last open on the topic; larger is newer. */
  seq: number;
  contentBundleId: string;
  /** Shared content, in insertion order. */
  content: Resource[];
  /** Every open the last open implies, also those not sent live because the resource was open (HUB-CTX-13). */
  derived: DerivedOpen[];
}

/** A topic's persisted state. */
export interface TopicRecord {
  topic: string;
  createdAt: number;
  seq: number;
  /** `Type/id` of the current context, if any. */
  current?: string;
  contexts: OpenContext[];
}

/** Key of an anchor identity. */
export const anchorKey = (identity: ResourceIdentity): string => `${identity.type}/${identity.id}`;

/** Open contexts of one topic. */
export class TopicContexts {
  constructor(readonly record: TopicRecord) {}

  /** Finds an open context by anchor. */
  find(identity: ResourceIdentity): OpenContext | undefined {
    const key = anchorKey(identity);
    return this.record.contexts.find((c) => `${c.anchorType}/${c.anchorId}` === key);
  }

  /** The current context, if any. */
  current(): OpenContext | undefined {
    const cur = this.record.current;
    return cur ? this.record.contexts.find((c) => `${c.anchorType}/${c.anchorId}` === cur) : undefined;
  }

  /** True when a resource is open on the topic, as an anchor or through a derived open (HUB-CTX-13). */
  isOpen(identity: ResourceIdentity): boolean {
    if (this.find(identity)) return true;
    return this.record.contexts.some((c) => c.derived.some((d) => d.type === identity.type && d.id === identity.id));
  }

  /**
   * Opens (or re-opens) a context and makes it current (HUB-CTX-01/02). A re-open keeps the
   * content (HUB-CONTENT-16).
   */
  open(identity: ResourceIdentity, notification: Notification, versionId: string, newBundleId: () => string, derived: DerivedOpen[]): OpenContext {
    this.record.seq += 1;
    let ctx = this.find(identity);
    if (ctx) {
      ctx.notification = notification;
      ctx.versionId = versionId;
      ctx.seq = this.record.seq;
      ctx.derived = derived; // the latest open's context defines what it implies
    } else {
      ctx = {
        anchorType: identity.type,
        anchorId: identity.id,
        notification,
        versionId,
        seq: this.record.seq,
        contentBundleId: newBundleId(),
        content: [],
        derived,
      };
      this.record.contexts.push(ctx);
    }
    this.record.current = anchorKey(identity);
    return ctx;
  }

  /** Closes the context of an anchor, if open (HUB-CTX-03/04/05); drops its content (HUB-CONTENT-15). */
  close(identity: ResourceIdentity): boolean {
    const key = anchorKey(identity);
    const before = this.record.contexts.length;
    this.record.contexts = this.record.contexts.filter((c) => `${c.anchorType}/${c.anchorId}` !== key);
    for (const c of this.record.contexts) c.derived = c.derived.filter((d) => !(d.type === identity.type && d.id === identity.id));
    if (this.record.current === key) this.record.current = undefined;
    return this.record.contexts.length !== before;
  }

  /** Leaves every context open but none current (Home-open, HUB-INFRA-05). */
  clearCurrent(): void {
    this.record.current = undefined;
  }

  /** Drops every context and its content (userLogout, HUB-INFRA-02). */
  closeAll(): void {
    this.record.contexts = [];
    this.record.current = undefined;
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
        entry: ctx.content.map((r) => ({ fullUrl: `${r.resourceType}/${r.id}`, resource: r })),
      },
    };
    return { 'context.type': ctx.anchorType, 'context.versionId': ctx.versionId, context: [...openEntries, content] };
  }
}
