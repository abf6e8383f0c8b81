/**
 * A remote hub made of a fake `fetch` and mock-socket servers, for what a real server will not do
 * on demand: sandbox-style confirmations, no confirmation at all, garbage frames, close codes,
 * 'JS SANDBOX' heartbeats, the three get-context shapes. Every endpoint gets its own mock Server;
 * `stop()` (in afterEach) shuts them all, since mock-socket allows one Server per URL.
 */
import { Server, type Client } from 'mock-socket';
import type { FetchLike } from '../../../../src/bridge/index.js';

/** One HTTP request the bridge made. */
export interface Recorded {
  method: string;
  url: string;
  authorization?: string;
  form?: Record<string, string>;
  json?: any;
}

export type ConfirmationStyle = 'stu3' | 'sandbox' | 'none';

export class ScriptedRemote {
  readonly hubUrl = 'https://remote.test/fhircast/hub';
  readonly requests: Recorded[] = [];
  /** Every frame the bridge sent over any socket, parsed. */
  readonly received: any[] = [];
  /** Close codes of sockets, as the hub side saw them. */
  readonly closes: number[] = [];
  confirmation: ConfirmationStyle = 'stu3';
  /** When set, subscribe requests get this status (and a text body). */
  subscribeStatus: number | undefined;
  /** Status for context change requests. */
  publishStatus = 202;
  /** Echo accepted context changes back over the socket, as the spec says a hub does. */
  echo = true;
  /** What GET {hub.url}/{topic} answers (any JSON value), or a status to fail with. */
  context: unknown = { 'context.type': '', context: [] };
  contextStatus = 200;
  wellKnown: unknown = undefined;
  /** Thrown by fetch instead of answering (a network failure). */
  offline = false;
  /** When set, any other Bearer token gets 401. */
  acceptToken: string | undefined;
  /** Answer a renewal with a new endpoint, as some hubs do. */
  moveOnRenew = false;
  private servers = new Map<string, Server>();
  private sockets = new Map<string, Client>();
  private count = 0;

  constructor(readonly topic = 'T-remote') {}

  get subscribes(): Recorded[] {
    return this.requests.filter((r) => r.form?.['hub.mode'] === 'subscribe');
  }

  get publishes(): Recorded[] {
    return this.requests.filter((r) => r.json?.event);
  }

  /** Acks the bridge sent (frames with an id and a status). */
  get acks(): any[] {
    return this.received.filter((f) => f && typeof f === 'object' && 'status' in f);
  }

  /** The socket of the newest connected endpoint. */
  get socket(): Client | undefined {
    return [...this.sockets.values()].at(-1);
  }

  /** The number of endpoints with a live socket. */
  get connections(): number {
    return this.sockets.size;
  }

