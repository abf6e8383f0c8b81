/**
 * Ids and timestamps for the events the bridge makes up itself: reconciling opens, SyncErrors,
 * and remote notifications that came without an id. Ids must never collide with a real event's,
 * since an id decides what the bridge treats as an echo.
 */

/** Makes ids and timestamps from the bridge's clock and random source. */
export class EventIds {
  private counter = 0;

  constructor(
    private readonly now: () => number,
    private readonly random: () => number,
  ) {}

  /** A fresh id, unique within this bridge and very unlikely to clash with another's. */
  next(kind: string): string {
    const rnd = Math.floor(this.random() * 2 ** 32).toString(36);
    return `bridge-${kind}-${this.now().toString(36)}-${(++this.counter).toString(36)}-${rnd}`;
  }

  /** The current time as an ISO 8601 timestamp. */
  isoNow(): string {
    return new Date(this.now()).toISOString();
  }
}
