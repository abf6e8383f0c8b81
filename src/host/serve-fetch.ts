/**
 * `hub.fetch` on the host side: a Request rebuilt from its cloneable parts, answered by the wire's
 * `handle` exactly as `tabcast serve` answers a real HTTP request, and sent back in parts.
 */
import { badRequest } from '../protocol/outcome.js';
import type { WireHandler } from '../wire/index.js';
import type { SerializedRequest, SerializedResponse } from '../link/messages.js';

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
