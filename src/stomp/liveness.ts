/**
 * The heart-beat clock of one STOMP connection (STOMP 1.2 "Heart-beating"): when the hub last
 * heard from the client and last wrote to it, what is due at a given time, and when to look again.
 * Pure bookkeeping; the session acts on what `due` says and the door owns the timer.
 */
import type { HeartBeatPlan } from './heart-beat.js';

/** What is due at a moment. */
export interface Due {
  /** The client was silent past twice its interval: this many ms. */
  silentForMs?: number;
  /** The hub owes the client a heart-beat. */
  beat: boolean;
}

/** Heart-beat times of one connection. */
export class Liveness {
  plan: HeartBeatPlan = { sendEveryMs: 0, expectEveryMs: 0 };
  private lastHeard: number;
  private lastSent: number;
  private armedAt: number | undefined;

  constructor(
    now: number,
    private readonly onWake?: (at: number | undefined) => void,
  ) {
    this.lastHeard = this.lastSent = now;
  }

  /** Anything arrived from the client. */
  heard(now: number): void {
    this.lastHeard = now;
  }

  /** Anything was written to the client. */
  sent(now: number): void {
    this.lastSent = now;
  }

  /** What is due at `now`. The door's timer fired, so the next deadline is reported again. */
  due(now: number): Due {
    this.armedAt = undefined;
    const { sendEveryMs, expectEveryMs } = this.plan;
    if (expectEveryMs > 0 && now - this.lastHeard > 2 * expectEveryMs) return { silentForMs: now - this.lastHeard, beat: false };
    return { beat: sendEveryMs > 0 && now - this.lastSent >= sendEveryMs };
  }

  /** The next time something may be due, if any. */
  nextDeadline(): number | undefined {
    const times: number[] = [];
    if (this.plan.sendEveryMs > 0) times.push(this.lastSent + this.plan.sendEveryMs);
    if (this.plan.expectEveryMs > 0) times.push(this.lastHeard + 2 * this.plan.expectEveryMs + 1);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /**
   * Tells the door the next deadline when it is earlier than the one it already waits for (or
   * none is armed); a deadline that moved later is found when the earlier timer fires.
   */
  rearm(active: boolean): void {
    const at = active ? this.nextDeadline() : undefined;
    if (at === undefined) {
      if (this.armedAt !== undefined) this.onWake?.(undefined);
      this.armedAt = undefined;
      return;
    }
    if (this.armedAt !== undefined && this.armedAt <= at) return;
    this.armedAt = at;
    this.onWake?.(at);
  }
}
