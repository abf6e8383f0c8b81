/**
 * One connected client (a page's `connect()`): its control API, its events link, the typed
 * subscriptions and sockets it holds, and how they end. A session ends normally (`bye`: its
 * subscriptions are unsubscribed), abnormally (its tab's lock was freed: a 1006 close, so the
 * others get a SyncError), or because the host retires.
 */
import type { Hub } from '../hub/index.js';
import { badRequest, conflict, forbidden, HubError } from '../protocol/outcome.js';
import { endpointUrl, hubLocation, type HubLocation } from '../wire/endpoints.js';
import * as check from './arguments.js';
import type { BridgeHost } from './bridges.js';
import { answerControl } from './control-guard.js';
import type { LazyWires } from './lazy-wires.js';
import { watchLock, type LockManagerLike } from '../link/locks.js';
import { MAX_BATCH, TaskBatcher } from '../link/batching.js';
import { CLIENT_LOCK_PREFIX, HOST_METHODS, HOST_PROTOCOL, LEAN_PROTOCOL, type HostApi, type HostMessage, type Link } from '../link/messages.js';
import { settle, toWireError } from './results.js';
import { SocketRelay } from './socket-relay.js';
import { SessionSubscriptions } from './typed-subscriptions.js';

/** The oldest page protocol a host still serves. */
const MIN_CLIENT_PROTOCOL = 1;
/**
 * A page asks to be watched right after hello. One that never does (it closed while connecting,
 * or it is not tabcast) could never be found dead, so its session is dropped after this long.
 */
const WATCH_DEADLINE_MS = 30_000;
const METHODS = new Set<string>(HOST_METHODS);

/** JSON text of each notification frame, made once however many pages it goes to. */
const frameTexts = new WeakMap<object, string>();
function frameText(frame: object): string {
  let text = frameTexts.get(frame);
  if (text === undefined) {
    text = JSON.stringify(frame);
    frameTexts.set(frame, text);
  }
  return text;
}

/** What a session needs from the host that runs it. */
export interface SessionHost {
  readonly hub: Hub;
  readonly hostId: string;
  readonly locks: LockManagerLike;
  readonly bridges: BridgeHost;
  readonly bodyLimitBytes: number;
  readonly wires: LazyWires;
  retire(): void;
  ended(session: ClientSession): void;
  reportInternal(error: unknown): void;
}

/** How a session ends: `bye` = hub.close(), `dead` = its tab vanished, `retired` = the host stops (pages learn it from the host lock). */
export type SessionEnd = 'bye' | 'dead' | 'retired';

/** One client of the host. */
export class ClientSession {
  private state: 'new' | 'ready' | 'ended' = 'new';
  private events?: Link;
  private location?: HubLocation;
  private appName = 'tabcast app';
  private clientProtocol = 0;
  /** Set for a page that speaks LEAN_PROTOCOL: its messages leave once per task. */
  private outbox?: TaskBatcher<HostMessage>;
  private readonly subs: SessionSubscriptions;
  private readonly sockets = new SocketRelay(
    (message) => this.post(message),
    (error) => this.host.reportInternal(error),
  );
  private readonly bridgeListeners = new Map<string, () => void>();
  private readonly watching = new AbortController();
  private watched = false;
  private readonly unwatchedTimer: ReturnType<typeof setTimeout>;
  private stopObserving?: () => void;

  constructor(private readonly host: SessionHost, control: Link, private readonly busEvents?: Link) {
    this.subs = new SessionSubscriptions({
      hub: host.hub,
      post: (message) => this.post(message),
    });
    answerControl(control, Object.freeze(this.api()), METHODS);
    this.unwatchedTimer = setTimeout(() => this.end('dead'), WATCH_DEADLINE_MS);
  }

