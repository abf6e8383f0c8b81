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
import { envelopeSocket } from './envelope-2019.js';
import { channelSwitches, protocolList, STOMP_SEGMENT, type ChannelSwitches } from './protocols.js';
import { pullContext, pullId } from './pull-context.js';
import { attachSocket } from './socket.js';
import { acceptStomp, isStompUrl } from './stomp-door.js';
import { DEFAULT_BODY_LIMIT_BYTES, type WebhookDoor, type WireHandler, type WireOptions } from './types.js';

type Route =
  | { kind: 'hub' }
  | { kind: 'well-known' }
  | { kind: 'gettopic' }
  | { kind: 'endpoint' }
  | { kind: 'healthz' }
  | { kind: 'topic'; segment: string }
  | { kind: 'websub'; segment: string }
  | { kind: 'topic-context'; segment: string }
  | { kind: 'topic-protocols'; segment: string }
  | { kind: 'stomp' };

const METHODS: Record<Route['kind'], readonly string[]> = {
  hub: ['POST'],
  'well-known': ['GET'],
  gettopic: ['GET'],
  endpoint: ['GET'],
  healthz: ['GET', 'POST'],
  topic: ['GET', 'POST'],
  websub: ['GET', 'POST'],
  'topic-context': ['GET'],
  'topic-protocols': ['GET'],
  stomp: ['GET'],
};

interface Wire {
  hub: Hub;
  location: HubLocation;
  admitSubscription?: (request: Request) => void;
  onSubscribed?: (request: Request, endpointId: string) => void;
  limit: number;
  onInternalError?: (error: unknown) => void;
  webhooks?: WebhookDoor;
  /** Endpoints whose socket speaks the 2019 envelope (HUB-ENV-01); pruned as subscriptions end. */
  envelope2019: Set<string>;
  channels: Required<ChannelSwitches>;
  now: () => number;
  health?: WireOptions['health'];
}

/** Builds the standard STU3 HTTP + WebSocket surface of `hub`, answering below `options.hubUrl`. */
export function createWireHandler(hub: Hub, options: WireOptions): WireHandler {
  const location = hubLocation(options.hubUrl);
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const now = options.now ?? (() => Date.now());
  // A door that takes webhooks offers websub; one without a webhook door refuses webhook subscriptions with 400.
  const channels = channelSwitches({ ...options.channels, websub: options.webhooks !== undefined || options.channels?.websub === true });
  const wire: Wire = {
    hub,
    location,
    limit,
    onInternalError: options.onInternalError,
    admitSubscription: options.admitSubscription,
    onSubscribed: options.onSubscribed,
    webhooks: options.webhooks,
    envelope2019: new Set(),
    channels,
    now,
    health: options.health,
  };
  return {
    hubUrl: location.url,
    bodyLimitBytes: limit,
    handle: (request) => handle(wire, request),
    acceptSocket(url, socket) {
      if (channels.stomp && isStompUrl(location, url)) return acceptStomp(hub, socket, { now: wire.now, onInternalError: options.onInternalError });
      const id = endpointIdFromUrl(location, url);
      if (id === undefined) return undefined;
      return attachSocket(hub, id, wire.envelope2019.has(id) ? envelopeSocket(socket, now) : socket, limit);
    },
    isEndpoint(url) {
      if (channels.stomp && isStompUrl(location, url)) return true;
      const id = endpointIdFromUrl(location, url);
      return id !== undefined && hub.hasEndpoint(id);
    },
  };
}

async function handle(wire: Wire, request: Request): Promise<Response> {
  // Until a body shows it is a subscription request, errors are OperationOutcomes.
  const form: { value: ErrorForm } = { value: 'outcome' };
  try {
    const route = resolveRoute(wire.location, new URL(request.url).pathname, wire.channels);
    if (!route) throw notFound('no such resource on this hub');
    const allowed = METHODS[route.kind];
    if (request.method === 'OPTIONS') return emptyResponse(204, { allow: [...allowed, 'OPTIONS'].join(', ') });
    if (!allowed.includes(request.method)) throw methodNotAllowed(request.method, allowed);
    switch (route.kind) {
      case 'hub':
        return await postToHub(wire, request, form);
      case 'well-known':
        return jsonResponse(200, { ...wire.hub.wellKnown(), 'tabcast.protocols': protocolList(wire.location, wire.channels, '{topic}') });
      case 'gettopic':
        return await getTopic(wire, request);
      case 'endpoint':
        if (!wire.hub.hasEndpoint(endpointIdFromUrl(wire.location, request.url) ?? '')) throw notFound('no such resource on this hub');
        throw new HubError(426, 'not-supported', 'this endpoint speaks WebSocket only: open it with a WebSocket client');
      case 'stomp':
        throw new HubError(426, 'not-supported', 'this is the STOMP 1.2 endpoint: open it with a WebSocket client (sub-protocol v12.stomp)');
      case 'topic-context':
        await authorize(wire.hub, request);
        return jsonResponse(200, await pullContext(wire.hub, decodeSegment(route.segment), wire.now, pullId));
      case 'topic-protocols':
        return jsonResponse(200, { 'hub.topic': decodeSegment(route.segment), protocols: protocolList(wire.location, wire.channels, route.segment) });
      case 'healthz': {
        // HUB-CLUSTER-05: the health route, so `healthz` is never a topic.
        if (request.method !== 'GET') throw badRequest('"healthz" is not a topic: it is the hub\u2019s health route', 'value');
        const health = wire.health?.() ?? { status: 200, body: { instance: 'single', redis: 'none' } };
        return jsonResponse(health.status, health.body);
      }
      case 'topic': {
        const topic = decodeSegment(route.segment);
        if (request.method === 'GET') {
          await authorize(wire.hub, request);
          return jsonResponse(200, await wire.hub.getContext(topic)); // a Promise in cluster mode (src/cluster)
        }
        return await contextChange(wire, request, await readJson(wire, request), topic);
      }
      case 'websub': {
        const topic = decodeSegment(route.segment);
        if (request.method === 'POST') return await postToWebsub(wire, request, topic, form); // authorised as a subscription or a change
        await authorize(wire.hub, request);
        return jsonResponse(200, await pullContext(wire.hub, topic, wire.now, pullId));
      }
    }
  } catch (error) {
    return errorResponse(error, form.value, wire.onInternalError);
  }
}

