/**
 * The bridge's subscription request at the remote hub: the credentials (a fixed token, or a
 * getToken callback asked again before each subscribe) and the event list. When the remote refuses
 * the default list (the whole catalog), the list narrows once to what the remote says it supports.
 */
import { CATALOG_EVENT_NAMES } from '../protocol/index.js';
import { RemoteError, type RemoteHub } from './remote-http.js';
import type { BridgeConfig } from './types.js';

/** The credentials of a bridge: never stored, never shown. */
export type BridgeAuth = Pick<BridgeConfig, 'token' | 'getToken' | 'getTopic'>;

/** Credentials and event list for subscribing at the remote hub. */
export class RemoteSubscription {
  private auth: BridgeAuth;
  private currentToken: string | undefined;
  private gotTopic: string | undefined;
  private list: string[];
  private readonly fixedEvents: boolean;
  private narrowed = false;

  /** `events` undefined means the whole catalog, which may be narrowed to what the remote supports. */
  constructor(
    private readonly remote: RemoteHub,
    auth: BridgeAuth,
    events: readonly string[] | undefined,
  ) {
    this.auth = { token: auth.token, getToken: auth.getToken, getTopic: auth.getTopic };
    this.list = [...(events ?? CATALOG_EVENT_NAMES)];
    this.fixedEvents = Boolean(events);
  }

  /** The token of the latest refresh, for every call to the remote hub. */
  get token(): string | undefined {
    return this.currentToken;
  }

  /** The events subscribed to (the list given at the start, or the narrowed one). */
  get events(): readonly string[] {
    return this.list;
  }

  /** True when a fresh token can be asked for, so a 401 deserves one more try. */
  get refreshable(): boolean {
    return Boolean(this.auth.getToken || this.auth.getTopic);
  }

  /** Takes new credentials (a bridge resumed with a token). */
  setAuth(auth: BridgeAuth): void {
    this.auth = { token: auth.token, getToken: auth.getToken, getTopic: auth.getTopic };
  }

  /** The remote topic GetTopic gave at the latest connect (a getTopic bridge), else undefined. */
  get remoteTopic(): string | undefined {
    return this.gotTopic;
  }

  /**
   * Asks getToken for a fresh token, falling back to the fixed one; a getTopic bridge asks GetTopic
   * for the topic again (a remote may have restarted) and uses its secret as the token. Rejects when
   * getToken or GetTopic does.
   */
  async refreshToken(): Promise<void> {
    const g = this.auth.getTopic;
    if (g) {
      if (!g.secret) throw new RemoteError('getTopic has no secret', 401);
      this.gotTopic = await this.remote.getTopic(g.username, g.secret);
      this.currentToken = g.secret;
      return;
    }
    this.currentToken = this.auth.getToken ? ((await this.auth.getToken()) ?? this.auth.token) : this.auth.token;
  }

  /** Subscribes, or renews when `endpoint` is given; resolves with the WebSocket URL. */
  subscribe(endpoint?: string): Promise<string> {
    return this.remote.subscribe(this.list, this.currentToken, endpoint);
  }

  /** Renews the lease: a fresh token, then a subscribe with the same endpoint (fhircast-spec.md §3.6). */
  async renew(endpoint: string): Promise<string> {
    await this.refreshToken();
    return this.subscribe(endpoint);
  }

  /**
   * After a failed subscribe: when it was a 400 to the default list, narrows the list once to what
   * `.well-known` lists. Resolves true when a narrower list is worth a new subscribe.
   */
  async narrow(error: unknown): Promise<boolean> {
    if (!(error instanceof RemoteError) || error.status !== 400 || this.fixedEvents || this.narrowed) return false;
    this.narrowed = true;
    const supported = new Set((await this.remote.eventsSupported(this.currentToken))?.map((e) => e.toLowerCase()) ?? []);
    const usable = this.list.filter((e) => supported.has(e.toLowerCase()));
    if (usable.length === 0) return false;
    this.list = usable;
    return true;
  }

  /** False for an event the remote was found not to support (no use sending it there). */
  covers(eventName: string): boolean {
    const name = eventName.toLowerCase();
    return !this.narrowed || this.list.some((e) => e.toLowerCase() === name);
  }
}
