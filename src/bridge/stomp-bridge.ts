/**
 * The bridge in the `stomp` dialect: the same local side and relays as the STU3 bridge
 * (./bridge.ts), over one STOMP connection to the remote `{hub.url}/websocket` (./stomp-remote.ts)
 * instead of an HTTP subscription and an endpoint. After each (re)connection it sends what was
 * queued, then adopts the remote's current context from its pull-context route.
 */
import { CATALOG_EVENT_NAMES } from '../protocol/index.js';
import { checkConfig, DEFAULT_TUNING } from './config.js';
import { LocalLink } from './local-link.js';
import type { OutboundRelay } from './local-to-remote.js';
import { backoffDelay } from './memory.js';
import { Outbox } from './outbox.js';
import type { InboundRelay } from './remote-to-local.js';
import { buildRelayPair } from './relay-pair.js';
import { StompRemote } from './stomp-remote.js';
import { messageOf, StatusBoard } from './status-board.js';
import type { BridgeConfig, BridgeDeps, BridgeStatus, BridgeTuning, PublicBridgeConfig, Timers } from './types.js';

const ECHO_WAIT_MS = 2000;

/** A bridge to a remote hub's STOMP channel; the registry drives it like the STU3 bridge. */
export class StompBridgeRunner {
  readonly config: PublicBridgeConfig;
  onUserStop: (() => void) | undefined;
  private readonly board: StatusBoard;
  private readonly local: LocalLink;
  private readonly inbound: InboundRelay;
  private readonly outbound: OutboundRelay;
  private readonly outbox: Outbox<StompRemote>;
  private readonly events: readonly string[];
  private readonly tuning: BridgeTuning;
  private readonly timers: Timers;
  private readonly random: () => number;
  private remote: StompRemote | undefined;
  private ready = false;
  private ended = true;
  private waiting = false;
  private attempt = 0;
  private retryTimer: unknown;
  private token: string | undefined;
  private auth: Pick<BridgeConfig, 'token' | 'getToken'>;

  constructor(
    config: BridgeConfig,
    private readonly deps: BridgeDeps,
    parked?: string,
  ) {
    const checked = checkConfig(config);
    this.config = checked.config;
    const { remoteTopic } = checked;
    const topic = checked.config.topic;
    this.tuning = { ...DEFAULT_TUNING, ...deps.tuning };
    this.timers = deps.timers;
    this.random = deps.random ?? Math.random;
    this.auth = { token: config.token, getToken: config.getToken };
    const now = () => deps.clock.now();
    this.events = [...(config.events ?? CATALOG_EVENT_NAMES)];
    this.board = new StatusBoard(parked === undefined ? { state: 'connecting', eventsIn: 0, eventsOut: 0 } : { state: 'stopped', lastError: parked, eventsIn: 0, eventsOut: 0 });
    this.waiting = parked !== undefined;
    const lowerEvents = new Set(this.events.map((e) => e.toLowerCase()));
    const { inbound, outbound, remoteVersions } = buildRelayPair({
      hub: deps.hub,
      topic,
      remoteTopic: () => remoteTopic,
      subscriberName: this.tuning.subscriberName,
      seenLimit: this.tuning.seenLimit,
      now,
      random: this.random,
      status: this.board,
      echoed: (id) => this.outbox.echoed(id),
      running: () => !this.ended,
      covers: (name) => lowerEvents.has(name.toLowerCase()) || lowerEvents.has('*'),
      queue: (item) => this.outbox.add(item),
    });
    this.inbound = inbound;
    this.outbound = outbound;
    const subscriberName = this.tuning.subscriberName;
    this.local = new LocalLink({
      hub: deps.hub,
      topic,
      events: this.events,
      subscriberName,
      leaseSeconds: this.tuning.localLeaseSeconds,
      renewAtFraction: this.tuning.renewAtFraction,
      timers: this.timers,
      onNotification: (n, catchUp) => this.outbound.relay(n, catchUp),
      onError: (message) => this.board.set({ lastError: message }),
    });
    this.outbox = new Outbox<StompRemote>(
      {
        connection: () => (!this.ended && this.ready ? this.remote : undefined),
        post: (request) => this.remote!.send(request as { event?: { 'hub.event'?: unknown } }),
        delivered: (_item, rttMs) => this.board.count('eventsOut', { lastRttMs: rttMs }),
        undelivered: (item, reason) => this.outbound.undelivered(item, reason),
        unauthorized: (message) => this.needToken(message),
        broken: (connection, message) => this.lost(connection, message, undefined),
      },
      { limit: this.tuning.queueLimit, attempts: this.tuning.publishAttempts, remoteTopic, remoteVersions, timers: this.timers, now, echoWaitMs: ECHO_WAIT_MS },
    );
  }

