/** Node's http request/response ↔ the fetch-API Request/Response the wire speaks. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { retryLater } from '../wire/index.js';
import type { BodyAccount } from './body-budget.js';

/** Methods Node accepts but the fetch API refuses to build a Request with. */
const UNFETCHABLE_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/**
 * The request's URL, or undefined when its target is not a valid one: Node passes absolute-form
 * targets through as sent, and a fetch Request refuses a URL with credentials (`http://u:p@host/`).
 */
export function requestUrl(req: IncomingMessage, base: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', base);
  } catch {
    return undefined;
  }
  return url.username === '' && url.password === '' ? url : undefined;
}

/** True when the method can be carried by a fetch Request (TRACE, TRACK and CONNECT cannot). */
export function isFetchableMethod(method: string): boolean {
  return !UNFETCHABLE_METHODS.has(method.toUpperCase());
}

/**
 * Builds a fetch Request for a Node request; the body streams, so the wire can stop reading it at
 * its limit. Given a base instead of the checked URL (`requestUrl`), it throws on an invalid
 * target; it also throws for a method `isFetchableMethod` refuses.
 */
export function toFetchRequest(req: IncomingMessage, target: URL | string, account?: BodyAccount): Request {
  const url = typeof target === 'string' ? new URL(req.url ?? '/', target) : target;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return new Request(url, { method, headers });
  return new Request(url, { method, headers, body: bodyStream(req, account), duplex: 'half' } as RequestInit);
}

/**
 * A pull-based stream over the request: data is read only as the wire asks for it. When the wire
 * cancels (body over the limit) the rest is discarded as it arrives, never buffered. A chunk the
 * shared budget of bodies in flight cannot take fails the read with a 503 (HUB-SEC-14).
 */
function bodyStream(req: IncomingMessage, account: BodyAccount | undefined): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        if (account && !account.take(chunk.byteLength)) {
          done = true;
          controller.error(retryLater(503, 'the hub is reading too many request bodies at once: retry shortly', 1));
          req.resume();
          return;
        }
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on('end', () => {
        if (!done) controller.close();
        done = true;
      });
      req.on('error', (error) => {
        if (!done) controller.error(error);
        done = true;
      });
      req.pause();
    },
    pull() {
      req.resume();
    },
    cancel() {
      done = true;
      req.resume();
    },
  });
}

/**
 * Throws away a body the wire never read (a 404, 405 or 415 answers without reading): left
 * paused, it would stall the next request on the same keep-alive connection.
 */
export async function discardUnreadBody(request: Request): Promise<void> {
  if (request.body && !request.bodyUsed) await request.body.cancel().catch(() => undefined);
}

/** Writes a fetch Response to Node, adding `extra` headers (CORS). */
export async function sendResponse(res: ServerResponse, response: Response, extra: Record<string, string> = {}): Promise<void> {
  const body = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  Object.assign(headers, extra);
  if (body) headers['content-length'] = String(body.byteLength);
  res.writeHead(response.status, headers);
  res.end(body);
}
