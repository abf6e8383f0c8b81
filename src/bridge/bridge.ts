/**
 * The WebSocket bridge: relays a local topic to a remote FHIRcast hub and back (GitHub issue #4).
 * This file builds a bridge from its parts and sequences them:
 * - ./remote-link.ts keeps the remote connection (subscribe, confirm, renew, reconnect with backoff);
 * - ./local-link.ts is an ordinary subscription on the local engine;
 * - ./remote-to-local.ts and ./local-to-remote.ts relay events, ./outbox.ts queues the outgoing ones;
 * - ./memory.ts remembers event ids, which cut loops and duplicates.
 */
import { checkConfig, DEFAULT_TUNING } from './config.js';
import { LocalLink } from './local-link.js';
import type { OutboundRelay } from './local-to-remote.js';
import { Outbox } from './outbox.js';
import { RemoteError, RemoteHub } from './remote-http.js';
import { RemoteLink } from './remote-link.js';
import type { RemoteSession } from './remote-session.js';
import { RemoteSubscription, type BridgeAuth } from './remote-subscription.js';
import type { InboundRelay } from './remote-to-local.js';
import { buildRelayPair } from './relay-pair.js';
import { StompBridgeRunner } from './stomp-bridge.js';
import { messageOf, StatusBoard } from './status-board.js';
import type { Bridge, BridgeConfig, BridgeDeps, BridgeStatus, PublicBridgeConfig } from './types.js';

const ECHO_WAIT_MS = 2000;

/** Starts a bridge. Throws a HubError (400) for a bad configuration or when the local hub refuses the events. */
export function startBridge(config: BridgeConfig, deps: BridgeDeps): Bridge {
  const bridge = createBridgeRunner(config, deps);
  bridge.start();
  return bridge;
}

/** What a registry drives: a bridge with its start, resume and stop hooks, whatever its dialect. */
export type RunnableBridge = Bridge & Pick<BridgeRunner, 'onUserStop' | 'waitingForToken' | 'start' | 'resume'>;

/** The runner for a configuration's dialect: `stomp` has a transport of its own (./stomp-bridge.ts). */
export function createBridgeRunner(config: BridgeConfig, deps: BridgeDeps, parked?: string): RunnableBridge {
  return config.dialect === 'stomp' ? new StompBridgeRunner(config, deps, parked) : new BridgeRunner(config, deps, parked);
}

/** The bridge itself; registries also use `resume`, `waitingForToken` and `onUserStop`. */
export class BridgeRunner implements Bridge {
  readonly config: PublicBridgeConfig;
  /** Called when `stop()` is called (a registry forgets the bridge then). */
  onUserStop: (() => void) | undefined;

  private readonly board: StatusBoard;
  private readonly remote: RemoteHub;
  private readonly subscription: RemoteSubscription;
  private readonly link: RemoteLink;
  private readonly local: LocalLink;
  private readonly outbox: Outbox<RemoteSession>;
  private readonly inbound: InboundRelay;
  private readonly outbound: OutboundRelay;

