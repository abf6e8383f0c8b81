/** The real clock, the real timers, and a timer driver that runs an engine's deadlines with setTimeout. */
import type { Clock } from '../hub/ports.js';

/** Wall-clock time. */
export const systemClock: Clock = { now: () => Date.now() };

/** The global timers in the shape src/bridge takes them; clearing `undefined` does nothing. */
export const systemTimers: { set(callback: () => void, ms: number): unknown; clear(handle: unknown): void } = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => {
    if (handle !== undefined) clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** Schedules `tick` for each deadline the engine reports; returns the `onWake` callback and a stop function. */
export function timerDriver(tick: () => void, clock: Clock = systemClock): { onWake: (at: number | undefined) => void; stop: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return {
    onWake(at) {
      stop();
      if (at === undefined) return;
      // Timers clamp at ~24.8 days; a longer wait simply wakes early and re-arms.
      const delay = Math.min(Math.max(0, at - clock.now()), 2_000_000_000);
      timer = setTimeout(() => {
        timer = undefined;
        tick();
      }, delay);
    },
    stop,
  };
}
