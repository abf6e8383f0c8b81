/**
 * The WebSocket bridge: relays a local topic to a remote FHIRcast hub and back (GitHub issue #4).
 *
 * Remote side: subscribe over HTTP, open the endpoint, wait for the confirmation, ack every
 * notification, renew the lease, reconnect with backoff after any drop, then send what was queued
 * and adopt the remote's current context. Local side: an ordinary subscription on the engine
 * (./local-link.ts). Loops and duplicates are cut by event id (./memory.ts).
 */
import { CATALOG_EVENT_NAMES, isHubError, type EventPayload } from '../protocol/index.js';
import { checkConfig, DEFAULT_TUNING } from './config.js';
import type { Dialect } from './dialects.js';
import { frameText, readFrame, readRemoteContext, type RemoteNotification } from './frames.js';
import { LocalLink } from './local-link.js';
import { AnchorVersions, SeenIds, anchorOf, backoffDelay } from './memory.js';
import { Outbox } from './outbox.js';
import { reconcileEvent } from './reconcile.js';
import { RemoteError, RemoteHub } from './remote-http.js';
import { toLocalRequest, undeliveredSyncError, type Outgoing } from './translate.js';
import type {
  Bridge,
  BridgeConfig,
  BridgeDeps,
  BridgeStatus,
  BridgeTuning,
  PublicBridgeConfig,
  Timers,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';

/** Largest remote frame relayed into the local hub, as the hub's own body limit (1 MiB). */
const MAX_REMOTE_FRAME_CHARS = 1024 * 1024;

const RENEW_RETRY_MS = 30_000;
const ECHO_WAIT_MS = 2000;
const OPEN = 1;

/** One WebSocket connection to a remote endpoint. */
interface Session {
  readonly socket: WebSocketLike;
  readonly endpoint: string;
  confirmed: boolean;
  leaseSeconds: number;
  heartbeatMs?: number;
  timers: { confirm?: unknown; silence?: unknown; renew?: unknown };
}

/** Starts a bridge. Throws a HubError (400) for a bad configuration or when the local hub refuses the events. */
export function startBridge(config: BridgeConfig, deps: BridgeDeps): Bridge {
  const bridge = new BridgeRunner(config, deps);
  bridge.start();
  return bridge;
}

/** The bridge itself; registries also use `resume`, `waitingForToken` and `onUserStop`. */
export class BridgeRunner implements Bridge {
  readonly config: PublicBridgeConfig;
  /** True while stopped because the remote wants a (new) token; `resume` restarts it. */
  waitingForToken = false;
  /** Called when `stop()` is called (a registry forgets the bridge then). */
  onUserStop: (() => void) | undefined;

  private auth: Pick<BridgeConfig, 'token' | 'getToken'>;
  private token: string | undefined;
  private readonly remoteTopic: string;
  private remoteEvents: string[];
  private narrowed = false;
  private readonly dialect: Dialect;
  private readonly tuning: BridgeTuning;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly WebSocketCtor: WebSocketConstructor;
  private readonly remote: RemoteHub;
  private readonly local: LocalLink;
  private readonly seen: SeenIds;
  private readonly localVersions = new AnchorVersions();
  private readonly remoteVersions = new AnchorVersions();
  private readonly listeners = new Set<(status: BridgeStatus) => void>();
  private current: BridgeStatus = { state: 'connecting', eventsIn: 0, eventsOut: 0 };
  private session: Session | undefined;
  /** An endpoint worth reopening before subscribing again (the subscription may still live). */
  private endpoint: string | undefined;
  private attempt = 0;
  private attemptGeneration = 0;
  private retryTimer: unknown;
  private ended = false;
  private unauthorizedInARow = 0;
  private readonly outbox: Outbox<Session>;
  private idCounter = 0;

  constructor(
    config: BridgeConfig,
    private readonly deps: BridgeDeps,
    parked?: string,
  ) {
    const checked = checkConfig(config);
    this.dialect = checked.dialect;
    this.remoteTopic = checked.remoteTopic;
    this.config = checked.config;
    const { dialect } = checked;
    const topic = checked.config.topic;
    this.auth = { token: config.token, getToken: config.getToken };
    this.remoteEvents = [...(config.events ?? CATALOG_EVENT_NAMES)];
    this.tuning = { ...DEFAULT_TUNING, ...deps.tuning };
    const set = deps.setTimeout ?? ((cb: () => void, ms: number) => globalThis.setTimeout(cb, ms));
    const clear = deps.clearTimeout ?? ((h: unknown) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>));
    this.timers = { set, clear: (h) => (h === undefined ? undefined : clear(h)) };
    this.now = deps.clock ? () => deps.clock!.now() : () => Date.now();
    this.random = deps.random ?? Math.random;
    this.WebSocketCtor = deps.WebSocket;
    this.seen = new SeenIds(this.tuning.seenLimit);
    this.remote = new RemoteHub({
      hubUrl: config.remoteHubUrl,
      topic: this.remoteTopic,
      dialect,
      fetch: deps.fetch,
      timers: this.timers,
      requestTimeoutMs: this.tuning.requestTimeoutMs,
      subscriberName: this.tuning.subscriberName,
    });
    this.local = new LocalLink({
      hub: deps.hub,
      topic,
      events: this.remoteEvents,
      subscriberName: this.tuning.subscriberName,
      leaseSeconds: this.tuning.localLeaseSeconds,
      renewAtFraction: this.tuning.renewAtFraction,
      timers: this.timers,
      onNotification: (n, catchUp) => this.onLocalNotification(n, catchUp),
      onError: (message) => this.setStatus({ lastError: message }),
    });
    this.outbox = new Outbox<Session>(
      {
        connection: () => (!this.ended && this.session?.confirmed ? this.session : undefined),
        post: (request) => this.remote.publish(request, this.token),
        delivered: (_item, rttMs) => this.setStatus({ eventsOut: this.current.eventsOut + 1, lastRttMs: rttMs }),
        undelivered: (item, reason) => this.reportUndelivered(item, reason),
        unauthorized: (message) => this.unauthorized(message),
        broken: (s, message) => this.drop(s, message, true),
      },
      {
        limit: this.tuning.queueLimit,
        attempts: this.tuning.publishAttempts,
        remoteTopic: this.remoteTopic,
        remoteVersions: this.remoteVersions,
        timers: this.timers,
        now: this.now,
        echoWaitMs: ECHO_WAIT_MS,
      },
    );
    if (parked !== undefined) {
      this.ended = true;
      this.waitingForToken = true;
      this.current = { state: 'stopped', lastError: parked, eventsIn: 0, eventsOut: 0 };
    }
  }

  // ---- public surface ----------------------------------------------------------------------

  status(): BridgeStatus {
    return { ...this.current };
  }

  onStatus(listener: (status: BridgeStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    const wasRunning = !this.ended;
    this.ended = true;
    this.waitingForToken = false;
    this.timers.clear(this.retryTimer);
    const s = this.session;
    if (s) this.clearSessionTimers(s);
    this.session = undefined;
    if (this.current.state !== 'denied') this.setStatus({ state: 'stopped' });
    const endpoint = s?.confirmed ? s.endpoint : this.endpoint;
    this.endpoint = undefined;
    if (wasRunning && endpoint) await this.remote.unsubscribe(endpoint, this.token).catch(() => undefined);
    if (s) closeQuietly(s.socket, 1000, 'bridge stopped');
    if (wasRunning) this.local.close();
    this.outbox.clear();
    this.onUserStop?.();
  }

  /** Starts relaying (a new bridge, or a resumed one). */
  start(): void {
    this.local.open();
    this.ended = false;
    this.attempt = 0;
    this.unauthorizedInARow = 0;
    this.setStatus({ state: 'connecting' });
    void this.connect();
  }

  /** Restarts a bridge that stopped for lack of a token, with new credentials. */
  resume(auth: Pick<BridgeConfig, 'token' | 'getToken'>): void {
    if (!this.waitingForToken) return;
    this.auth = { token: auth.token, getToken: auth.getToken };
    this.waitingForToken = false;
    this.start();
  }

  // ---- remote connection --------------------------------------------------------------------

  private async connect(): Promise<void> {
    this.retryTimer = undefined;
    if (this.ended) return;
    const generation = ++this.attemptGeneration;
    const stale = () => this.ended || generation !== this.attemptGeneration;
    try {
      await this.refreshToken();
    } catch (error) {
      if (!stale()) this.needToken(`getToken failed: ${messageOf(error)}`);
      return;
    }
    if (stale()) return;
    let url = this.endpoint;
    if (!url) {
      try {
        url = await this.subscribeRemote();
      } catch (error) {
        if (!stale()) this.attemptFailed(error);
        return;
      }
      if (stale()) {
        void this.remote.unsubscribe(url, this.token).catch(() => undefined);
        return;
      }
    }
    this.openSocket(url);
  }

  private async refreshToken(): Promise<void> {
    this.token = this.auth.getToken ? ((await this.auth.getToken()) ?? this.auth.token) : this.auth.token;
  }

  /** Subscribes; with the default event list, a 400 narrows it once to what `.well-known` lists. */
  private async subscribeRemote(): Promise<string> {
    try {
      const url = await this.remote.subscribe(this.remoteEvents, this.token);
      this.unauthorizedInARow = 0;
      return url;
    } catch (error) {
      if (!(error instanceof RemoteError) || error.status !== 400 || this.config.events || this.narrowed) throw error;
      this.narrowed = true;
      const supported = new Set((await this.remote.eventsSupported(this.token))?.map((e) => e.toLowerCase()) ?? []);
      const usable = this.remoteEvents.filter((e) => supported.has(e.toLowerCase()));
      if (usable.length === 0) throw error;
      this.remoteEvents = usable;
      return this.remote.subscribe(this.remoteEvents, this.token);
    }
  }

  private attemptFailed(error: unknown): void {
    if (error instanceof RemoteError && error.status === 401) this.unauthorized(error.message);
    else if (error instanceof RemoteError && !error.transient) this.deny(error.message);
    else this.scheduleRetry(messageOf(error));
  }

  private openSocket(url: string): void {
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketCtor(url);
    } catch (error) {
      this.endpoint = undefined;
      this.scheduleRetry(`cannot open the remote endpoint: ${messageOf(error)}`);
      return;
    }
    const s: Session = { socket, endpoint: url, confirmed: false, leaseSeconds: this.tuning.assumedLeaseSeconds, timers: {} };
    this.session = s;
    socket.addEventListener('error', () => undefined); // a close event follows
    socket.addEventListener('message', (event: { data?: unknown }) => this.onFrame(s, event?.data));
    socket.addEventListener('close', (event: { code?: unknown; reason?: unknown }) => {
      const code = typeof event?.code === 'number' ? event.code : 1006;
      this.onClosed(s, code, typeof event?.reason === 'string' ? event.reason : '');
    });
    s.timers.confirm = this.timers.set(
      () => this.drop(s, `the remote hub sent no confirmation within ${this.tuning.confirmationTimeoutMs} ms`, false),
      this.tuning.confirmationTimeoutMs,
    );
  }

  private onClosed(s: Session, code: number, reason: string): void {
    if (s !== this.session) return;
    // After an abnormal close the subscription may still live at the remote: reopen it first.
    this.endpoint = s.confirmed && code !== 1000 && code !== 1001 ? s.endpoint : undefined;
    this.endSession();
    this.scheduleRetry(`the remote hub closed the connection (code ${code}${reason ? `: ${reason}` : ''})`);
  }

  /** Gives up on a connection the bridge no longer trusts. */
  private drop(s: Session, why: string, keepEndpoint: boolean): void {
    if (s !== this.session) return;
    this.endpoint = keepEndpoint && s.confirmed ? s.endpoint : undefined;
    this.endSession();
    this.scheduleRetry(why);
  }

  private endSession(code = 4000, reason = 'reconnecting'): void {
    const s = this.session;
    if (!s) return;
    this.session = undefined;
    this.clearSessionTimers(s);
    closeQuietly(s.socket, code, reason);
  }

  private clearSessionTimers(s: Session): void {
    this.timers.clear(s.timers.confirm);
    this.timers.clear(s.timers.silence);
    this.timers.clear(s.timers.renew);
  }

  private scheduleRetry(why: string): void {
    if (this.ended) return;
    this.endSession();
    const delay = backoffDelay(this.attempt++, this.tuning.backoffBaseMs, this.tuning.backoffMaxMs, this.random);
    this.setStatus({ state: 'reconnecting', lastError: why });
    this.timers.clear(this.retryTimer);
    this.retryTimer = this.timers.set(() => void this.connect(), delay);
  }

  private unauthorized(why: string): void {
    if (this.auth.getToken && ++this.unauthorizedInARow < 2) {
      // one more try with a fresh token, at once
      this.endSession();
      this.setStatus({ state: 'reconnecting', lastError: why });
      this.timers.clear(this.retryTimer);
      this.retryTimer = this.timers.set(() => void this.connect(), 0);
      return;
    }
    this.needToken(why);
  }

  private needToken(why: string): void {
    this.waitingForToken = true;
    this.finish('stopped', `${why}. The bridge stopped: open it again with a valid token`);
  }

  private deny(why: string): void {
    this.finish('denied', why);
  }

  /** Ends the bridge for good (denied) or until a new token comes (stopped). */
  private finish(state: 'denied' | 'stopped', why: string): void {
    if (this.ended) return;
    this.ended = true;
    this.timers.clear(this.retryTimer);
    this.endSession(1000, state === 'denied' ? 'subscription denied' : 'token needed');
    this.endpoint = undefined;
    this.local.close();
    this.outbox.clear();
    this.setStatus({ state, lastError: why });
  }

  // ---- frames from the remote ------------------------------------------------------------------

  private onFrame(s: Session, data: unknown): void {
    if (s !== this.session || this.ended) return;
    const text = frameText(data);
    if (text === undefined) return;
    this.armSilence(s);
    if (text.length > MAX_REMOTE_FRAME_CHARS) {
      // Every other way into the hub is bounded at 1 MiB (HUB-SEC-08); a remote is no exception.
      const id = /"id"\s*:\s*"([^"]{1,256})"/.exec(text.slice(0, 4096))?.[1];
      if (id) this.ack(s, id, 413);
      return;
    }
    const frame = readFrame(text);
    switch (frame.kind) {
      case 'confirmation': {
        const problem = this.dialect.checkConfirmation(frame, this.remoteTopic);
        if (problem) return this.drop(s, problem, false);
        this.timers.clear(s.timers.confirm);
        s.leaseSeconds = frame.leaseSeconds ?? this.tuning.assumedLeaseSeconds;
        this.scheduleRenewal(s, s.leaseSeconds);
        if (s.confirmed) return; // a fresh confirmation after a renewal
        s.confirmed = true;
        this.endpoint = s.endpoint;
        void this.synchronise(s);
        return;
      }
      case 'denial':
        return this.deny(frame.reason ? `the remote hub denied the subscription: ${frame.reason}` : 'the remote hub denied the subscription');
      case 'heartbeat':
        s.heartbeatMs = frame.periodMs ?? this.dialect.heartbeatMs;
        this.armSilence(s);
        return;
      case 'notification':
        return this.onRemoteNotification(s, frame.notification);
      default:
        return; // garbage, acks, OHIF-style echoes of the endpoint: ignored
    }
  }

  /** Once heartbeats are seen, silence for a few periods means the connection is gone (sleep, proxies). */
  private armSilence(s: Session): void {
    if (s.heartbeatMs === undefined) return;
    this.timers.clear(s.timers.silence);
    const ms = s.heartbeatMs * this.tuning.heartbeatSilenceFactor;
    s.timers.silence = this.timers.set(() => this.drop(s, `the remote hub went silent: no heartbeat for ${Math.round(ms / 1000)} s`, true), ms);
  }

  private scheduleRenewal(s: Session, leaseSeconds: number): void {
    this.timers.clear(s.timers.renew);
    s.timers.renew = this.timers.set(() => void this.renew(s), Math.max(1000, leaseSeconds * 1000 * this.tuning.renewAtFraction));
  }

  /** Renews the remote lease by subscribing again with the same endpoint (fhircast-spec.md §3.6). */
  private async renew(s: Session): Promise<void> {
    if (s !== this.session || this.ended) return;
    let url: string;
    try {
      await this.refreshToken();
      url = await this.remote.subscribe(this.remoteEvents, this.token, s.endpoint);
    } catch (error) {
      if (s !== this.session || this.ended) return;
      const status = error instanceof RemoteError ? error.status : undefined;
      if (status === 404) this.drop(s, `renewing the lease: the remote hub no longer knows the subscription`, false);
      else if (status === 401) this.unauthorized(messageOf(error));
      else if (error instanceof RemoteError && !error.transient) this.deny(`the remote hub refused to renew the lease: ${error.message}`);
      else s.timers.renew = this.timers.set(() => void this.renew(s), RENEW_RETRY_MS);
      return;
    }
    if (s !== this.session || this.ended) return;
    if (url !== s.endpoint) {
      // Some hubs hand out a new endpoint on renewal: move to it.
      this.endSession(1000, 'moving to the renewed endpoint');
      this.openSocket(url);
      return;
    }
    this.scheduleRenewal(s, s.leaseSeconds); // the fresh confirmation reschedules with the granted lease
  }

  /** After a confirmation: send what was queued, in order, then adopt the remote's current context. */
  private async synchronise(s: Session): Promise<void> {
    await this.outbox.flush();
    if (s !== this.session || this.ended || this.outbox.size > 0) return;
    await this.reconcile(s);
    if (s !== this.session || this.ended) return;
    this.attempt = 0;
    this.setStatus({ state: 'connected' });
  }

  private async reconcile(s: Session): Promise<void> {
    let body: unknown;
    try {
      body = await this.remote.getContext(this.token);
    } catch (error) {
      if (s !== this.session || this.ended) return;
      if (error instanceof RemoteError && error.status === 401) return this.unauthorized(error.message);
      this.setStatus({ lastError: `the remote hub's current context could not be read, so it was not adopted: ${messageOf(error)}` });
      return;
    }
    if (s !== this.session || this.ended) return;
    const remote = readRemoteContext(body);
    const local = readRemoteContext(this.deps.hub.getContext(this.config.topic));
    const anchor = remote.type && remote.versionId ? anchorOf({ 'hub.topic': '', 'hub.event': `${remote.type}-open`, context: remote.entries }) : undefined;
    if (anchor && remote.versionId) this.remoteVersions.set(anchor.key, remote.versionId);
    const change = reconcileEvent(remote, local);
    if (!change) return;
    const id = this.newId('reconcile');
    this.seen.add(id, 'bridge');
    try {
      await this.deps.hub.publish({ id, timestamp: this.isoNow(), event: { 'hub.topic': this.config.topic, 'hub.event': change.name, context: change.context } });
      this.setStatus({ eventsIn: this.current.eventsIn + 1 });
    } catch (error) {
      this.setStatus({ lastError: `the remote hub's current context could not be adopted locally: ${messageOf(error)}` });
    }
  }

  // ---- remote → local -----------------------------------------------------------------------------

  private onRemoteNotification(s: Session, n: RemoteNotification): void {
    this.remoteVersions.learn(n.event);
    const id = n.id ?? this.newId('remote');
    this.outbox.echoed(id);
    const topic = n.event['hub.topic'];
    if (this.seen.get(id) !== undefined || (topic !== undefined && topic !== this.remoteTopic)) {
      // our own echo, a duplicate, or another topic's event: answered, not applied
      if (n.id) this.ack(s, n.id, 200);
      return;
    }
    this.seen.add(id, 'remote');
    this.deps.hub.publish(toLocalRequest(n.event, id, n.timestamp, this.config.topic, this.localVersions)).then(
      () => {
        this.setStatus({ eventsIn: this.current.eventsIn + 1 });
        if (n.id) this.ack(s, n.id, 200);
      },
      (error: unknown) => {
        const status = isHubError(error) ? error.status : 500;
        this.setStatus({ lastError: `the local hub refused remote event ${id} (${n.event['hub.event']}): ${messageOf(error)}` });
        if (n.id) this.ack(s, n.id, status);
      },
    );
  }

  private ack(s: Session, id: string, status: number): void {
    if (s !== this.session || s.socket.readyState !== OPEN) return;
    try {
      s.socket.send(JSON.stringify({ id, status }));
    } catch {
      // the close event will follow
    }
  }

  // ---- local → remote -----------------------------------------------------------------------------

  private onLocalNotification(n: { id: string; timestamp: string; event: EventPayload }, catchUp: boolean): void {
    this.localVersions.learn(n.event);
    if (this.seen.get(n.id) !== undefined) return; // came from the remote (or from the bridge itself)
    this.seen.add(n.id, 'local');
    if (catchUp || this.ended) return; // the local replay after subscribing is not news for the remote
    const name = String(n.event['hub.event']).toLowerCase();
    if (this.narrowed && !this.remoteEvents.some((e) => e.toLowerCase() === name)) return;
    this.outbox.add({ id: n.id, timestamp: n.timestamp, event: JSON.parse(JSON.stringify(n.event)) as EventPayload, attempts: 0 });
  }


  /** Tells the local topic that a local event did not reach the remote hub (a SyncError, §9.1). */
  private reportUndelivered(item: Outgoing, reason: string): void {
    const id = this.newId('syncerror');
    this.seen.add(id, 'bridge');
    const n = undeliveredSyncError(item, reason, { topic: this.config.topic, subscriberName: this.tuning.subscriberName, id, timestamp: this.isoNow() });
    this.setStatus({ lastError: `event ${item.id} (${String(item.event['hub.event'])}) was not sent to the remote hub: ${reason}` });
    void this.deps.hub.publish({ id: n.id, timestamp: n.timestamp, event: n.event }).catch(() => undefined);
  }

  // ---- helpers --------------------------------------------------------------------------------------

  private setStatus(patch: Partial<BridgeStatus>): void {
    const next = { ...this.current, ...patch };
    const changed = (Object.keys(next) as (keyof BridgeStatus)[]).some((k) => next[k] !== this.current[k]);
    if (!changed) return;
    this.current = next;
    for (const listener of this.listeners) {
      try {
        listener({ ...next });
      } catch {
        // a listener's bug must not stop the bridge
      }
    }
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  private newId(kind: string): string {
    const rnd = Math.floor(this.random() * 2 ** 32).toString(36);
    return `bridge-${kind}-${this.now().toString(36)}-${(++this.idCounter).toString(36)}-${rnd}`;
  }
}

function closeQuietly(socket: WebSocketLike, code: number, reason: string): void {
  try {
    if (socket.readyState <= OPEN) socket.close(code, reason);
  } catch {
    // already closed
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

