/** The public API of tabcast in a page, as DESIGN.md states it. */
import type { HubLogEntry, HubSnapshot, PublishResult } from '../hub/index.js';
import type { ContextEntry, GetContextResponse, Notification } from '../protocol/messages.js';
import type { BridgeStatus } from '../bridge/types.js';
import type { BridgeRequest } from '../link/messages.js';

/** Wire and engine types the API hands out, under the spec's names. */
export type { BridgeStatus, ContextEntry, GetContextResponse, HubLogEntry, HubSnapshot, Notification, PublishResult };

/** Where the hub runs: `auto` = a SharedWorker where the browser has one, else a leader tab. */
export type HubMode = 'auto' | 'shared-worker' | 'leader-tab';

/** Options of `connect()`. */
export interface ConnectOptions {
  /** Names this app in SyncErrors when a subscription gives no subscriberName. */
  appName?: string;
  /** URL of tabcast-worker.js; same origin as the page. Defaults to the sibling of tabcast's own script. */
  workerUrl?: string;
  /** The virtual hub.url the standard API answers to. Default `${origin}/fhircast/hub`. */
  hubUrl?: string;
  mode?: HubMode;
  /**
   * A relay page on the hub's origin (it loads tabcast-relay.js), for apps on another origin of
   * the same site: the page embeds it as a hidden iframe and reaches that origin's hub through it.
   */
  relayUrl?: string;
}

/** Options of `install()` (drop-in mode): the hub URL whose requests and sockets go to the in-page hub. */
export interface InstallOptions extends Omit<ConnectOptions, 'hubUrl'> {
  /** The hub.url the app already uses; requests to it, below it and its endpoints go to tabcast. */
  hubUrl: string;
}

/** What to subscribe to (hub.topic, hub.events, subscriber.name, hub.lease_seconds). */
export interface SubscribeOptions {
  topic: string;
  events: string[];
  subscriberName?: string;
  leaseSeconds?: number;
}

/**
 * Receives each STU3 notification. Return nothing to acknowledge with 200, a status number to
 * answer with it (409 refuses a context change); a throw (or rejection) answers 500.
 */
export type EventCallback = (notification: Notification) => unknown;

/** A live typed subscription. */
export interface Subscription {
  /** The subscription's `hub.channel.endpoint`. */
  readonly endpoint: string;
  readonly topic: string;
  /** The granted `hub.events`, comma-separated. */
  readonly events: string;
  /** The lease of each grant; it renews itself for as long as the page lives. */
  readonly leaseSeconds: number;
  /** Unsubscribes (the hub sends no SyncError for it). */
  unsubscribe(): Promise<void>;
  /**
   * Calls `listener` if the hub ends this subscription without the page asking: the callback did
   * not answer within the hub's ack timeout (10 s), so the hub unsubscribed it and told the others
   * with a SyncError; or a new hub did not take it back after a reconnect. Subscribe again to
   * follow the context again. Returns the function that removes the listener. `unsubscribe()` and
   * `close()` do not call it.
   */
  onEnded(listener: (end: SubscriptionEnd) => void): () => void;
}

/** Why the hub ended a subscription: the WebSocket-style close code and the hub's reason. */
export interface SubscriptionEnd {
  code: number;
  reason: string;
}

/** A context change as `publish` takes it: the event object, plus optional `id` and `timestamp`. */
export interface PublishRequest {
  'hub.event': string;
  context: ContextEntry[];
  'context.versionId'?: string;
  id?: string;
  timestamp?: string;
  [member: string]: unknown;
}

/** Configuration of `hub.bridge()`. */
export type BridgeOptions = BridgeRequest;

/** A running bridge as a page sees it. */
export interface BridgeHandle {
  /** The latest status, kept current. */
  readonly status: BridgeStatus;
  /** Calls `listener` on every status change; returns the function that removes it. */
  onStatus(listener: (status: BridgeStatus) => void): () => void;
  /** Stops the bridge for every tab. */
  stop(): Promise<void>;
}

/** A connected hub. */
export interface TabcastHub {
  /** The virtual hub.url that `fetch` and `WebSocket` answer to. */
  readonly hubUrl: string;
  /** A new unguessable topic id. */
  createTopic(): Promise<string>;
  /** GetTopic of the 2019 proposal: the shared topic of a user's group. */
  getTopic(username: string, secret: string): Promise<string>;
  /** Subscribes; `onEvent` receives the exact STU3 notifications and its return value is the ack. */
  subscribe(options: SubscribeOptions, onEvent: EventCallback): Promise<Subscription>;
  /** Requests a context change; rejects with a HubError (status, outcome) when the hub refuses it. */
  publish(topic: string, request: PublishRequest): Promise<PublishResult>;
  /** The topic's current context (STU3 get current context). */
  getContext(topic: string): Promise<GetContextResponse>;
  /** The STU3 HTTP API at hubUrl as a fetch function; other URLs go to the real fetch. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** A WebSocket class that opens endpoints handed out by `fetch`. */
  readonly WebSocket: typeof WebSocket;
  /** Relays a topic to a remote hub; the bridge lives in the hub, not in this tab. */
  bridge(options: BridgeOptions): Promise<BridgeHandle>;
  /** A snapshot of topics, subscribers and open contexts (for inspectors). */
  inspect(): Promise<HubSnapshot>;
  /** Follows the hub's activity log; returns the function that stops it. */
  observe(listener: (entry: HubLogEntry) => void): () => void;
  /** Unsubscribes everything normally and disconnects. */
  close(): Promise<void>;
}
