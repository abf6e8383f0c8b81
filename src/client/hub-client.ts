/**
 * The hub object `connect()` resolves with: the typed API, the standard API (fetch, WebSocket),
 * and the extensions (bridge, inspect, observe), all over one reconnecting connection.
 */
import type { HubLogEntry } from '../hub/index.js';
import type { HostMessage } from '../link/messages.js';
import type { Notification } from '../protocol/messages.js';
import { BridgeHandles } from './bridge-handles.js';
import { HostConnection } from './connection.js';
import { createFetch } from './fetch-shim.js';
import type { Session } from './session.js';
import { requireFunction, requireObject, requireText } from './argument-checks.js';
import { SocketTable } from './socket-table.js';
import { PageSubscriptions } from './subscriptions.js';
import type { EventCallback, PublishRequest, SubscribeOptions, TabcastHub } from './types.js';
import { createWebSocketClass } from './websocket-shim.js';

/** Opens a session whose host messages go to the given receiver. */
export type SessionOpener = (receive: (message: HostMessage, session: Session) => void) => Promise<Session>;

/** Builds the body of a context change from `publish`'s arguments; id and timestamp are made when absent. */
export function contextChangeBody(topic: string, request: PublishRequest): unknown {
  if (typeof request !== 'object' || request === null) throw new TypeError("publish needs an event: { 'hub.event', context }");
  const { id, timestamp, ...event } = request;
  return { timestamp: timestamp ?? new Date().toISOString(), id: id ?? globalThis.crypto.randomUUID(), event: { ...event, 'hub.topic': topic } };
}

/** A connected hub. */
export class HubClient implements TabcastHub {
  readonly fetch: TabcastHub['fetch'];
  readonly WebSocket: typeof WebSocket;
  private readonly connection: HostConnection;
  private readonly subscriptions: PageSubscriptions;
  private readonly sockets: SocketTable;
  private readonly bridges: BridgeHandles;
  private readonly observers = new Set<(entry: HubLogEntry) => void>();

  constructor(readonly hubUrl: string, open: SessionOpener) {
    this.connection = new HostConnection(
      () => open((message, session) => this.receive(message, session)),
      (session) => this.restore(session),
      (session) => this.lost(session),
    );
    this.subscriptions = new PageSubscriptions(this.connection);
    this.sockets = new SocketTable(this.connection);
    this.bridges = new BridgeHandles(this.connection);
    this.fetch = createFetch(hubUrl, (request) => this.connection.call((api) => api.fetch(request)));
    this.WebSocket = createWebSocketClass(this.sockets, hubUrl);
  }

  /** Opens the first session. */
  start(): Promise<void> {
    return this.connection.start();
  }

  // Every call checks its arguments inside an async function: a bad one rejects with a 400, never throws.
  createTopic = () => this.connection.call((api) => api.createTopic());
  getTopic = async (username: string, secret: string) => {
    requireText(username, 'getTopic(username, secret): username');
    requireText(secret, 'getTopic(username, secret): secret');
    return this.connection.call((api) => api.getTopic(username, secret), true);
  };
  subscribe = async (options: SubscribeOptions, onEvent: EventCallback) => {
    requireObject(options, 'subscribe(options, onEvent): options');
    requireFunction(onEvent, 'subscribe(options, onEvent): onEvent');
    return this.subscriptions.add({ ...options }, onEvent);
  };
  getContext = async (topic: string) => {
    requireText(topic, 'getContext(topic): topic');
    return this.connection.call((api) => api.getContext(topic), true);
  };
  inspect = () => this.connection.call((api) => api.inspect(), true);
  bridge = async (options: Parameters<TabcastHub['bridge']>[0]) => this.bridges.open(requireObject(options, 'bridge(options): options'));

  async publish(topic: string, request: PublishRequest) {
    requireText(topic, 'publish(topic, request): topic');
    requireObject(request, "publish(topic, request): request (the event: { 'hub.event', context })");
    const body = contextChangeBody(topic, request);
    return this.connection.run((session) => session.publish(body));
  }

  observe(listener: (entry: HubLogEntry) => void): () => void {
    // observe returns a function, not a promise, so a bad listener is the one synchronous 400.
    requireFunction(listener, 'observe(listener): listener');
    this.observers.add(listener);
    if (this.observers.size === 1) this.setObserving(true);
    return () => {
      if (this.observers.delete(listener) && this.observers.size === 0) this.setObserving(false);
    };
  }

  async close(): Promise<void> {
    this.sockets.closeAll();
    this.subscriptions.forgetAll();
    await this.connection.close();
  }

  private setObserving(on: boolean): void {
    this.connection.call((api) => api.observe(on), true).catch((error: unknown) => console.warn('tabcast: could not follow the hub log', error));
  }

  private receive(message: HostMessage, session: Session): void {
    switch (message?.t) {
      case 'event':
        return this.subscriptions.deliver(message.sub, typeof message.frame === 'string' ? (JSON.parse(message.frame) as Notification) : message.frame, session);
      case 'ended':
        return this.subscriptions.ended(message.sub, message.code, message.reason);
      case 'ws-open':
      case 'ws-frame':
      case 'ws-close':
        return this.sockets.receive(message, session);
      case 'log':
        for (const observer of this.observers) {
          try {
            observer(message.entry);
          } catch (error) {
            console.error('tabcast: an observe listener failed', error);
          }
        }
        return;
      case 'bridge':
        return this.bridges.update(message.id, message.status);
      case 'error':
        console.warn('tabcast: the hub refused a message from this page:', message.error.outcome.issue?.[0]?.diagnostics);
    }
  }

  private lost(session: Session): void {
    this.subscriptions.hostLost();
    this.sockets.hostLost(session);
  }

  private async restore(session: Session): Promise<void> {
    await this.subscriptions.restore(session);
    if (this.observers.size > 0) await session.unlessLost(session.api.observe(true));
    await this.bridges.restore(session);
  }
}
