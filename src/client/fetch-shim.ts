/**
 * `hub.fetch`: a fetch function whose requests to hub.url (and below) are answered by the hub in
 * the worker, in cloneable parts; any other URL goes to the page's real fetch.
 */
import type { SerializedRequest, SerializedResponse } from '../link/messages.js';

/** Status codes whose Response must not have a body. */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/** Builds the fetch of one hub; `send` carries a serialized request to the host. */
export function createFetch(hubUrl: string, send: (request: SerializedRequest) => Promise<SerializedResponse>): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response> {
  const hub = new URL(hubUrl);
  const hubPath = hub.pathname.replace(/\/+$/, '');
  const isHubRequest = (url: URL) => url.origin === hub.origin && (url.pathname.replace(/\/+$/, '') === hubPath || url.pathname.startsWith(`${hubPath}/`));

  return async (input, init) => {
    const request = new Request(input, init);
    if (!isHubRequest(new URL(request.url))) return globalThis.fetch(request);
    const body = request.method === 'GET' || request.method === 'HEAD' ? null : await request.arrayBuffer();
    const answer = await send({ url: request.url, method: request.method, headers: [...request.headers], body });
    const payload = NULL_BODY_STATUS.has(answer.status) || request.method === 'HEAD' ? null : answer.body;
    return new Response(payload, { status: answer.status, statusText: answer.statusText, headers: answer.headers });
  };
}
