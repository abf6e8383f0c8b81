/**
 * Typed subscriptions live as long as their page: the page's Web Lock says when it is gone, so a
 * lease must never end one first. Without renewal, every app left open longer than its lease
 * (7,200 s by default) would silently stop following the context.
 */

/** Runs `run` after `delayMs`; returns what cancels it. Injected so that tests can drive time. */
export type Schedule = (run: () => void, delayMs: number) => () => void;

/** `setTimeout` as a Schedule. */
export const systemSchedule: Schedule = (run, delayMs) => {
  const timer = setTimeout(run, delayMs);
  return () => clearTimeout(timer);
};

/**
 * When to renew a lease of `leaseSeconds`: with a quarter of it left, or 90 s for long leases
 * (a leader tab in the background may run its timers a minute late), but never past half of it.
 */
export function renewalDelayMs(leaseSeconds: number): number {
  const marginSeconds = Math.min(leaseSeconds / 2, Math.max(leaseSeconds / 4, 90));
  return Math.round((leaseSeconds - marginSeconds) * 1000);
}
