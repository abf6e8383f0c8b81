/** The vocabulary of the WebSub adapter (channels.md §3): its settings and injected timers. */

/** Timers as the adapter uses them; tests pass ones driven by a fake clock. */
export interface WebhookTimers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** Settings of `tabcast serve --websub`. */
export interface WebsubOptions {
  /** Allowed callback origins (`--websub-allow`); empty = the loopback hosts. */
  allow?: readonly string[];
  /** Timers for the verification and delivery timeouts. Default: setTimeout. */
  timers?: WebhookTimers;
  /** The fetch to call callbacks with. Default: Node's own. */
  fetch?: typeof fetch;
}

/** How long a callback has to echo the challenge (HUB-WEBSUB-03). */
export const VERIFY_TIMEOUT_MS = 5000;
/** Bytes of a verification answer read; a challenge is far shorter. */
export const VERIFY_READ_LIMIT = 4096;
/** How long one delivery may take when the engine's ack timeout is off. */
export const FALLBACK_DELIVERY_TIMEOUT_MS = 30_000;

/** Real timers. */
export const realTimers: WebhookTimers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