  /** `parked`: the reason a resumed bridge waits for a token before it may start. */
  constructor(config: BridgeConfig, deps: BridgeDeps, parked?: string) {
    const checked = checkConfig(config);
    const { dialect, remoteTopic } = checked;
    this.config = checked.config;
    const topic = checked.config.topic;
    const tuning = { ...DEFAULT_TUNING, ...deps.tuning };
    const { timers, clock } = deps;
    const now = () => clock.now();
    const random = deps.random ?? Math.random;
    const status = new StatusBoard(
      parked === undefined ? { state: 'connecting', eventsIn: 0, eventsOut: 0 } : { state: 'stopped', lastError: parked, eventsIn: 0, eventsOut: 0 },
    );
    const subscriberName = tuning.subscriberName;
    this.board = status;
    // The parts call each other through closures, so the order they are built in does not matter.
    // A getTopic bridge learns its remote topic at each connect: every part reads it when it needs it.
    const topicNow = () => this.subscription.remoteTopic ?? remoteTopic;
    this.remote = new RemoteHub({ hubUrl: config.remoteHubUrl, get topic() { return topicNow(); }, dialect, fetch: deps.fetch, timers, requestTimeoutMs: tuning.requestTimeoutMs, subscriberName });
    const subscription = new RemoteSubscription(this.remote, config, config.events);
    this.subscription = subscription;
    const { inbound, outbound, remoteVersions } = buildRelayPair({
      hub: deps.hub,
      topic,
      remoteTopic: topicNow,
      subscriberName,
      seenLimit: tuning.seenLimit,
      now,
      random,
      status,
      echoed: (id) => this.outbox.echoed(id),
      running: () => this.link.running,
      covers: (eventName) => subscription.covers(eventName),
      queue: (item) => this.outbox.add(item),
    });
    this.inbound = inbound;
    this.outbound = outbound;
    const session = {
      WebSocket: deps.WebSocket,
      dialect,
      get remoteTopic() {
        return topicNow();
      },
      tuning,
      timers,
      resubscribe: (endpoint: string) => subscription.renew(endpoint),
    };
    this.link = new RemoteLink(
      { remote: this.remote, subscription, session, tuning, timers, random, status },
      {
        confirmed: (s) => void this.synchronise(s),
        notification: (s, n) => this.inbound.relay(n, (id, code) => s.ack(id, code)),
        finished: () => {
          this.local.close();
          this.outbox.clear();
        },
      },
    );
    this.local = new LocalLink({
      hub: deps.hub,
      topic,
      events: subscription.events,
      subscriberName,
      leaseSeconds: tuning.localLeaseSeconds,
      renewAtFraction: tuning.renewAtFraction,
      timers,
      onNotification: (n, catchUp) => this.outbound.relay(n, catchUp),
      onError: (message) => status.set({ lastError: message }),
    });
    this.outbox = new Outbox<RemoteSession>(
      {
        connection: () => this.link.confirmedSession(),
        post: (request) => this.remote.publish(request, subscription.token),
        delivered: (_item, rttMs) => status.count('eventsOut', { lastRttMs: rttMs }),
        undelivered: (item, reason) => this.outbound.undelivered(item, reason),
        unauthorized: (message) => this.link.unauthorized(message),
        broken: (s, message) => this.link.drop(s, message, true),
      },
      { limit: tuning.queueLimit, attempts: tuning.publishAttempts, get remoteTopic() { return topicNow(); }, remoteVersions, timers, now, echoWaitMs: ECHO_WAIT_MS },
    );
    if (parked !== undefined) this.link.park();
  }

  /** True while stopped because the remote wants a (new) token; `resume` restarts it. */
  get waitingForToken(): boolean {
    return this.link.waitingForToken;
  }

  status(): BridgeStatus {
    return this.board.get();
  }

  onStatus(listener: (status: BridgeStatus) => void): () => void {
    return this.board.onStatus(listener);
  }

  async stop(): Promise<void> {
    const wasRunning = await this.link.stop();
    if (wasRunning) this.local.close();
    this.outbox.clear();
    this.onUserStop?.();
  }

  /** Starts relaying (a new bridge, or a resumed one). */
  start(): void {
    this.local.open();
    this.link.start();
  }

  /** Restarts a bridge that stopped for lack of a token, with new credentials. */
  resume(auth: BridgeAuth): void {
    if (!this.link.waitingForToken) return;
    this.subscription.setAuth(auth);
    this.link.tokenArrived();
    this.start();
  }

  /** After a confirmation: send what was queued, in order, then adopt the remote's current context. */
  private async synchronise(s: RemoteSession): Promise<void> {
    await this.outbox.flush();
    if (!this.link.isCurrent(s) || this.outbox.size > 0) return;
    await this.adoptRemoteContext(s);
    this.link.inStep(s);
  }

  private async adoptRemoteContext(s: RemoteSession): Promise<void> {
    let body: unknown;
    try {
      body = await this.remote.getContext(this.subscription.token);
    } catch (error) {
      if (!this.link.isCurrent(s)) return;
      if (error instanceof RemoteError && error.status === 401) return this.link.unauthorized(error.message);
      this.board.set({ lastError: `the remote hub's current context could not be read, so it was not adopted: ${messageOf(error)}` });
      return;
    }
    if (this.link.isCurrent(s)) await this.inbound.adopt(body);
  }
}
