/**
 * Helpers for the server tests: a `ws` client that awaits frames, the real `tabcast` process,
 * and plain-fetch FHIRcast calls. Everything opened here is closed by `cleanup()` in afterEach.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { RunningServer } from '../../../src/server/index.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = `${ROOT}bin/tabcast.js`;
export const DIST_SERVER = `${ROOT}dist/tabcast-server.js`;
/** The e2e tests need the bundle that `npm run build` makes; CI builds before testing. */
export const DIST_MISSING = !existsSync(DIST_SERVER);
export const LISTENING = /^FHIRcast hub listening on (http:\/\/\S+)$/m;

const WAIT_MS = 8000;
const opened = new Set<{ close(): unknown }>();

/** Closes every socket, server and process the test opened. */
export async function cleanup(): Promise<void> {
  const all = [...opened];
  opened.clear();
  await Promise.all(all.map((x) => Promise.resolve(x.close()).catch(() => undefined)));
}

/** Registers a started server for cleanup. */
export function track<T extends RunningServer>(server: T): T {
  opened.add(server);
  return server;
}

const isHeartbeat = (f: any) => f?.event?.['hub.event'] === 'heartbeat';

/** A `ws` client that records every frame and lets a test await the next one it cares about. */
export class TestSocket {
  readonly frames: any[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private cursor = 0;
  private wake = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    opened.add(this);
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()));
      for (const w of this.wake) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
  }

  /** Opens a socket and resolves once it is open. */
  static async open(url: string): Promise<TestSocket> {
    const sock = new TestSocket(new WebSocket(url));
    await new Promise<void>((resolve, reject) => {
      sock.ws.once('open', () => resolve());
      sock.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
      sock.ws.once('error', reject);
    });
    return sock;
  }

  /** The next frame after the last one taken that matches (heartbeats skipped unless asked for). */
  next(match: (frame: any) => boolean = (f) => !isHeartbeat(f), what = 'a frame'): Promise<any> {
    return new Promise((resolve, reject) => {
      const look = () => {
        for (let i = this.cursor; i < this.frames.length; i++) {
          if (match(this.frames[i])) {
            this.cursor = i + 1;
            done();
            resolve(this.frames[i]);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; frames so far: ${JSON.stringify(this.frames).slice(0, 600)}`));
      }, WAIT_MS);
      const done = () => {
        clearTimeout(timer);
        this.wake.delete(look);
      };
      this.wake.add(look);
      look();
    });
  }

  /** The next notification of the named event. */
  nextEvent(name: string): Promise<any> {
    return this.next((f) => f?.event?.['hub.event']?.toLowerCase() === name.toLowerCase(), `a ${name} notification`);
  }

  /** Sends a JSON frame (or raw text). */
  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** Acknowledges a notification. */
  ack(frame: any, status: number | string = 200): void {
    this.send({ id: frame.id, status });
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

/** Tries an upgrade that should be refused; resolves with the HTTP status, rejects if it opens. */
export function refusedUpgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`upgrade to ${url} was accepted`));
    });
    ws.once('error', () => undefined);
  });
}

/** A running `node bin/tabcast.js …`. */
export class HubProcess {
  stdout = '';
  stderr = '';
  url = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    opened.add(this);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Spawns the command; does not wait. */
  static spawn(args: readonly string[]): HubProcess {
    return new HubProcess(spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** Spawns `serve …` and resolves once it printed its listening line. */
  static async start(args: readonly string[]): Promise<HubProcess> {
    const p = HubProcess.spawn(['serve', ...args]);
    await p.listening();
    return p;
  }

  /** Resolves with hub.url once the listening line is out; rejects if the process ends first. */
  listening(): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = LISTENING.exec(this.stdout);
        if (m) {
          this.url = m[1]!;
          this.child.stdout!.off('data', check);
          resolve(this.url);
        }
      };
      this.child.stdout!.on('data', check);
      check();
      void this.exited.then(({ code }) => reject(new Error(`tabcast exited (${code}) before listening: ${this.stderr}`)));
    });
  }

  /** Sends a signal and resolves with how the process ended and how long it took. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const started = Date.now();
    this.child.kill(signal);
    const end = await this.exited;
    return { ...end, ms: Date.now() - started };
  }

  close(): Promise<unknown> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    return this.exited;
  }
}

/** Runs the command to its end (for starts that must fail). */
export async function runToExit(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = HubProcess.spawn(args);
  const { code } = await p.exited;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

// ---- FHIRcast over plain fetch -----------------------------------------------------------------

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

/** Form-encoded subscribe; returns the response. */
export function postSubscription(hubUrl: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(hubUrl, { method: 'POST', headers: { ...FORM, ...headers }, body: new URLSearchParams(params).toString() });
}

/** Subscribes, opens the endpoint and awaits the confirmation. */
export async function subscribeAndOpen(hubUrl: string, topic: string, events: string, options: { name?: string; headers?: Record<string, string> } = {}) {
  const params: Record<string, string> = { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': events };
  if (options.name) params['subscriber.name'] = options.name;
  const res = await postSubscription(hubUrl, params, options.headers);
  if (res.status !== 202) throw new Error(`subscribe answered ${res.status}: ${await res.text()}`);
  const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
  const sock = await TestSocket.open(endpoint);
  const confirmation = await sock.next((f) => f['hub.mode'] === 'subscribe', 'the confirmation');
  return { endpoint, sock, confirmation };
}

/** Unsubscribes; returns the response. */
export function unsubscribe(hubUrl: string, topic: string, endpoint: string, headers: Record<string, string> = {}): Promise<Response> {
  return postSubscription(hubUrl, { 'hub.channel.type': 'websocket', 'hub.mode': 'unsubscribe', 'hub.topic': topic, 'hub.channel.endpoint': endpoint }, headers);
}

/** Posts a context change (to hub.url, or to `url` when given). */
export function publish(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** GET hub.url/{topic} as JSON. */
export async function getContext(hubUrl: string, topic: string, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(`${hubUrl}/${encodeURIComponent(topic)}`, { headers });
  if (res.status !== 200) throw new Error(`get-context answered ${res.status}`);
  return res.json();
}
