/**
 * Helpers for the STOMP tests: `tabcast serve` (startServer) on a free loopback port, the
 * unmodified @stomp/stompjs client over `ws`, and a raw socket that reads frames with stompjs's
 * own parser (so the hub's codec is never used to check itself).
 */
import { Client, Parser, type IMessage, type IFrame } from '@stomp/stompjs';
import { WebSocket } from 'ws';
import { startServer, type ServerOptions } from '../../../src/server/index.js';
import type { Hub, HubLogEntry } from '../../../src/hub/index.js';
import { cleanup as cleanupServer, track, TestSocket } from '../server/support.js';

const WAIT_MS = 8000;
const opened = new Set<{ close(): unknown }>();

/** Closes every client, socket and server a test opened. */
export async function cleanup(): Promise<void> {
  const all = [...opened];
  opened.clear();
  await Promise.all(all.map((x) => Promise.resolve(x.close()).catch(() => undefined)));
  await cleanupServer();
}

/** `tabcast serve` on 127.0.0.1 port 0; returns hub.url, the STOMP URL and the server. */
export async function serve(options: ServerOptions = {}) {
  const server = track(await startServer({ port: 0, ...options }));
  return { server, hubUrl: server.url, stompUrl: `${server.url.replace(/^http/, 'ws')}/websocket` };
}

