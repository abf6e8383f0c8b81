/**
 * The messages between an app page and the relay iframe on the hub's origin. The page speaks
 * first, once, on the window (to the relay's exact origin), handing over a MessagePort; everything
 * after that flows over that private port, which only the checked origin holds.
 */

/** Marks the page's one window message to the relay. */
export const RELAY_HELLO = 'tabcast-relay-hello';
/** Bumped when these messages change incompatibly. */
export const RELAY_PROTOCOL = 1;

/** The page's window message to the relay (its `port` travels in the transfer list). */
export interface RelayHello {
  kind: typeof RELAY_HELLO;
  protocol: number;
}

/** Page → relay, on the private port. */
export type PageToRelay =
  | { t: 'open'; id: number }
  | { t: 'close'; id: number }
  | { t: 'lock'; id: number; name: string }
  | { t: 'release'; id: number }
  | { t: 'abort'; id: number };

/** Why the relay refuses a page: HubError parts the page rebuilds. */
export interface RelayRefusal {
  status: number;
  reason: string;
}

/** Relay → page, on the private port. */
export type RelayToPage =
  | { t: 'welcome'; protocol: number; origin: string }
  | { t: 'refused'; refusal: RelayRefusal }
  /** A session's control link: the port of a SharedWorker the relay started. */
  | { t: 'opened'; id: number; control: MessagePort }
  | { t: 'open-failed'; id: number; reason: string }
  | { t: 'worker-error'; id: number; reason: string }
  | { t: 'granted'; id: number }
  | { t: 'lock-done'; id: number; error?: string };