  /** Ends the session (idempotent). */
  end(kind: SessionEnd): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    clearTimeout(this.unwatchedTimer);
    this.watching.abort();
    this.stopObserving?.();
    for (const off of this.bridgeListeners.values()) off();
    this.subs.endAll(kind);
    // Retiring, the engine's shutdown has closed the sockets already (1001, no SyncError).
    if (kind !== 'retired') this.sockets.closeAll(kind === 'dead');
    else this.sockets.forgetOpening();
    this.host.ended(this);
    // After the current task, so that a `bye` still gets its reply; a dead page's port is garbage anyway.
    const events = this.events;
    setTimeout(() => events?.close?.(), 0);
  }

  private api(): HostApi {
    const hub = this.host.hub;
    const run = <T>(action: () => T | Promise<T>) => this.run(action);
    return {
      hello: (args) => settle(() => this.hello(args), (error) => this.host.reportInternal(error)),
      watch: (lockName) => run(() => this.watch(lockName)),
      bye: () => run(() => this.end('bye')),
      retire: () =>
        run(() => {
          if (this.clientProtocol <= HOST_PROTOCOL) throw forbidden('only a page with a newer tabcast may retire this hub');
          this.host.retire();
        }),
      createTopic: () => run(() => hub.createTopic()),
      getTopic: (username, secret) => run(() => hub.getTopic(check.text(username, 'username'), check.text(secret, 'secret', 4096))),
      subscribe: (subId, args) => run(() => this.subscribe(check.text(subId, 'subscription id'), check.subscribeArgs(args))),
      unsubscribe: (subId) => run(() => this.subs.remove(check.text(subId, 'subscription id'))),
      publish: (body) => run(() => hub.publish(check.jsonBody(body, this.host.bodyLimitBytes))),
      getContext: (topic) => run(() => hub.getContext(check.text(topic, 'topic (hub.topic)', 256))),
      inspect: () => run(() => hub.inspect()),
      observe: (on) => run(() => this.observe(on)),
      fetch: (request) =>
        run(async () => this.host.wires.fetch(this.location!.url, request)),
      bridge: (request) =>
        run(async () => {
          const { id, bridge } = await this.host.bridges.open(check.bridgeRequest(request));
          this.listenToBridge(id);
          return { id, status: bridge.status() };
        }),
      watchBridge: (id) =>
        run(() => {
          const status = this.host.bridges.get(check.text(id, 'bridge id', 4096)).status();
          this.listenToBridge(id);
          return status;
        }),
      stopBridge: (id) => run(() => this.host.bridges.stop(check.text(id, 'bridge id', 4096))),
    };
  }

  /** Runs a page's request as a Result, once hello has made the session ready. */
  private run<T>(action: () => T | Promise<T>) {
    return settle(() => {
      if (this.state === 'new') throw conflict('call hello first');
      if (this.state === 'ended') throw new HubError(410, 'processing', 'this session has ended; connect again');
      return action();
    }, (error) => this.host.reportInternal(error));
  }

  private hello(args: unknown) {
    if (this.state !== 'new') throw conflict('hello was already called on this connection');
    if (typeof args !== 'object' || args === null) throw badRequest('hello needs { protocol, hubUrl }', 'structure');
    const { protocol, appName, hubUrl, events } = args as Record<string, unknown>;
    if (!Number.isInteger(protocol) || (protocol as number) < MIN_CLIENT_PROTOCOL) {
      throw new HubError(426, 'not-supported', 'this page runs a tabcast too old for the hub: reload the page');
    }
    const link = events instanceof MessagePort ? (events as Link) : this.busEvents;
    if (!link) throw badRequest('hello needs the events port', 'required');
    try {
      this.location = hubLocation(check.text(hubUrl, 'hubUrl', 2048));
    } catch (error) {
      if (error instanceof HubError) throw error;
      throw badRequest(`hubUrl must be an absolute http or https URL, got ${JSON.stringify(hubUrl)}`, 'value');
    }
    if (appName !== undefined) this.appName = check.text(appName, 'appName');
    this.clientProtocol = protocol as number;
    this.events = link;
    if (this.clientProtocol >= LEAN_PROTOCOL) this.outbox = new TaskBatcher((data) => this.send(data));
    link.addEventListener('message', (event) => this.receiveBatch(event.data));
    link.start?.();
    this.state = 'ready';
    return { hostId: this.host.hostId, protocol: HOST_PROTOCOL, hubUrl: this.location.url };
  }

  private watch(lockName: unknown): void {
    const name = check.text(lockName, 'lock name');
    if (!name.startsWith(CLIENT_LOCK_PREFIX)) throw badRequest(`the lock to watch must be named ${CLIENT_LOCK_PREFIX}…`, 'value');
    if (this.watched) throw conflict('this connection is already watched');
    this.watched = true;
    clearTimeout(this.unwatchedTimer);
    // Granted only when the page's own lock is freed: the tab closed, crashed or navigated away.
    watchLock(this.host.locks, name, () => this.end('dead'), this.watching.signal);
  }

  private subscribe(subId: string, args: ReturnType<typeof check.subscribeArgs>) {
    const result = this.subs.add(subId, { ...args, subscriberName: args.subscriberName ?? this.appName });
    const endpoint = endpointUrl(this.location!, result.endpoint);
    return { endpoint, topic: result.topic, events: result.events, leaseSeconds: result.leaseSeconds };
  }

  private observe(on: unknown): void {
    if (typeof on !== 'boolean') throw badRequest('observe takes true or false', 'value');
    if (on && !this.stopObserving) this.stopObserving = this.host.hub.observe((entry) => this.post({ t: 'log', entry }));
    if (!on) {
      this.stopObserving?.();
      this.stopObserving = undefined;
    }
  }

  private listenToBridge(id: string): void {
    if (this.bridgeListeners.has(id)) return;
    const bridge = this.host.bridges.get(id);
    this.bridgeListeners.set(id, bridge.onStatus((status) => this.post({ t: 'bridge', id, status })));
  }

  /** What the page posted on the events link: one message, or (TEXT_PROTOCOL) an array of what one task of the page posted. */
  private receiveBatch(data: unknown): void {
    if (!Array.isArray(data)) return this.receive(data);
    if (data.length > MAX_BATCH) {
      this.post({ t: 'error', error: toWireError(badRequest(`the hub ignored a batch of ${data.length} messages on the events port: at most ${MAX_BATCH} go in one`, 'too-long')) });
      return;
    }
    for (const item of data) this.receive(item);
  }

  /** A message from the page on the events link. Anything malformed is answered with a 400 and dropped. */
  private receive(data: unknown): void {
    if (this.state !== 'ready') return;
    const m = (typeof data === 'object' && data !== null && !Array.isArray(data) ? data : {}) as Record<string, unknown>;
    const id = m.id;
    const ok = typeof id === 'string';
    if (m.t === 'ack' && ok && typeof m.sub === 'string' && Number.isInteger(m.status)) {
      this.subs.answer(m.sub, id, m.status as number);
    } else if (m.t === 'publish' && Number.isSafeInteger(id) && typeof m.text === 'string') {
      const text = m.text;
      void this.run(() => this.host.hub.publish(check.jsonText(text, this.host.bodyLimitBytes))).then((result) => this.post({ t: 'published', id: id as number, result }));
    } else if (m.t === 'publish' && Number.isSafeInteger(id) && m.body !== undefined) {
      const body = m.body;
      void this.run(() => this.host.hub.publish(check.jsonBody(body, this.host.bodyLimitBytes))).then((result) => this.post({ t: 'published', id: id as number, result }));
    } else if (m.t === 'ws-open' && ok && typeof m.url === 'string') {
      const hubUrl = this.location!.url;
      this.sockets.open(id, m.url, this.host.wires.peek(hubUrl) ?? this.host.wires.get(hubUrl));
    } else if (m.t === 'ws-frame' && ok && typeof m.data === 'string') {
      this.sockets.frame(id, m.data);
    } else if (m.t === 'ws-close' && ok && Number.isInteger(m.code)) {
      this.sockets.close(id, m.code as number, typeof m.reason === 'string' ? m.reason : '');
    } else {
      const what = typeof m.t === 'string' ? `a ${JSON.stringify(m.t).slice(0, 40)} message with missing or mistyped fields` : 'a message without a known type';
      this.post({ t: 'error', error: toWireError(badRequest(`the hub ignored ${what} on the events port`, 'structure')) });
    }
  }

  private post(message: HostMessage): void {
    if (!this.outbox) return this.send(message);
    // A lean page gets each notification as text, serialised once for all the pages it goes to.
    if (message.t === 'event' && typeof message.frame === 'object') message = { ...message, frame: frameText(message.frame) };
    this.outbox.post(message);
  }

  private send(data: unknown): void {
    try {
      this.events?.postMessage(data);
    } catch (error) {
      this.host.reportInternal(error);
    }
  }
}
