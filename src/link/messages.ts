/**
 * The wire between a page (src/client) and the host that runs the engine (a SharedWorker or the
 * leader tab). Types and names only: both ends import this file, so the page bundle pays nothing.
 *
 * Two links per client: a control link answered with Comlink (`HostApi`, one reply per call) and
 * one events link carrying tagged messages both ways (notifications, acks, socket frames, status).
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { HubLogEntry, HubSnapshot, PublishResult } from '../hub/index.js';
import type { GetContextResponse, Notification } from '../protocol/messages.js';
import type { BridgeStatus, DialectName } from '../bridge/types.js';

/** Version of this page↔host protocol. A host retires when a page speaks a newer one (a new deploy). */
export const HOST_PROTOCOL = 3;
/**
 * From this version on, the events link is lean: a page publishes on it (`publish` → `published`)
 * instead of through a Comlink call, each notification crosses as its JSON text, and the host sends
 * what one task produced as one array of messages. A host still speaks version 1 to older pages.
 */
export const LEAN_PROTOCOL = 2;
/**
 * From this version on, a page also batches: what it posts on the events link during one task
 * (acks, publishes, socket frames) leaves as one array, and a publish carries the request as its
 * JSON text (`text`), so the host neither unclones an object graph nor serialises it again to
 * measure it. A host accepts both forms from any page.
 */
export const TEXT_PROTOCOL = 3;
/** The SharedWorker's name: pages that agree on URL and name share one worker. */
export const WORKER_NAME = 'tabcast';
/** Held by whichever host serves the origin, so two hosts never write the same IndexedDB. */
export const HUB_LOCK = 'tabcast:hub';
/** Prefix of the lock each client holds for as long as it lives. */
export const CLIENT_LOCK_PREFIX = 'tabcast:client:';
/** BroadcastChannel name of the leader-tab mode. */
export const BUS_NAME = 'tabcast:bus';

/** The lock a host holds while it serves; pages wait on it to learn that the host is gone. */
export const hostLockName = (hostId: string): string => `tabcast:host:${hostId}`;

/** A HubError in plain parts, as it crosses a structured clone. */
export interface WireError {
  status: number;
  outcome: OperationOutcome;
}

/** Every control call answers with a Result, so a HubError keeps its status and outcome. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** The first call of every client. */
export interface HelloArgs {
  protocol: number;
  appName?: string;
  hubUrl: string;
  /** The host's end of the events link (SharedWorker mode; the leader-tab bus has its own). */
  events?: MessagePort;
}

/** The host's answer to hello. */
export interface Welcome {
  hostId: string;
  protocol: number;
  hubUrl: string;
}

/** A typed subscribe as the page sends it. */
export interface TypedSubscribeArgs {
  topic: string;
  events: string[];
  subscriberName?: string;
  leaseSeconds?: number;
}

/** What a typed subscribe was granted. `endpoint` is the subscription's `hub.channel.endpoint` URL. */
export interface SubscriptionInfo {
  endpoint: string;
  topic: string;
  events: string;
  leaseSeconds: number;
}

/** A fetch Request in cloneable parts. */
export interface SerializedRequest {
  url: string;
  method: string;
  headers: [string, string][];
  body: ArrayBuffer | null;
}

/** A fetch Response in cloneable parts. */
export interface SerializedResponse {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: ArrayBuffer | null;
}

/** A bridge's configuration as a page passes it (DESIGN.md `hub.bridge`). */
export interface BridgeRequest {
  topic: string;
  remoteHubUrl: string;
  remoteTopic?: string;
  events?: string[];
  token?: string;
  dialect?: DialectName;
  /** The 2019 GetTopic (channels.md §4): the secret is then the Bearer; never stored. */
  getTopic?: { username: string; secret: string };
}

/** A bridge the host runs, as a page sees it. */
export interface BridgeInfo {
  id: string;
  status: BridgeStatus;
}

/** The control API each client session exposes through Comlink. */
export interface HostApi {
  hello(args: HelloArgs): Promise<Result<Welcome>>;
  watch(lockName: string): Promise<Result<void>>;
  bye(): Promise<Result<void>>;
  /** Asks a host running an older protocol to stop, so a fresh one starts (a new deploy). */
  retire(): Promise<Result<void>>;
  createTopic(): Promise<Result<string>>;
  getTopic(username: string, secret: string): Promise<Result<string>>;
  subscribe(subId: string, args: TypedSubscribeArgs): Promise<Result<SubscriptionInfo>>;
  unsubscribe(subId: string): Promise<Result<void>>;
  publish(body: unknown): Promise<Result<PublishResult>>;
  getContext(topic: string): Promise<Result<GetContextResponse>>;
  inspect(): Promise<Result<HubSnapshot>>;
  observe(on: boolean): Promise<Result<void>>;
  fetch(request: SerializedRequest): Promise<Result<SerializedResponse>>;
  bridge(request: BridgeRequest): Promise<Result<BridgeInfo>>;
  watchBridge(id: string): Promise<Result<BridgeStatus>>;
  stopBridge(id: string): Promise<Result<BridgeStatus>>;
}

/** Names of the HostApi methods: the only calls a host accepts on its control link. */
export const HOST_METHODS: readonly (keyof HostApi)[] = [
  'hello', 'watch', 'bye', 'retire', 'createTopic', 'getTopic', 'subscribe', 'unsubscribe', 'publish',
  'getContext', 'inspect', 'observe', 'fetch', 'bridge', 'watchBridge', 'stopBridge',
];

/** Host → page on the events link. */
export type HostMessage =
  /** `frame` is the Notification; from LEAN_PROTOCOL on, its JSON text (serialised once per notification). */
  | { t: 'event'; sub: string; frame: Notification | string }
  /** The answer to a lean `publish`, by the page's counter id. */
  | { t: 'published'; id: number; result: Result<PublishResult> }
  | { t: 'ended'; sub: string; code: number; reason: string }
  | { t: 'ws-open'; id: string }
  | { t: 'ws-frame'; id: string; data: string }
  | { t: 'ws-close'; id: string; code: number; reason: string; clean: boolean }
  | { t: 'log'; entry: HubLogEntry }
  | { t: 'bridge'; id: string; status: BridgeStatus }
  | { t: 'error'; error: WireError };

/** Page → host on the events link. */
export type ClientMessage =
  | { t: 'ack'; sub: string; id: string; status: number }
  /** A context change (LEAN_PROTOCOL): `body` is the request, `id` a counter of the page's. */
  | { t: 'publish'; id: number; body: unknown }
  /** A context change (TEXT_PROTOCOL): `text` is the request's JSON text. */
  | { t: 'publish'; id: number; text: string }
  | { t: 'ws-open'; id: string; url: string }
  | { t: 'ws-frame'; id: string; data: string }
  | { t: 'ws-close'; id: string; code: number; reason: string };

/** The slice of MessagePort both links need (a real port, or a link over the leader-tab bus). */
export interface Link {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  start?(): void;
  close?(): void;
}
