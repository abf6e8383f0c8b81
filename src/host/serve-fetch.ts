/**
 * `hub.fetch` on the host side: a Request rebuilt from its cloneable parts, answered by the wire's
 * `handle` exactly as `tabcast serve` answers a real HTTP request, and sent back in parts.
 */
import { badRequest, tooLarge } from '../protocol/outcome.js';
import type { WireHandler } from '../wire/index.js';
import type { SerializedRequest, SerializedResponse } from '../link/messages.js';
import { record, text } from './arguments.js';

/** A serialized fetch Request, checked here in the wire chunk: only `hub.fetch` needs it. */
export function serializedRequest(value: unknown, limitBytes: number): SerializedRequest {
  const req = record(value, 'request');
  const headers = req.headers;
  if (!Array.isArray(headers) || !headers.every((h) => Array.isArray(h) && h.length === 2 && h.every((p) => typeof p === 'string'))) {
    throw badRequest('request headers must be a list of [name, value] strings', 'structure');
  }
  const body = req.body;
  if (body !== null && body !== undefined && !(body instanceof ArrayBuffer)) throw badRequest('request body must be an ArrayBuffer or null', 'structure');
  if (body instanceof ArrayBuffer && body.byteLength > limitBytes) throw tooLarge(`request body is larger than the hub's limit of ${limitBytes} bytes`);
  return {
    url: text(req.url, 'request url', 8192),
    method: text(req.method, 'request method', 16),
    headers: headers as [string, string][],
    body: body ?? null,
  };
}


/** Answers one serialized request with the wire handler. Throws 400 for a request fetch itself would refuse. */
export async function serveFetch(wire: WireHandler, parts: SerializedRequest): Promise<SerializedResponse> {
  let request: Request;
  try {
    request = new Request(parts.url, { method: parts.method, headers: parts.headers, body: parts.body });
  } catch (error) {
    throw badRequest(`not a valid HTTP request: ${error instanceof Error ? error.message : String(error)}`, 'structure');
  }
  const response = await wire.handle(request);
  return {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers],
    body: response.body ? await response.arrayBuffer() : null,
  };
}
