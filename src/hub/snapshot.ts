/** The read-only view of the engine that `inspect()` gives consoles and tests. */
import type { HubSnapshot } from './api-types.js';
import type { HubBounds } from './bounds.js';
import type { MalformedRecord } from './records.js';
import type { TopicState } from './topic-state.js';

/** What inspect() reports about storage. */
export interface StorageHealth {
  failure: { error: unknown } | undefined;
  malformed: readonly MalformedRecord[];
}

/** Topics with their subscribers and open contexts, the bounds and what they forgot, and the health of storage, at `now`. */
export function takeSnapshot(topics: Iterable<TopicState>, storage: StorageHealth, limits: { bounds: HubBounds; forgotten: HubSnapshot['forgotten'] }, now: number): HubSnapshot {
  const health: HubSnapshot['storage'] = storage.failure === undefined ? { ok: true } : { ok: false, lastError: String(storage.failure.error) };
  if (storage.malformed.length > 0) health.malformed = storage.malformed.map((m) => ({ ...m }));
  return {
    storage: health,
    bounds: { ...limits.bounds },
    forgotten: { ...limits.forgotten },
    topics: [...topics].map((state) => ({
      topic: state.topic,
      current: state.header.current,
      subscribers: [...state.subscribers].map((s) => ({
        name: s.name,
        channel: s.channel,
        events: s.eventsText,
        leaseRemainingSeconds: Math.max(0, Math.round((s.leaseExpiresAt - now) / 1000)),
        connected: s.connection?.open ?? false,
        lastAck: s.lastAck,
        pending: s.connection?.pending.size ?? 0,
      })),
      open: [...state.openContexts()].map((c) => ({
        type: c.anchorType,
        id: c.anchorId,
        versionId: c.versionId,
        event: c.notification.event['hub.event'],
        contentCount: c.content.size,
        current: state.header.current === `${c.anchorType}/${c.anchorId}`,
      })),
    })),
  };
}
