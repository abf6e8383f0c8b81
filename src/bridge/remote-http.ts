/**
 * The bridge's HTTP calls to the remote hub: subscribe / unsubscribe (form-encoded, §3.1),
 * request context change (JSON, §5.1), get current context (§7) and discovery (§2).
 * Every call has a timeout; failures become a RemoteError that says whether a retry can help.
 */
import { contextFromProtocols, getTopicUrl, readTopicAnswer } from './dialect-2019.js';
import { topicUrl, type Dialect } from './dialects.js';
import type { FetchLike, Timers } from './types.js';

/** A failed call to the remote hub. `status` is undefined when no HTTP answer arrived. */
export class RemoteError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'RemoteError';
  }

  /** True when trying again later can help: no answer, 408, 429 or 5xx. */
  get transient(): boolean {
    const s = this.status;
    return s === undefined || s === 408 || s === 429 || s >= 500;
  }
}

/** Settings of a remote hub client. */
export interface RemoteHubOptions {
  hubUrl: string;
  /** The topic at the remote hub. */
  topic: string;
  dialect: Dialect;
  fetch: FetchLike;
  timers: Timers;
  requestTimeoutMs: number;
  subscriberName: string;
}

/** Turns an endpoint from a subscribe answer into a WebSocket URL (relative and http(s) forms are tolerated). */
export function socketUrl(endpoint: string, hubUrl: string): string {
  const url = new URL(endpoint.trim(), hubUrl);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`not a WebSocket URL: ${url.protocol}`);
  return url.href;
}

/** A short, token-free description of an error answer: OperationOutcome diagnostics or the start of the text. */
function describeAnswer(text: string): string {
  try {
    const body = JSON.parse(text) as { resourceType?: string; issue?: Array<{ diagnostics?: string }> };
    const diagnostics = body.resourceType === 'OperationOutcome' ? body.issue?.[0]?.diagnostics : undefined;
    if (diagnostics) return diagnostics;
  } catch {
    // plain text, as the spec asks for subscription errors
  }
  return text.trim().slice(0, 200);
}

export class RemoteHub {
  constructor(private readonly options: RemoteHubOptions) {}

  /** Subscribes (or renews when `endpoint` is given); resolves with the WebSocket URL of the subscription. */
  async subscribe(events: readonly string[], token: string | undefined, endpoint?: string): Promise<string> {
    const form = new URLSearchParams({
      'hub.channel.type': 'websocket',
      'hub.mode': 'subscribe',
      'hub.topic': this.options.topic,
      'hub.events': events.join(','),
      'subscriber.name': this.options.subscriberName,
    });
    if (endpoint) form.set('hub.channel.endpoint', endpoint);
    for (const [k, v] of Object.entries(this.options.dialect.subscribeParams ?? {})) form.set(k, v);
    const text = await this.call('subscribe', this.options.hubUrl, 'POST', token, form.toString(), 'application/x-www-form-urlencoded');
    let answer: unknown = text;
    try {
      answer = JSON.parse(text);
    } catch {
      // a bare URL in the body is tolerated below
    }
    const raw = typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>)['hub.channel.endpoint'] : answer;
    if (typeof raw !== 'string' || raw.trim() === '') {
      throw new RemoteError('subscribe: the remote hub answered without a hub.channel.endpoint', undefined);
    }
    try {
      return socketUrl(raw, this.options.hubUrl);
    } catch (error) {
      throw new RemoteError(`subscribe: the remote hub gave an unusable hub.channel.endpoint (${String((error as Error).message)})`, undefined);
    }
  }

  /** Ends a subscription (§3.5). */
  async unsubscribe(endpoint: string, token: string | undefined): Promise<void> {
    const form = new URLSearchParams({
      'hub.channel.type': 'websocket',
      'hub.mode': 'unsubscribe',
      'hub.topic': this.options.topic,
      'hub.channel.endpoint': endpoint,
    });
    await this.call('unsubscribe', this.options.hubUrl, 'POST', token, form.toString(), 'application/x-www-form-urlencoded');
  }

  /** Requests a context change (§5.1); any 2xx is success. */
  async publish(body: unknown, token: string | undefined): Promise<void> {
    const url = this.options.dialect.publishUrl(this.options.hubUrl, this.options.topic);
    await this.call('publish', url, 'POST', token, JSON.stringify(body), 'application/json');
  }

  /** Reads the topic's current context as the remote shapes it. */
  async getContext(token: string | undefined): Promise<unknown> {
    let url = this.options.dialect.contextUrl(this.options.hubUrl, this.options.topic);
    if (this.options.dialect.listsProtocols) {
      // Pull context when the remote lists it (channels.md §2), else get-context at {topic}.
      const listed = await this.call('protocols', `${topicUrl(this.options.hubUrl, this.options.topic)}/protocols`, 'GET', token).then(contextFromProtocols, () => undefined);
      if (listed) url = listed;
    }
    const text = await this.call('get context', url, 'GET', token);
    if (text.trim() === '') return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new RemoteError('get context: the remote hub answered with something that is not JSON', undefined);
    }
  }

  /** The 2019 GetTopic: the topic of `username`, authenticated by the app-wide secret. */
  async getTopic(username: string, secret: string): Promise<string> {
    const text = await this.call('gettopic', getTopicUrl(this.options.hubUrl, username, secret), 'GET', undefined);
    const topic = readTopicAnswer(text);
    if (!topic) throw new RemoteError('gettopic: the remote hub answered without a topic', undefined);
    return topic;
  }

  /** `eventsSupported` from `.well-known/fhircast-configuration`, or undefined when the remote has none. */
  async eventsSupported(token: string | undefined): Promise<string[] | undefined> {
    try {
      const url = `${this.options.hubUrl.replace(/\/+$/, '')}/.well-known/fhircast-configuration`;
      const doc = JSON.parse(await this.call('discovery', url, 'GET', token)) as { eventsSupported?: unknown };
      const list = doc.eventsSupported;
      return Array.isArray(list) ? list.filter((e): e is string => typeof e === 'string') : undefined;
    } catch {
      return undefined;
    }
  }

  private async call(what: string, url: string, method: string, token: string | undefined, body?: string, contentType?: string): Promise<string> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (contentType) headers['Content-Type'] = contentType;
    if (token) headers.Authorization = `Bearer ${token}`;
    const abort = new AbortController();
    const timer = this.options.timers.set(() => abort.abort(), this.options.requestTimeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.options.fetch(url, { method, headers, body, signal: abort.signal });
      text = await response.text();
    } catch (error) {
      const why = abort.signal.aborted ? `no answer within ${this.options.requestTimeoutMs} ms` : String((error as Error)?.message ?? error);
      throw new RemoteError(`${what}: the remote hub could not be reached (${why})`, undefined);
    } finally {
      this.options.timers.clear(timer);
    }
    if (response.status < 200 || response.status > 299) {
      throw new RemoteError(`${what}: the remote hub answered ${response.status}: ${describeAnswer(text)}`, response.status);
    }
    return text;
  }
}
