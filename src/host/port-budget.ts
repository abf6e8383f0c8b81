/**
 * Backpressure on the in-page event ports (HUB-SEC-13, issue #19 M3). A MessagePort has no
 * bufferedAmount, so the budget is in messages: notifications posted to a page and not yet
 * answered. A page past it (frozen, or not answering) is a failed delivery, as a WebSocket past
 * its byte budget is on `tabcast serve`: the engine hears close 1013 and ends the subscription.
 */

/**
 * Unanswered notifications one subscription or socket of a page may have. A live page's answers
 * queue behind whatever the host is still working through, so one tab publishing a burst of a few
 * thousand events leaves every subscriber that many behind for a moment; the budget must sit above
 * any such burst (the benchmark sends 5,000) and still cut a page that has stopped answering for good.
 * The host's own memory is bounded separately (the engine keeps at most 1,000 pending acks a connection).
 */
export const DEFAULT_PORT_BUDGET_MESSAGES = 16_384;
/** "Try again later" (RFC 6455 §7.4.1): the close code of a subscriber too slow to keep up. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** The close reason the page is given. */
export const overBudgetReason = (limit: number): string => `subscriber too slow: over ${limit} notifications unanswered`;

/** The count of one subscription or socket. */
export interface PortBudget {
  /**
   * A notification that expects an answer is about to be posted. False once the budget is spent:
   * the caller drops it, and `onOver` runs once, after the engine's current fan-out.
   */
  sending(): boolean;
  /** The page answered one. */
  answered(): void;
}

/** Builds the count for `limit` unanswered notifications. */
export function portBudget(limit: number, onOver: () => void): PortBudget {
  let unanswered = 0;
  let spent = false;
  return {
    sending() {
      if (spent) return false;
      if (++unanswered <= limit) return true;
      spent = true;
      queueMicrotask(onOver);
      return false;
    },
    answered() {
      // Answers to frames that were not counted (a heartbeat) must not earn credit below zero.
      if (unanswered > 0) unanswered--;
    },
  };
}