/** Waits until `check` returns a value (polled on each event the caller signals). */
class Waiter<T> {
  readonly items: T[] = [];
  private cursor = 0;
  private wake = new Set<() => void>();
  push(item: T) {
    this.items.push(item);
    for (const w of [...this.wake]) w();
  }
  /** The next item after the last one taken that matches. */
  next(match: (item: T) => boolean = () => true, what = 'an item'): Promise<T> {
    return new Promise((resolve, reject) => {
      const look = () => {
        for (let i = this.cursor; i < this.items.length; i++) {
          if (match(this.items[i]!)) {
            this.cursor = i + 1;
            done();
            resolve(this.items[i]!);
            return true;
          }
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.items).slice(0, 800)}`));
      }, WAIT_MS);
      const done = () => {
        clearTimeout(timer);
        this.wake.delete(look);
      };
      if (!look()) this.wake.add(look);
    });
  }
}

/** An unmodified stompjs Client over ws, recording messages, errors and closes. */
export class StompApp {
  readonly client: Client;
  readonly messages = new Waiter<IMessage>();
  readonly errors = new Waiter<IFrame>();
  readonly closes = new Waiter<{ code: number; reason: string }>();
  readonly connected: Promise<IFrame>;

  constructor(url: string, options: { connectHeaders?: Record<string, string>; heartbeat?: number; protocols?: string[] } = {}) {
    let connected!: (frame: IFrame) => void;
    this.connected = new Promise((resolve) => (connected = resolve));
    this.client = new Client({
      webSocketFactory: () => new WebSocket(url, options.protocols ?? ['v12.stomp', 'v11.stomp', 'v10.stomp']),
      connectHeaders: options.connectHeaders ?? {},
      reconnectDelay: 0,
      heartbeatIncoming: options.heartbeat ?? 0,
      heartbeatOutgoing: options.heartbeat ?? 0,
      onConnect: (frame) => connected(frame),
      onStompError: (frame) => this.errors.push(frame),
      onWebSocketClose: (event: { code: number; reason: string }) => this.closes.push({ code: event.code, reason: String(event.reason) }),
    });
    opened.add({ close: () => this.client.deactivate({ force: true }) });
    this.client.activate();
  }

  /** Subscribes and records MESSAGE frames. */
  subscribe(destination: string, headers: Record<string, string> = {}) {
    return this.client.subscribe(destination, (message) => this.messages.push(message), headers);
  }

  /** The next MESSAGE's body as JSON, with the frame. */
  async nextEvent(match: (body: any, message: IMessage) => boolean = () => true, what = 'a MESSAGE') {
    const message = await this.messages.next((m) => match(JSON.parse(m.body), m), what);
    return { body: JSON.parse(message.body), message };
  }

  /** SEND with a receipt; resolves when the RECEIPT arrives. */
  sendWithReceipt(destination: string, body: unknown, headers: Record<string, string> = {}): Promise<IFrame> {
    const receipt = `r-${Math.random().toString(36).slice(2)}`;
    const got = new Promise<IFrame>((resolve) => this.client.watchForReceipt(receipt, resolve));
    this.client.publish({ destination, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { ...headers, receipt } });
    return got;
  }
}

/** A raw WebSocket speaking STOMP by hand; server frames are read with stompjs's Parser. */
export class RawStomp {
  readonly frames = new Waiter<{ command: string; headers: Record<string, string>; body: string }>();
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly pings = { count: 0 };
  private constructor(readonly ws: WebSocket) {
    opened.add({ close: () => ws.terminate() });
    const parser = new Parser(
      (raw) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of raw.headers) if (!(k in headers)) headers[k as string] = unescape(v as string, raw.command as string);
        this.frames.push({ command: raw.command ?? "", headers, body: new TextDecoder().decode(raw.binaryBody) });
      },
      () => (this.pings.count += 1),
    );
    ws.on('message', (data, isBinary) => parser.parseChunk(isBinary ? new Uint8Array(data as Buffer).buffer : data.toString()));
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
  }

  static async open(url: string, protocols: string[] = ['v12.stomp']): Promise<RawStomp> {
    const raw = new RawStomp(new WebSocket(url, protocols));
    await new Promise<void>((resolve, reject) => {
      raw.ws.once('open', () => resolve());
      raw.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
      raw.ws.once('error', reject);
    });
    return raw;
  }

  /** Sends text as one WebSocket message. */
  send(text: string | Buffer) {
    this.ws.send(text);
  }

  /** CONNECT and wait for CONNECTED. */
  async connect(headers = 'accept-version:1.2\nhost:hub\n') {
    this.send(`CONNECT\n${headers}\n\0`);
    return this.frames.next((f) => f.command === 'CONNECTED' || f.command === 'ERROR', 'CONNECTED');
  }

  next(command: string) {
    return this.frames.next((f) => f.command === command, command);
  }
}

function unescape(value: string, command: string): string {
  if (command === 'CONNECTED') return value;
  return value.replace(/\\([\\rnc])/g, (_a, c: string) => ({ '\\': '\\', r: '\r', n: '\n', c: ':' })[c]!);
}

/** An STU3 WebSocket subscriber on `topic` through serve's HTTP API. */
export async function stu3Subscriber(hubUrl: string, topic: string, events: string, name = 'stu3 app') {
  const res = await fetch(hubUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': events, 'subscriber.name': name }).toString(),
  });
  if (res.status !== 202) throw new Error(`subscribe failed ${res.status}`);
  const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
  const socket = await TestSocket.open(endpoint);
  await socket.next((f) => f['hub.mode'] === 'subscribe', 'confirmation');
  return socket;
}

/** Publishes over HTTP; returns the status. */
export async function httpPublish(hubUrl: string, body: unknown): Promise<number> {
  const res = await fetch(hubUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

/** A Patient-open request. */
export function patientOpen(topic: string, patientId: string, id = `ev-${Math.random().toString(36).slice(2)}`) {
  return { timestamp: new Date().toISOString(), id, event: { 'hub.topic': topic, 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: patientId } }] } };
}

/** An ImagingStudy-open request with its patient. */
export function studyOpen(topic: string, studyId: string, patientId: string, id = `ev-${Math.random().toString(36).slice(2)}`) {
  return {
    timestamp: new Date().toISOString(),
    id,
    event: {
      'hub.topic': topic,
      'hub.event': 'ImagingStudy-open',
      context: [
        { key: 'study', resource: { resourceType: 'ImagingStudy', id: studyId } },
        { key: 'patient', resource: { resourceType: 'Patient', id: patientId } },
      ],
    },
  };
}

export const topicName = (prefix = 'topic') => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
export { TestSocket };

/** The next entry of the hub's activity log that matches (register before causing it). */
export function nextLog(hub: Hub, match: (entry: HubLogEntry) => boolean): Promise<HubLogEntry> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error('timed out waiting for a log entry'));
    }, WAIT_MS);
    const stop = hub.observe((entry) => {
      if (!match(entry)) return;
      clearTimeout(timer);
      stop();
      resolve(entry);
    });
  });
}
