/** Timers and a clock that move only when a test says so: the bridge's deadlines without sleeping. */

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

export class ManualTimers {
  now = Date.parse('2026-01-01T00:00:00Z');
  private pending = new Map<number, Pending>();
  private seq = 0;

  readonly clock = { now: () => this.now };

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + Math.max(0, ms), seq: id, fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };

  /** The same timers in the shape a bridge takes them (`BridgeDeps.timers`). */
  readonly timers = { set: this.setTimeout, clear: this.clearTimeout };

  /** Delays of the timers still pending, from now, soonest first. */
  delays(): number[] {
    return [...this.pending.values()].map((p) => p.at - this.now).sort((a, b) => a - b);
  }

  /** Moves time forward, running every timer that falls due, in order, letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      const next = [...this.pending.values()].filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.pending.delete(next.seq);
      this.now = Math.max(this.now, next.at);
      next.fn();
      await settle();
    }
    this.now = end;
    await settle();
  }
}

/** Lets pending promise chains and I/O callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}