  get waitingForToken(): boolean {
    return this.waiting;
  }

  status(): BridgeStatus {
    return this.board.get();
  }

  onStatus(listener: (status: BridgeStatus) => void): () => void {
    return this.board.onStatus(listener);
  }

  /** Starts relaying. */
  start(): void {
    this.ended = false;
    this.waiting = false;
    this.attempt = 0;
    this.board.set({ state: 'connecting' });
    this.local.open();
    void this.connect();
  }

  /** Restarts a bridge that stopped for lack of a token. */
  resume(auth: Pick<BridgeConfig, 'token' | 'getToken'>): void {
    if (!this.waiting) return;
    this.auth = { token: auth.token, getToken: auth.getToken };
    this.start();
  }

  async stop(): Promise<void> {
    const wasRunning = !this.ended;
    this.ended = true;
    this.waiting = false;
    this.timers.clear(this.retryTimer);
    this.remote?.close();
    this.remote = undefined;
    if (this.board.get().state !== 'denied') this.board.set({ state: 'stopped' });
    if (wasRunning) this.local.close();
    this.outbox.clear();
    this.onUserStop?.();
  }

  private async connect(): Promise<void> {
    this.retryTimer = undefined;
    if (this.ended) return;
    try {
      this.token = this.auth.getToken ? ((await this.auth.getToken()) ?? this.auth.token) : this.auth.token;
    } catch (error) {
      return this.needToken(`getToken failed: ${messageOf(error)}`);
    }
    if (this.ended) return;
    this.ready = false;
    const remote: StompRemote = new StompRemote(
      { hubUrl: this.config.remoteHubUrl, remoteTopic: this.config.remoteTopic!, events: this.events, token: this.token, clientId: this.tuning.subscriberName, WebSocket: this.deps.WebSocket, timers: this.timers, timeoutMs: this.tuning.confirmationTimeoutMs },
      {
        ready: () => {
          if (remote !== this.remote) return;
          this.ready = true;
          void this.synchronise(remote);
        },
        notification: (n, answer) => {
          if (remote === this.remote) this.inbound.relay(n, (_id, status) => answer(status));
        },
        lost: (why, status) => this.lost(remote, why, status),
      },
    );
    this.remote = remote;
  }

  private async synchronise(remote: StompRemote): Promise<void> {
    await this.outbox.flush();
    if (remote !== this.remote || this.outbox.size > 0) return;
    try {
      const url = `${this.config.remoteHubUrl.replace(/\/+$/, '')}/${encodeURIComponent(this.config.remoteTopic!)}/context`;
      const response = await this.deps.fetch(url, { method: 'GET', headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
      if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
      const body: unknown = await response.json();
      if (remote === this.remote) await this.inbound.adopt(body);
    } catch (error) {
      if (remote === this.remote) this.board.set({ lastError: `the remote hub's current context could not be read, so it was not adopted: ${messageOf(error)}` });
    }
    if (remote !== this.remote || this.ended) return;
    this.attempt = 0;
    this.board.set({ state: 'connected' });
  }

  /** A connection ended: 401 waits for a token, another refusal before it was ready is final, the rest reconnect. */
  private lost(remote: StompRemote, why: string, status: number | undefined): void {
    if (remote !== this.remote || this.ended) return;
    const wasReady = this.ready;
    this.remote = undefined;
    this.ready = false;
    if (status === 401) return this.needToken(why);
    if (!wasReady && status !== undefined && status >= 400 && status < 500) return this.finish('denied', why);
    const delay = backoffDelay(this.attempt++, this.tuning.backoffBaseMs, this.tuning.backoffMaxMs, this.random);
    this.board.set({ state: 'reconnecting', lastError: why });
    this.timers.clear(this.retryTimer);
    this.retryTimer = this.timers.set(() => void this.connect(), delay);
  }

  private needToken(why: string): void {
    this.waiting = true;
    this.finish('stopped', `${why}. The bridge stopped: open it again with a valid token`);
  }

  private finish(state: 'denied' | 'stopped', why: string): void {
    if (this.ended) return;
    this.ended = true;
    this.timers.clear(this.retryTimer);
    this.remote?.close();
    this.remote = undefined;
    this.local.close();
    this.outbox.clear();
    this.board.set({ state, lastError: why });
  }
}
