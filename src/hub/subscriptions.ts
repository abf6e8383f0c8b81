/** Subscriptions and their live connections, keyed by (topic, endpoint). */
import { filterText, parseEventFilter, badRequest, type EventFilter } from '../protocol/index.js';
import type { ChannelLabel } from './api-types.js';
import type { Scheduled } from './deadline-heap.js';
import type { SubscriberChannel } from './ports.js';

/** A notification waiting for its answer. */
export interface PendingAck {
  id: string;
  /** The name it was delivered under. */
  name: string;
  /** Absolute deadline in ms, Infinity when the ack timeout is off. */
  deadline: number;
}

/** One live connection to an endpoint. */
export interface Connection {
  readonly subscription: HubSubscription;
  readonly channel: SubscriberChannel;
  readonly pending: Map<string, PendingAck>;
  lastEvent?: { id: string; name: string };
  open: boolean;
}

/** The engine's record of one subscription (the page's handle is the public `Subscription`); it waits in the engine's deadline heap for its next deadline. */
export interface HubSubscription extends Scheduled {
  readonly endpoint: string;
  readonly topic: string;
  filters: EventFilter[];
  /** The granted `hub.events` as the confirmation states it. */
  eventsText: string;
  leaseSeconds: number;
  leaseExpiresAt: number;
  /** Whether the lease clock already started at a confirmation. */
  confirmed: boolean;
  /** The lease restarts when it runs out instead of ending the subscription (see SubscribeInput). */
  autoRenew: boolean;
  /** The door it came through (inspect() shows it). */
  channel: ChannelLabel;
  /** `subscriber.name`, or a label that does not reveal the endpoint. */
  name: string;
  readonly createdAt: number;
  connection?: Connection;
  lastAck?: { at: number; status: number };
}

/** Parses `hub.events` into a deduplicated filter list (HUB-SUB-05, HUB-SUB-08). */
export function parseEventList(events: readonly string[]): { filters: EventFilter[]; text: string } {
  const filters: EventFilter[] = [];
  const texts: string[] = [];
  const seen = new Set<string>();
  for (const raw of events) {
    if (typeof raw !== 'string') throw badRequest('hub.events entries must be strings', 'value');
    if (raw.trim() === '') continue;
    const f = parseEventFilter(raw);
    if (!f) throw badRequest(`hub.events names an event the hub does not know: ${JSON.stringify(raw)}`, 'value');
    const text = filterText(f);
    const key = text.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    filters.push(f);
    texts.push(text);
  }
  if (filters.length === 0) throw badRequest('hub.events is missing or empty: name the events to subscribe to', 'required');
  return { filters, text: texts.join(',') };
}
