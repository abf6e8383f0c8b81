/** The read-only view of the engine that `inspect()` gives consoles and tests. */
import type { HubSnapshot } from './api-types.js';
import type { TopicContexts } from './open-contexts.js';
import type { Subscription } from './subscriptions.js';

/** Topics with their subscribers and open contexts, and the health of storage, at `now`. */
export function takeSnapshot(topics: Iterable<TopicContexts>, subscriptions: readonly Subscription[], storageFailure: { error: unknown } | undefined, now: number): HubSnapshot {
  return {
    storage: storageFailure === undefined ? { ok: true } : { ok: false, lastError: String(storageFailure.error) },
    topics: [...topics].map((state) => ({
      topic: state.record.topic,
      current: state.record.current,
      subscribers: subscriptions
        .filter((s) => s.topic === state.record.topic)
        .map((s) => ({
          name: s.name,
          channel: s.channel,
          events: s.eventsText,
          leaseRemainingSeconds: Math.max(0, Math.round((s.leaseExpiresAt - now) / 1000)),
          connected: s.connection?.open ?? false,
          lastAck: s.lastAck,
          pending: s.connection?.pending.size ?? 0,
        })),
      open: state.record.contexts.map((c) => ({
        type: c.anchorType,
        id: c.anchorId,
        versionId: c.versionId,
        event: c.notification.event['hub.event'],
        contentCount: c.content.length,
        current: state.record.current === `${c.anchorType}/${c.anchorId}`,
      })),
    })),
  };
}
