/**
 * The contract of the standard STU3 surface over the engine, shared by the Node server and the
 * in-page shims (hub.fetch / hub.WebSocket). Implemented in ./handler.ts.
 */
import type { ConnectionHandle } from '../hub/index.js';
import type { SubscriptionRequest } from '../protocol/index.js';
import type { ChannelSwitches } from './protocols.js';

/** Settings of one wire surface. */
export interface WireOptions {
  /** The hub.url this surface answers to, e.g. `http://127.0.0.1:5200/fhircast/hub`. */
  hubUrl: string;
  /** Largest request body in bytes (HUB-CHANGE-07, HUB-SEC-08). Default 1 MiB. */
  bodyLimitBytes?: number;
  /**
   * Asked before a new subscription is made (a subscribe without hub.channel.endpoint); throwing
   * a HubError refuses it with that status, e.g. 429 for a client over its share (HUB-SEC-14).
   */
  admitSubscription?: (request: Request) => void;
  /** Told of each new subscription and the request that made it. */
  onSubscribed?: (request: Request, endpointId: string) => void;
  /**
   * Told about failures that are not the client's fault (answered 500 without detail, HUB-SEC-09),
   * so the door can log them. The error may carry a stack; never send it to a client.
   */
  onInternalError?: (error: unknown) => void;
  /** Which of the proposal's channels this door offers (channels.md §1–3). Default `{ stomp: true, websub: false }`; `websub` follows `webhooks`. */
  channels?: ChannelSwitches;
  /** Wall-clock time for answers the engine does not stamp (pull context with no context, 2019 greetings). Default Date.now. */
  now?: () => number;
  /** Webhook subscriptions and `{topic}/websub` (`tabcast serve --websub`, src/websub); absent = refused. */
  webhooks?: WebhookDoor;
  /** Answers `GET {hub.url}/healthz` (cluster mode, HUB-CLUSTER-05); without it the route says the hub is up. */
  health?: () => { status: number; body: unknown };
}

/** Where the wire hands webhook subscriptions (channels.md §3); the door lives outside the wire. */
export interface WebhookDoor {
  /** Takes a validated webhook subscribe or unsubscribe; throws a HubError 400 for a callback it refuses. */
  request(req: SubscriptionRequest): void;
}

/** The hub side of a WebSocket-shaped transport. */
export interface WireSocket {
  /**
   * Sends one text frame. `expectsAnswer` is true for a notification the subscriber must answer
   * (not a confirmation, denial or heartbeat), for doors that count unanswered frames (HUB-SEC-13).
   */
  send(text: string, expectsAnswer?: boolean): void;
  /** Closes with a WebSocket close code. */
  close(code: number, reason: string): void;
}

/** The standard HTTP + WebSocket API as plain functions. */
export interface WireHandler {
  /** Answers one HTTP request made to hub.url or below it (fetch API Request/Response). */
  handle(request: Request): Promise<Response>;
  /**
   * Attaches a socket opened to `url`. Returns the handle to feed incoming text frames and the
   * close code into, or undefined when `url` is not a live endpoint (the door answers 404).
   * A frame over 64 KiB (or the body limit, if smaller) closes the socket with 1009 before any
   * parse (HUB-SEC-08, HUB-SEC-13).
   */
  acceptSocket(url: string, socket: WireSocket): ConnectionHandle | undefined;
  /** True when `url` is a live endpoint (checked before upgrading). */
  isEndpoint(url: string): boolean;
  /** The hub.url this surface answers to, normalised (no trailing slash). */
  readonly hubUrl: string;
  /** The body and frame limit in force, in bytes. */
  readonly bodyLimitBytes: number;
}

/** The default body and frame limit: 1 MiB (conformance.md terms). */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
