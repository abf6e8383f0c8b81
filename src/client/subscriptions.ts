/**
 * The page's typed subscriptions: each keeps its options and callback, so that after a reconnect
 * it is subscribed again with the same callback. Every notification is acknowledged from what the
 * callback did: nothing → 200, a status number → that status, a throw → 500.
 */
import { randomId } from '../host/locks.js';
import type { SubscriptionInfo, TypedSubscribeArgs } from '../host/messages.js';
import type { Notification } from '../protocol/messages.js';
import type { Connection } from './connection.js';
import type { Session } from './session.js';
import type { EventCallback, Subscription } from './types.js';

interface Entry {
  args: TypedSubscribeArgs;
  onEvent: EventCallback;
  /** `subscribing` = its first subscribe is under way; `lost` = the host that granted it went away. */
  state: 'subscribing' | 'live' | 'lost';
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

/** Typed subscriptions of one hub connection. */
export class TypedSubscriptions {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly connection: Connection) {}

  /** Subscribes; the callback is registered first, because the catch-up may overtake the reply. */
  async add(args: TypedSubscribeArgs, onEvent: EventCallback): Promise<Subscription> {
    if (typeof onEvent !== 'function') throw new TypeError('subscribe needs an onEvent callback');
    const id = randomId();
    const entry: Entry = { args, onEvent, state: 'subscribing' };
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
        if (!this.entries.delete(id)) return;
        // A 404 means the hub already ended it (lease, restart): the wish is fulfilled either way.
        await this.connection.call((api) => api.unsubscribe(id)).catch((error: { status?: number }) => {
          if (error.status !== 404 && error.status !== 503 && error.status !== 410) throw error;
        });
      },
    };
  }

  /** Runs the callback of a notification and sends its ack on the session it came from. */
  deliver(subId: string, notification: Notification, session: Session): void {
    const entry = this.entries.get(subId);
    if (!entry) return;
    void answer(entry.onEvent, notification).then((status) => session.post({ t: 'ack', sub: subId, id: notification.id, status }));
  }

  /** The hub ended a subscription: 1001 = the host is going away (kept for the next host), else gone. */
  ended(subId: string, code: number): void {
    if (code === 1001) return;
    this.entries.delete(subId);
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
      else console.warn(`tabcast: could not subscribe again to ${entry.args.topic}`, result.error.outcome);
    }
  }
}
