/**
 * The typed subscriptions of one client session: each is an engine subscription whose channel
 * posts notifications to the page's events link, renewed for as long as the page lives.
 */
import type { ConnectionHandle, Hub, SubscribeResult, SubscriberChannel } from '../hub/index.js';
import { conflict, HubError, notFound } from '../protocol/outcome.js';
import { renewalDelayMs, type Schedule } from './lease-renewal.js';
import type { HostMessage, TypedSubscribeArgs } from './messages.js';
import { ABNORMAL_CLOSE } from './socket-relay.js';

interface Entry {
  topic: string;
  endpoint: string;
  handle?: ConnectionHandle;
  cancelRenewal?: () => void;
}

/** What the subscriptions need from their session. */
export interface TypedSubscriptionsContext {
  hub: Hub;
  schedule: Schedule;
  post(message: HostMessage): void;
  reportInternal(error: unknown): void;
}

/** A session's typed subscriptions, keyed by the page's subscription ids. */
export class TypedSubscriptions {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly context: TypedSubscriptionsContext) {}

  /** Subscribes and connects at once (the page is the channel); throws 409 for an id in use. */
  add(subId: string, request: TypedSubscribeArgs & { subscriberName: string }): SubscribeResult {
    if (this.entries.has(subId)) throw conflict(`subscription id ${subId} is already in use on this connection`);
    const { hub, post } = this.context;
    const result = hub.subscribe(request);
    const entry: Entry = { topic: result.topic, endpoint: result.endpoint };
    const channel: SubscriberChannel = {
      send: (frame) => {
        // The typed API gets notifications only: no confirmation, denial or heartbeat frames.
        if ('event' in frame && frame.event['hub.event'] !== 'heartbeat') post({ t: 'event', sub: subId, frame: frame as never });
      },
      close: (code, reason) => {
        if (this.entries.get(subId) !== entry) return;
        entry.cancelRenewal?.();
        this.entries.delete(subId);
        post({ t: 'ended', sub: subId, code, reason });
      },
    };
    this.entries.set(subId, entry);
    entry.handle = hub.connect(result.endpoint, channel);
    this.renewLater(subId, entry, request, result.leaseSeconds);
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
    this.entries.get(subId)?.handle?.receive({ id, status });
  }

  /** The session is over: `dead` = the tab vanished (abnormal close), `bye` = unsubscribe, else leave them to the engine's shutdown. */
  endAll(kind: 'bye' | 'dead' | 'retired'): void {
    for (const [id, entry] of this.entries) {
      entry.cancelRenewal?.();
      if (kind === 'dead') entry.handle?.closed(ABNORMAL_CLOSE, { endSubscription: true });
      else if (kind === 'bye') ignoreHubError(() => this.context.hub.unsubscribe(entry.topic, entry.endpoint));
      this.entries.delete(id);
    }
  }

  /** Re-subscribing the same endpoint restarts its lease (HUB-SUB-12); the channel stays open. */
  private renewLater(subId: string, entry: Entry, request: TypedSubscribeArgs & { subscriberName: string }, leaseSeconds: number): void {
    entry.cancelRenewal = this.context.schedule(() => {
      if (this.entries.get(subId) !== entry) return;
      try {
        const renewed = this.context.hub.subscribe({ ...request, endpoint: entry.endpoint });
        this.renewLater(subId, entry, request, renewed.leaseSeconds);
      } catch (error) {
        // A 404: the hub ended it meanwhile, and the page has been told.
        if (!(error instanceof HubError)) this.context.reportInternal(error);
      }
    }, renewalDelayMs(leaseSeconds));
  }
}

function ignoreHubError(action: () => unknown): void {
  try {
    action();
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
  }
}
