/**
 * The bridge's small memories: which event ids it has seen and where they came from (bounded,
 * least recently used first out), the content-sharing version of each open anchor on either hub,
 * and the reconnect backoff.
 */
import { entryIdentity, resolveEventName, type ContextEntry, type EventPayload } from '../protocol/index.js';

/** Where an event id was first seen. `bridge` marks the bridge's own SyncErrors and reconciling opens. */
export type Origin = 'local' | 'remote' | 'bridge';

/** A bounded map of event ids to their origin; the oldest entry leaves first. */
export class SeenIds {
  private readonly ids = new Map<string, Origin>();

  constructor(private readonly limit: number) {}

  get(id: string): Origin | undefined {
    const origin = this.ids.get(id);
    if (origin !== undefined) {
      this.ids.delete(id);
      this.ids.set(id, origin);
    }
    return origin;
  }

  add(id: string, origin: Origin): void {
    this.ids.delete(id);
    this.ids.set(id, origin);
    while (this.ids.size > this.limit) this.ids.delete(this.ids.keys().next().value!);
  }

  get size(): number {
    return this.ids.size;
  }
}

/** The anchor an event names, as a `Type/id` reference, and what the event does to it. */
export function anchorOf(event: EventPayload): { reference: string; kind: string } | undefined {
  const resolved = resolveEventName(String(event['hub.event'] ?? ''));
  const def = resolved?.definition;
  if (!def?.anchorKey) return undefined;
  const entries: unknown[] = Array.isArray(event.context) ? event.context : [];
  const anchor = entries.find((e): e is ContextEntry => typeof e === 'object' && e !== null && (e as ContextEntry).key === def.anchorKey);
  const identity = entryIdentity(anchor);
  return identity ? { reference: `${identity.type}/${identity.id}`, kind: def.kind } : undefined;
}

/**
 * Content-sharing versions are assigned by each hub on its own, so an update relayed from one hub
 * to the other has to carry the other hub's version of the anchor. This remembers them.
 */
export class AnchorVersions {
  private readonly versions = new Map<string, string>();

  /** Learns from an event as a hub broadcast it (opens and updates carry the hub's version). */
  learn(event: EventPayload): void {
    const anchor = anchorOf(event);
    if (!anchor) return;
    const version = event['context.versionId'];
    if (anchor.kind === 'close') this.versions.delete(anchor.reference);
    else if ((anchor.kind === 'open' || anchor.kind === 'update') && typeof version === 'string') this.versions.set(anchor.reference, version);
  }

  /** Remembers the hub's version of the anchor `reference` (`Type/id`). */
  set(reference: string, version: string): void {
    this.versions.set(reference, version);
  }

  /** The hub's version of the anchor `reference` (`Type/id`), if known. */
  get(reference: string): string | undefined {
    return this.versions.get(reference);
  }

  clear(): void {
    this.versions.clear();
  }
}

/** Exponential backoff with "equal jitter": half the step is fixed, half is random. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + (step / 2) * random());
}
