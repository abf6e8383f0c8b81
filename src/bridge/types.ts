/**
 * The bridge's public vocabulary: its configuration, the ports it is built from, and its status.
 * Nothing here touches a socket or a timer; every door passes its own.
 */
import type { Clock, Hub } from '../hub/index.js';

/** Names of the remote-hub dialects a bridge can speak (see ./dialects.ts). */
export type DialectName = 'stu3' | 'topic-path' | 'stomp' | '2019';

/** Where a bridge relays a local topic to, and how. */
export interface BridgeConfig {
  /** The local topic (`hub.topic` on this hub). */
  topic: string;
  /** The remote hub's `hub.url`, e.g. `https://hub.example.org/fhircast/hub`. */
  remoteHubUrl: string;
  /** The topic on the remote hub; defaults to `topic`. */
  remoteTopic?: string;
  /** Events to relay in both directions; defaults to the catalog's events by name. */
  events?: readonly string[];
  /** Bearer token for the remote hub. Never persisted, never echoed. */
  token?: string;
  /** Called for a fresh token before each subscribe (first one, renewals, reconnects). */
  getToken?: () => string | undefined | Promise<string | undefined>;
  /** How the remote hub differs from the spec; default `stu3`. */
  dialect?: DialectName;
  /**
   * Get the remote topic by the 2019 GetTopic (`{remote}/gettopic?username=&secret=`); `secret` is
   * then the Bearer. Excludes `token` and `remoteTopic`. The secret is held like a token.
   */
  getTopic?: { username: string; secret: string };
}

/** A bridge's configuration as it may be stored or shown: without any token or secret. */
export type PublicBridgeConfig = Omit<BridgeConfig, 'token' | 'getToken' | 'getTopic'> & { getTopic?: { username: string } };

/** Life cycle of a bridge. `denied` and `stopped` are final (a registry may resume a bridge stopped for lack of a token). */
export type BridgeState = 'connecting' | 'connected' | 'reconnecting' | 'denied' | 'stopped';

/** What a bridge reports about itself. */
export interface BridgeStatus {
  state: BridgeState;
  /** The last problem, in words an integrator can act on. */
  lastError?: string;
  /** Remote events published on the local topic. */
  eventsIn: number;
  /** Local events the remote hub accepted (2xx). */
  eventsOut: number;
  /** Round trip of the last accepted publish POST to the remote hub, in ms. */
  lastRttMs?: number;
}

/** A running bridge. */
export interface Bridge {
  /** The configuration, without the token. */
  readonly config: PublicBridgeConfig;
  /** A copy of the current status. */
  status(): BridgeStatus;
  /** Calls `listener` with the status on every change; returns the function that removes it. */
  onStatus(listener: (status: BridgeStatus) => void): () => void;
  /** Unsubscribes at the remote hub, closes the socket with 1000, leaves the local topic. */
  stop(): Promise<void>;
}

/** The slice of a WebSocket the bridge uses: the browser's, `ws`'s and mock-socket's all fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** The listener takes `any` so that every implementation's own event types are accepted. */
  addEventListener(type: 'message' | 'close' | 'error', listener: (event: any) => void): void;
}

/** A WebSocket constructor. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The fetch API as the bridge calls it. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** The engine calls a bridge makes on the local hub. */
export type LocalHub = Pick<Hub, 'subscribe' | 'unsubscribe' | 'connect' | 'publish' | 'getContext'>;

/** Timing and size limits; every one has a default. */
export interface BridgeTuning {
  /** How long to wait for the confirmation after the socket opens. Default 10 000 ms. */
  confirmationTimeoutMs: number;
  /** How long one HTTP request to the remote hub may take. Default 10 000 ms. */
  requestTimeoutMs: number;
  /** First reconnect delay before jitter. Default 500 ms. */
  backoffBaseMs: number;
  /** Largest reconnect delay. Default 30 000 ms. */
  backoffMaxMs: number;
  /** Local publishes kept while the remote is unreachable. Default 100. */
  queueLimit: number;
  /** Event ids remembered to recognise echoes and duplicates. Default 2000. */
  seenLimit: number;
  /** The connection counts as lost after this many heartbeat periods of silence. Default 2.5. */
  heartbeatSilenceFactor: number;
  /** Renew a lease when this fraction of it has run. Default 0.8. */
  renewAtFraction: number;
  /** Lease assumed when a confirmation states none. Default 7200 s. */
  assumedLeaseSeconds: number;
  /** Attempts to send one local event before it is reported as not delivered. Default 5. */
  publishAttempts: number;
  /** Lease asked of the local hub. Default 86 400 s. */
  localLeaseSeconds: number;
  /** `subscriber.name` at both hubs. Default `tabcast bridge`. */
  subscriberName: string;
}

/** What a bridge is built from. Only `hub`, `fetch` and `WebSocket` are required. */
export interface BridgeDeps {
  /** The local engine. */
  hub: LocalHub;
  fetch: FetchLike;
  WebSocket: WebSocketConstructor;
  clock?: Clock;
  /** A number in [0, 1), for backoff jitter and generated event ids. */
  random?: () => number;
  setTimeout?: (callback: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  tuning?: Partial<BridgeTuning>;
}

/** Timers as the bridge uses them. */
export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}
