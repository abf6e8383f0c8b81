/**
 * A bridge's status and the listeners that follow it. Every part of the bridge reports through
 * one board, so listeners hear each change once, in order.
 */
import type { BridgeStatus } from './types.js';

/** The current status of one bridge, with change notification. */
export class StatusBoard {
  private current: BridgeStatus;
  private readonly listeners = new Set<(status: BridgeStatus) => void>();

  constructor(initial: BridgeStatus) {
    this.current = initial;
  }

  /** A copy of the current status. */
  get(): BridgeStatus {
    return { ...this.current };
  }

  /** Calls `listener` with the status on every change; returns the function that removes it. */
  onStatus(listener: (status: BridgeStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies a change; listeners are told only when a field actually changed. */
  set(patch: Partial<BridgeStatus>): void {
    const next = { ...this.current, ...patch };
    const changed = (Object.keys(next) as (keyof BridgeStatus)[]).some((k) => next[k] !== this.current[k]);
    if (!changed) return;
    this.current = next;
    for (const listener of this.listeners) {
      try {
        listener({ ...next });
      } catch {
        // a listener's bug must not stop the bridge
      }
    }
  }

  /** Counts one more event relayed in a direction. */
  count(direction: 'eventsIn' | 'eventsOut', extra: Partial<BridgeStatus> = {}): void {
    this.set({ [direction]: this.current[direction] + 1, ...extra });
  }
}

/** The words of anything thrown, for `lastError`. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