/** Finds the route of a path below hub.url, or undefined when there is none. */
function resolveRoute(location: HubLocation, pathname: string, channels: Required<ChannelSwitches>): Route | undefined {
  const path = pathname.replace(/\/+$/, '');
  if (path === location.path) return { kind: 'hub' };
  if (!path.startsWith(`${location.path}/`)) return undefined;
  const segments = path.slice(location.path.length + 1).split('/');
  if (segments.length === 2 && segments[0] === '.well-known' && segments[1] === 'fhircast-configuration') return { kind: 'well-known' };
  if (isEndpointPath(segments)) return { kind: 'endpoint' };
  // The Philips proposal's WebSub path exists only with --websub (channels.md §3).
  if (channels.websub && segments.length === 2 && segments[0] !== '' && segments[1]!.toLowerCase() === 'websub') return { kind: 'websub', segment: segments[0]! };
  if (segments.length === 2 && segments[0] !== '' && segments[1] === 'context') return { kind: 'topic-context', segment: segments[0]! };
  if (segments.length === 2 && segments[0] !== '' && segments[1] === 'protocols') return { kind: 'topic-protocols', segment: segments[0]! };
  if (segments.length !== 1 || segments[0] === '') return undefined;
  if (channels.stomp && segments[0] === STOMP_SEGMENT) return { kind: 'stomp' };
  const lower = segments[0]!.toLowerCase();
  // The 2019 proposal names the route both ways and clients vary the case (HUB-ID-05).
  if (lower === 'gettopic' || lower === 'authenticate') return { kind: 'gettopic' };
  if (segments[0] === 'healthz') return { kind: 'healthz' };
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

/**
 * POST {hub.url}/{topic}/websub (HUB-WEBSUB-06): a JSON event is a context change, anything else a
 * subscription whose channel type is implied; the topic comes from the path.
 */
async function postToWebsub(wire: Wire, request: Request, topic: string, form: { value: ErrorForm }): Promise<Response> {
  const kind = bodyKind(request.headers.get('content-type'));
  const body = kind === 'form' ? formParams(new URLSearchParams(await readBodyText(request, wire.limit))) : parseJson(await readBodyText(request, wire.limit));
  if (kind === 'json' && !isSubscriptionBody(body)) return await contextChange(wire, request, body, topic);
  form.value = 'text';
  const params = body as Record<string, unknown>;
  if (params['hub.topic'] !== undefined && params['hub.topic'] !== topic) {
    throw badRequest(`hub.topic ${JSON.stringify(params['hub.topic'])} differs from the topic in the path`, 'value');
  }
  return await subscription(wire, request, { 'hub.channel.type': 'webhook', ...params, 'hub.topic': topic });
}

async function subscription(wire: Wire, request: Request, params: Record<string, unknown>): Promise<Response> {
  await authorize(wire.hub, request);
  const req = parseSubscriptionRequest(params, { webhooks: wire.webhooks !== undefined });
  if (req.channelType === 'webhook') {
    // A client over its share is refused here too; a webhook waits for its verification 5 s at most, so it is not recorded.
    if (req.mode === 'subscribe') wire.admitSubscription?.(request);
    wire.webhooks!.request(req);
    return emptyResponse(202);
  }
  if (req.endpoint !== undefined) {
    const id = endpointIdFromUrl(wire.location, req.endpoint);
    if (id === undefined) throw notFound('hub.channel.endpoint is not a live subscription of this hub.topic');
    req.endpoint = id;
  }
  const isNew = req.mode === 'subscribe' && req.endpoint === undefined;
  if (isNew) wire.admitSubscription?.(request);
  // The 2019 dialect is a label on the subscription (inspect()) and a framing of its socket (envelope2019).
  const asked = req.mode === 'subscribe' && req.dialect === '2019' ? Object.assign(req, { channel: '2019' as const }) : req;
  const result = await wire.hub.handleSubscriptionRequest(asked); // a Promise in cluster mode (src/cluster)
  if (isNew) wire.onSubscribed?.(request, result.endpoint);
  for (const id of wire.envelope2019) if (!wire.hub.hasEndpoint(id)) wire.envelope2019.delete(id);
  if (req.dialect === '2019' && req.mode === 'subscribe') wire.envelope2019.add(result.endpoint);
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
