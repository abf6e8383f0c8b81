/**
 * The changes each replica applied lately, by topic and event id. A publisher whose instance died
 * before answering does not know whether its change made it into the log; it sends the same event
 * (same `id`) again through another instance. Every replica sees both entries in the same order,
 * so every replica answers the second with the first one's 202 and applies nothing twice.
 */

/** How many applied events are remembered (oldest forgotten first). */
export const REMEMBERED_EVENTS = 10_000;

/** Applied events by topic and event id, bounded. */
export class RecentOutcomes {
  private readonly applied = new Map<string, string>();

  /** The event id a change of `topic` with `eventId` was applied under, if it was. */
  appliedAs(topic: string, eventId: string): string | undefined {
    return this.applied.get(key(topic, eventId));
  }

  /** Notes an applied change. */
  remember(topic: string, eventId: string, appliedId: string): void {
    this.applied.set(key(topic, eventId), appliedId);
    if (this.applied.size > REMEMBERED_EVENTS) this.applied.delete(this.applied.keys().next().value!);
  }
}

const key = (topic: string, eventId: string) => `${topic}\n${eventId}`;
