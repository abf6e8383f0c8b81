/**
 * The typed subscriptions of one client session: each is an engine subscription whose channel
 * posts notifications to the page's events link. They live as long as the page: the session ends
 * them when the page's Web Lock is freed, so their leases renew themselves (`autoRenew`).
 */
import type { ConnectionHandle, Hub, SubscribeResult, SubscriberChannel } from '../hub/index.js';
import { conflict, HubError, notFound } from '../protocol/outcome.js';
import type { HostMessage, TypedSubscribeArgs } from '../link/messages.js';
import { ABNORMAL_CLOSE } from './socket-relay.js';
import { CLOSE_TRY_AGAIN_LATER, DEFAULT_PORT_BUDGET_MESSAGES, overBudgetReason, portBudget, type PortBudget } from './port-budget.js';

interface Entry {
  topic: string;
  endpoint: string;
  handle?: ConnectionHandle;
}

/** What the subscriptions need from their session. */
export interface TypedSubscriptionsContext {
  hub: Hub;
  post(message: HostMessage): void;
  /** Unanswered notifications per subscription before it fails (HUB-SEC-13). Default 1024. */
  portBudgetMessages?: number;
}

/** A session's typed subscriptions, keyed by the page's subscription ids. */
export class TypedSubscriptions {
  private readonly entries = new Map<string, Entry>();
  /** Unanswered notifications per subscription (HUB-SEC-13); entries that end take theirs along. */
  private readonly budgets = new WeakMap<Entry, PortBudget>();

  constructor(private readonly context: TypedSubscriptionsContext) {}

  /** Subscribes and connects at once (the page is the channel); throws 409 for an id in use. */
  add(subId: string, request: TypedSubscribeArgs & { subscriberName: string }): SubscribeResult {
    if (this.entries.has(subId)) throw conflict(`subscription id ${subId} is already in use on this connection`);
    const { hub, post } = this.context;
    const result = hub.subscribe({ ...request, autoRenew: true, channel: 'typed' });
    const entry: Entry = { topic: result.topic, endpoint: result.endpoint };
    const limit = this.context.portBudgetMessages ?? DEFAULT_PORT_BUDGET_MESSAGES;
    const budget = portBudget(limit, () => this.overBudget(subId, entry, limit));
    const channel: SubscriberChannel = {
      send: (frame) => {
        // The typed API gets notifications only: no confirmation, denial or heartbeat frames.
        if ('event' in frame && frame.event['hub.event'] !== 'heartbeat' && budget.sending()) post({ t: 'event', sub: subId, frame: frame as never });
      },
      close: (code, reason) => {
        if (this.entries.get(subId) !== entry) return;
        this.entries.delete(subId);
        post({ t: 'ended', sub: subId, code, reason });
      },
    };
    this.entries.set(subId, entry);
    this.budgets.set(entry, budget);
    entry.handle = hub.connect(result.endpoint, channel);
    return result;
  }

  /** Unsubscribes at the page's request; throws 404 for an unknown id. */
  remove(subId: string): void {
    const entry = this.entries.get(subId);
    if (!entry) throw notFound(`no live subscription ${subId} on this connection`);
    this.context.hub.unsubscribe(entry.topic, entry.endpoint);
  }

  /** An acknowledgement from the page. */
  answer(subId: string, id: string, status: number): void {
    const entry = this.entries.get(subId);
    if (entry) this.budgets.get(entry)?.answered();
    entry?.handle?.receive({ id, status });
  }

  /** A page that stopped answering is a failed delivery: SyncError to the others, subscription ended. */
  private overBudget(subId: string, entry: Entry, limit: number): void {
    if (this.entries.get(subId) !== entry) return;
    this.entries.delete(subId);
    entry.handle?.closed(CLOSE_TRY_AGAIN_LATER, { endSubscription: true });
    this.context.post({ t: 'ended', sub: subId, code: CLOSE_TRY_AGAIN_LATER, reason: overBudgetReason(limit) });
  }

  /** The session is over: `dead` = the tab vanished (abnormal close), `bye` = unsubscribe, else leave them to the engine's shutdown. */
  endAll(kind: 'bye' | 'dead' | 'retired'): void {
    for (const [id, entry] of this.entries) {
      if (kind === 'dead') entry.handle?.closed(ABNORMAL_CLOSE, { endSubscription: true });
      else if (kind === 'bye') ignoreHubError(() => this.context.hub.unsubscribe(entry.topic, entry.endpoint));
      this.entries.delete(id);
    }
  }
}

function ignoreHubError(action: () => unknown): void {
  try {
    action();
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
  }
}
