/**
 * The STU3 HTTP surface over the engine: routes below hub.url, each turned into one engine call.
 * Only fetch-API types are used, so the Node server and the in-page shims share this code.
 */
import { badRequest, formParams, notFound, parseSubscriptionRequest, unsupportedMediaType, HubError } from '../protocol/index.js';
import type { Hub } from '../hub/index.js';
import { authorize } from './auth.js';
import { bodyKind, parseJson, readBodyText } from './bodies.js';
import { endpointIdFromUrl, endpointUrl, hubLocation, isEndpointPath, type HubLocation } from './endpoints.js';
import { emptyResponse, errorResponse, jsonResponse, methodNotAllowed, type ErrorForm } from './responses.js';
import { attachSocket } from './socket.js';
import { DEFAULT_BODY_LIMIT_BYTES, type WireHandler, type WireOptions } from './types.js';

type Route =
  | { kind: 'hub' }
  | { kind: 'well-known' }
  | { kind: 'gettopic' }
  | { kind: 'endpoint' }
  | { kind: 'topic'; segment: string };

const METHODS: Record<Route['kind'], readonly string[]> = {
  hub: ['POST'],
  'well-known': ['GET'],
  gettopic: ['GET'],
  endpoint: ['GET'],
  topic: ['GET', 'POST'],
};

interface Wire {
  hub: Hub;
  location: HubLocation;
  admitSubscription?: (request: Request) => void;
  onSubscribed?: (request: Request, endpointId: string) => void;
  limit: number;
  onInternalError?: (error: unknown) => void;
}

/** Builds the standard STU3 HTTP + WebSocket surface of `hub`, answering below `options.hubUrl`. */
export function createWireHandler(hub: Hub, options: WireOptions): WireHandler {
  const location = hubLocation(options.hubUrl);
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const wire: Wire = { hub, location, limit, onInternalError: options.onInternalError, admitSubscription: options.admitSubscription, onSubscribed: options.onSubscribed };
  return {
    hubUrl: location.url,
    bodyLimitBytes: limit,
    handle: (request) => handle(wire, request),
    acceptSocket(url, socket) {
      const id = endpointIdFromUrl(location, url);
      return id === undefined ? undefined : attachSocket(hub, id, socket, limit);
    },
    isEndpoint(url) {
      const id = endpointIdFromUrl(location, url);
      return id !== undefined && hub.hasEndpoint(id);
    },
  };
}

async function handle(wire: Wire, request: Request): Promise<Response> {
  // Until a body shows it is a subscription request, errors are OperationOutcomes.
  const form: { value: ErrorForm } = { value: 'outcome' };
  try {
    const route = resolveRoute(wire.location, new URL(request.url).pathname);
    if (!route) throw notFound('no such resource on this hub');
    const allowed = METHODS[route.kind];
    if (request.method === 'OPTIONS') return emptyResponse(204, { allow: [...allowed, 'OPTIONS'].join(', ') });
    if (!allowed.includes(request.method)) throw methodNotAllowed(request.method, allowed);
    switch (route.kind) {
      case 'hub':
        return await postToHub(wire, request, form);
      case 'well-known':
        return jsonResponse(200, wire.hub.wellKnown());
      case 'gettopic':
        return await getTopic(wire, request);
      case 'endpoint':
        if (!wire.hub.hasEndpoint(endpointIdFromUrl(wire.location, request.url) ?? '')) throw notFound('no such resource on this hub');
        throw new HubError(426, 'not-supported', 'this endpoint speaks WebSocket only: open it with a WebSocket client');
      case 'topic': {
        const topic = decodeSegment(route.segment);
        if (request.method === 'GET') {
          await authorize(wire.hub, request);
          return jsonResponse(200, wire.hub.getContext(topic));
        }
        return await contextChange(wire, request, await readJson(wire, request), topic);
      }
    }
  } catch (error) {
    return errorResponse(error, form.value, wire.onInternalError);
  }
}

/** Finds the route of a path below hub.url, or undefined when there is none. */
function resolveRoute(location: HubLocation, pathname: string): Route | undefined {
  const path = pathname.replace(/\/+$/, '');
  if (path === location.path) return { kind: 'hub' };
  if (!path.startsWith(`${location.path}/`)) return undefined;
  const segments = path.slice(location.path.length + 1).split('/');
  if (segments.length === 2 && segments[0] === '.well-known' && segments[1] === 'fhircast-configuration') return { kind: 'well-known' };
  if (isEndpointPath(segments)) return { kind: 'endpoint' };
  if (segments.length !== 1 || segments[0] === '') return undefined;
  const lower = segments[0]!.toLowerCase();
  // The 2019 proposal names the route both ways and clients vary the case (HUB-ID-05).
  if (lower === 'gettopic' || lower === 'authenticate') return { kind: 'gettopic' };
  return { kind: 'topic', segment: segments[0]! };
}

/** POST hub.url: a subscription request (form, or JSON with hub.* members) or a context change. */
async function postToHub(wire: Wire, request: Request, form: { value: ErrorForm }): Promise<Response> {
  const kind = bodyKind(request.headers.get('content-type'));
  if (kind === 'form') {
    form.value = 'text';
    const params = formParams(new URLSearchParams(await readBodyText(request, wire.limit)));
    return await subscription(wire, request, params);
  }
  const body = parseJson(await readBodyText(request, wire.limit));
  if (isSubscriptionBody(body)) {
    form.value = 'text';
    return await subscription(wire, request, body);
  }
  return await contextChange(wire, request, body, undefined);
}

/** A JSON body is a subscription request when it has hub.* members and no event (HUB-TOLERANT-02). */
function isSubscriptionBody(body: unknown): body is Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || 'event' in body) return false;
  return Object.keys(body).some((k) => k.startsWith('hub.'));
}

async function subscription(wire: Wire, request: Request, params: Record<string, unknown>): Promise<Response> {
  await authorize(wire.hub, request);
  const req = parseSubscriptionRequest(params);
  if (req.endpoint !== undefined) {
    const id = endpointIdFromUrl(wire.location, req.endpoint);
    if (id === undefined) throw notFound('hub.channel.endpoint is not a live subscription of this hub.topic');
    req.endpoint = id;
  }
  const isNew = req.mode === 'subscribe' && req.endpoint === undefined;
  if (isNew) wire.admitSubscription?.(request);
  const result = wire.hub.handleSubscriptionRequest(req);
  if (isNew) wire.onSubscribed?.(request, result.endpoint);
  return jsonResponse(202, { 'hub.channel.endpoint': endpointUrl(wire.location, result.endpoint) });
}

async function contextChange(wire: Wire, request: Request, body: unknown, pathTopic: string | undefined): Promise<Response> {
  await authorize(wire.hub, request);
  const result = await wire.hub.publish(body, pathTopic === undefined ? {} : { pathTopic });
  return jsonResponse(202, { id: result.id });
}

async function readJson(wire: Wire, request: Request): Promise<unknown> {
  if (bodyKind(request.headers.get('content-type')) !== 'json') {
    throw unsupportedMediaType('a context change is a JSON body: send application/json or application/fhir+json');
  }
  return parseJson(await readBodyText(request, wire.limit));
}

async function getTopic(wire: Wire, request: Request): Promise<Response> {
  const query = new URL(request.url).searchParams;
  const topic = await wire.hub.getTopic(query.get('username'), query.get('secret'));
  return jsonResponse(200, { 'hub.topic': topic });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest('the topic in the URL is not validly percent-encoded', 'value');
  }
}
