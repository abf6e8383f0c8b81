/**
 * A real callback listener (node:http on 127.0.0.1) for the WebSub tests: it records every request,
 * echoes verification challenges unless told otherwise, checks the HMAC of every delivery, and
 * answers deliveries with a status the test picks (or holds them until released).
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that reached the listener. */
export interface Received {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

type Verify = 'echo' | 'wrong' | 'hang' | 'refuse' | 'huge' | { redirect: string };
type Answer = number | 'hold' | 'reset' | 'huge';

/** Streams up to 256 MiB after `head`, stopping as soon as the reader goes away. */
function streamHuge(res: ServerResponse, head: string): void {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.write(head);
  const more = () => {
    while (!res.destroyed && sent < 4096) {
      sent++;
      if (!res.write(chunk)) return void res.once('drain', more);
    }
    if (!res.destroyed) res.end();
  };
  res.on('error', () => undefined);
  more();
}

/** The listener. */
export class CallbackServer {
  readonly requests: Received[] = [];
  verify: Verify = 'echo';
  /** How deliveries are answered: a status, held open until `release`, or a reset connection. */
  answer: Answer = 200;
  secret: string | undefined;
  /** Deliveries whose X-Hub-Signature did not match (must stay 0 when a secret is set). */
  badSignatures = 0;
  url = '';
  private held: ServerResponse[] = [];
  private waiters = new Set<() => void>();
  private constructor(private readonly server: Server) {}

  static async start(path = '/cb'): Promise<CallbackServer> {
    const server = createServer();
    const cb = new CallbackServer(server);
    server.on('request', (req, res) => void cb.onRequest(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cb.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
    return cb;
  }

  /** The port, for building other origins on the same listener. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Verification requests (GET). */
  get verifications(): Received[] {
    return this.requests.filter((r) => r.method === 'GET');
  }

  /** Delivered notifications (POST bodies, parsed). */
  get deliveries(): any[] {
    return this.requests.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body));
  }

  /** Resolves once `count` requests matching `match` arrived. */
  async waitFor(count: number, match: (r: Received) => boolean = () => true, what = 'requests'): Promise<void> {
    const enough = () => this.requests.filter(match).length >= count;
    if (enough()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} ${what}; got ${this.requests.length} requests`)), 8000);
      const check = () => {
        if (!enough()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  /** Answers held deliveries with `status`. */
  release(status = 200): void {
    for (const res of this.held.splice(0)) res.writeHead(status).end();
  }

  /** Releases what is held and stops listening. */
  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const r: Received = { method: req.method ?? '', url: new URL(req.url ?? '/', this.url), headers: req.headers, body };
    this.requests.push(r);
    for (const w of [...this.waiters]) w();
    if (r.method === 'GET') return this.answerVerification(r, res);
    if (this.secret !== undefined) {
      const expected = `sha256=${createHmac('sha256', this.secret).update(body).digest('hex')}`;
      if (req.headers['x-hub-signature'] !== expected) this.badSignatures++;
    }
    if (this.answer === 'hold') this.held.push(res);
    else if (this.answer === 'reset') req.socket.destroy();
    else if (this.answer === 'huge') streamHuge(res, '');
    else res.writeHead(this.answer).end('ok');
  }

  private answerVerification(r: Received, res: ServerResponse): void {
    const challenge = r.url.searchParams.get('hub.challenge') ?? '';
    const v = this.verify;
    if (v === 'hang') return void this.held.push(res);
    if (v === 'huge') return streamHuge(res, challenge);
    if (v === 'refuse') return void res.writeHead(404).end(challenge);
    if (typeof v === 'object') return void res.writeHead(302, { location: v.redirect }).end(challenge);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(v === 'echo' ? challenge : `${challenge}x`);
  }
}
