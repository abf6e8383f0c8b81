/**
 * The page's typed subscriptions: each keeps its options and callback, so that after a reconnect
 * it is subscribed again with the same callback. Every notification is acknowledged from what the
 * callback did: nothing → 200, a status number → that status, a throw → 500.
 */
import { randomId } from '../link/locks.js';
import type { SubscriptionInfo, TypedSubscribeArgs } from '../link/messages.js';
import type { Notification } from '../protocol/messages.js';
import type { HostConnection } from './connection.js';
import type { Session } from './session.js';
import type { EventCallback, Subscription, SubscriptionEnd } from './types.js';

interface Entry {
  args: TypedSubscribeArgs;
  onEvent: EventCallback;
  /** `subscribing` = its first subscribe is under way; `lost` = the host that granted it went away. */
  state: 'subscribing' | 'live' | 'lost';
  /** Told when the hub ends it without the page asking. */
  endListeners: Set<(end: SubscriptionEnd) => void>;
  /** Set once the hub has ended it. */
  end?: SubscriptionEnd;
}

/** The ack status for what a callback returned. */
async function answer(onEvent: EventCallback, notification: Notification): Promise<number> {
  try {
    const result = await onEvent(notification);
    return typeof result === 'number' && Number.isInteger(result) && result >= 100 && result <= 599 ? result : 200;
  } catch (error) {
    console.error('tabcast: an onEvent callback failed; the hub is told 500', error);
    return 500;
  }
}

/** The page side of the typed subscriptions of one `connect()` (the host side is src/host's SessionSubscriptions). */
export class PageSubscriptions {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly connection: HostConnection) {}

  /** Subscribes; the callback is registered first, because the catch-up may overtake the reply. */
  async add(args: TypedSubscribeArgs, onEvent: EventCallback): Promise<Subscription> {
    if (typeof onEvent !== 'function') throw new TypeError('subscribe needs an onEvent callback');
    const id = randomId();
    const entry: Entry = { args, onEvent, state: 'subscribing', endListeners: new Set() };
    this.entries.set(id, entry);
    let info: SubscriptionInfo;
    try {
      info = await this.connection.call((api) => api.subscribe(id, args), true);
      entry.state = 'live';
    } catch (error) {
      this.entries.delete(id);
      throw error;
    }
    return {
      ...info,
      unsubscribe: async () => {
        entry.endListeners.clear();
        if (!this.entries.delete(id)) return;
        // A 404 means the hub already ended it (lease, restart): the wish is fulfilled either way.
        await this.connection.call((api) => api.unsubscribe(id)).catch((error: { status?: number }) => {
          if (error.status !== 404 && error.status !== 503 && error.status !== 410) throw error;
        });
      },
      onEnded: (listener) => {
        const end = entry.end;
        if (end) {
          queueMicrotask(() => listener(end));
          return () => {};
        }
        entry.endListeners.add(listener);
        return () => void entry.endListeners.delete(listener);
      },
    };
  }

  /** Runs the callback of a notification and sends its ack on the session it came from. */
  deliver(subId: string, notification: Notification, session: Session): void {
    const entry = this.entries.get(subId);
    if (!entry) return;
    void answer(entry.onEvent, notification).then((status) => session.post({ t: 'ack', sub: subId, id: notification.id, status }));
  }

  /** The hub ended a subscription (or would not take it back): 1001 = the host is going away (kept for the next host), else gone. */
  ended(subId: string, code: number, reason: string): void {
    if (code === 1001) return;
    const entry = this.entries.get(subId);
    if (!entry) return; // the page unsubscribed it
    this.entries.delete(subId);
    entry.end = { code, reason };
    console.warn(`tabcast: the hub ended the subscription to ${entry.args.topic} (${reason}); subscribe again to follow it`);
    for (const listener of entry.endListeners) {
      try {
        listener(entry.end);
      } catch (error) {
        console.error('tabcast: an onEnded listener failed', error);
      }
    }
    entry.endListeners.clear();
  }

  /** The page closes: its subscriptions end with it, and nobody is told. */
  forgetAll(): void {
    this.entries.clear();
  }

  /** Marks what the lost host granted as to be subscribed again. */
  hostLost(): void {
    for (const entry of this.entries.values()) if (entry.state === 'live') entry.state = 'lost';
  }

  /** Subscribes everything again on a new session, with the same callbacks (stops if that session is lost too). */
  async restore(session: Session): Promise<void> {
    for (const [id, entry] of this.entries) {
      if (entry.state !== 'lost') continue; // one still subscribing retries by itself
      const result = await session.unlessLost(session.api.subscribe(id, entry.args));
      if (result.ok) entry.state = 'live';
      else this.ended(id, 1000, `the hub did not take the subscription back after reconnecting: ${result.error.outcome.issue[0]?.diagnostics ?? result.error.status}`);
    }
  }
}