  send(frame: unknown): void {
    this.socket!.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  notification(id: string, event: string, context: unknown[] = [], extra: Record<string, unknown> = {}) {
    return { timestamp: new Date().toISOString(), id, event: { 'hub.topic': this.topic, 'hub.event': event, context, ...extra } };
  }

  /** Closes the newest socket from the hub's side with `code`. */
  closeSocket(code: number, reason = ''): void {
    this.socket!.close({ code, reason, wasClean: code === 1000 });
  }

  /** Forgets an endpoint, as a restarted hub would: its mock server goes away. */
  forget(endpoint: string): void {
    this.servers.get(endpoint)?.stop();
    this.servers.delete(endpoint);
    this.sockets.delete(endpoint);
  }

  stop(): void {
    for (const server of this.servers.values()) server.stop();
    this.servers.clear();
    this.sockets.clear();
  }

  readonly fetch: FetchLike = async (url, init) => {
    if (this.offline) throw new TypeError('fetch failed');
    const headers = new Headers(init.headers);
    const body = typeof init.body === 'string' ? init.body : '';
    const rec: Recorded = { method: init.method ?? 'GET', url, authorization: headers.get('authorization') ?? undefined };
    if ((headers.get('content-type') ?? '').includes('form')) rec.form = Object.fromEntries(new URLSearchParams(body));
    else if (body) rec.json = JSON.parse(body);
    this.requests.push(rec);
    if (this.acceptToken !== undefined && rec.authorization !== `Bearer ${this.acceptToken}`) return new Response('bad token', { status: 401 });
    if (rec.method === 'GET' && url.endsWith('/.well-known/fhircast-configuration')) {
      return this.wellKnown ? Response.json(this.wellKnown) : new Response('not found', { status: 404 });
    }
    if (rec.method === 'GET') {
      return this.contextStatus === 200 ? Response.json(this.context) : new Response('no', { status: this.contextStatus });
    }
    if (rec.form?.['hub.mode'] === 'subscribe') return this.subscribe(rec.form);
    if (rec.form?.['hub.mode'] === 'unsubscribe') {
      const endpoint = rec.form['hub.channel.endpoint']!;
      const sock = this.sockets.get(endpoint);
      sock?.send(JSON.stringify({ 'hub.mode': 'denied', 'hub.topic': this.topic, 'hub.events': rec.form['hub.events'] ?? '', 'hub.reason': 'unsubscribed' }));
      sock?.close({ code: 1000, reason: 'unsubscribed', wasClean: true });
      return Response.json({ 'hub.channel.endpoint': endpoint }, { status: 202 });
    }
    if (rec.json?.event) {
      if (this.publishStatus >= 300) return new Response('refused by the scripted remote', { status: this.publishStatus });
      this.apply(rec.json.event);
      if (this.echo) this.socket?.send(JSON.stringify(rec.json));
      return new Response(null, { status: this.publishStatus });
    }
    return new Response('unexpected request', { status: 400 });
  };

  /** A crude current context: the last open is current, a close of it clears it. */
  private apply(event: { 'hub.event': string; context: Array<{ key: string; resource?: { resourceType: string; id: string } }> }): void {
    const [type, verb] = event['hub.event'].split('-');
    if (verb === 'open') this.context = { 'context.type': type, 'context.versionId': `rv-${this.requests.length}`, context: event.context };
    const current = this.context as { 'context.type'?: string };
    if (verb === 'close' && current['context.type'] === type) this.context = { 'context.type': '', context: [] };
  }

  private subscribe(form: Record<string, string>): Response {
    if (this.subscribeStatus) return new Response(`refused (${this.subscribeStatus})`, { status: this.subscribeStatus });
    const renewing = form['hub.channel.endpoint'];
    if (renewing && this.servers.has(renewing) && !this.moveOnRenew) {
      this.sockets.get(renewing)?.send(JSON.stringify(this.confirmationFrame(form)));
      return Response.json({ 'hub.channel.endpoint': renewing }, { status: 202 });
    }
    if (renewing && !this.servers.has(renewing)) return new Response('unknown endpoint', { status: 404 });
    const endpoint = `wss://remote.test/ws/ep${++this.count}`;
    const server = new Server(endpoint);
    this.servers.set(endpoint, server);
    server.on('connection', (socket) => {
      this.sockets.set(endpoint, socket);
      socket.on('message', (data) => {
        try {
          this.received.push(JSON.parse(String(data)));
        } catch {
          this.received.push(String(data));
        }
      });
      // mock-socket passes the close event although its typings say it does not
      (socket.on as (type: 'close', cb: (event?: { code?: number }) => void) => void)('close', (event) => {
        this.closes.push(event?.code ?? 0);
        if (this.sockets.get(endpoint) === socket) this.sockets.delete(endpoint);
      });
      if (this.confirmation !== 'none') socket.send(JSON.stringify(this.confirmationFrame(form)));
    });
    return Response.json({ 'hub.channel.endpoint': endpoint }, { status: 202 });
  }

  private confirmationFrame(form: Record<string, string>) {
    return this.confirmation === 'sandbox'
      ? { timestamp: new Date().toISOString(), bound: true, 'hub.mode': 'subscribe', 'hub.lease_seconds': 7200 }
      : { 'hub.mode': 'subscribe', 'hub.topic': form['hub.topic'], 'hub.events': form['hub.events'], 'hub.lease_seconds': 3600 };
  }
}
