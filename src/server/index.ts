/**
 * `tabcast serve` as a library: the engine behind node:http and ws, with the wire doing all of
 * the FHIRcast work. Defaults for every port (clock, crypto, storage) live here, at the door.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Hub, type Clock, type HubBounds, type HubStorage, type UsersConfig } from '../hub/index.js';
import { memoryStorage } from '../adapters/memory-storage.js';
import { systemClock, timerDriver } from '../adapters/system-clock.js';
import { webCrypto } from '../adapters/web-crypto.js';
import { badRequest, tooLarge } from '../protocol/index.js';
import { createWireHandler, errorResponse, methodNotAllowed, DEFAULT_BODY_LIMIT_BYTES, type ChannelSwitches, type WireHandler } from '../wire/index.js';
import { corsFor } from './cors.js';
import { bodyBudget, DEFAULT_BODY_BYTES_IN_FLIGHT } from './body-budget.js';
import { hostCheck, MISDIRECTED_HEAD } from './host-check.js';
import { applyTimeouts, checkingIntervalMs, limitConnectionsPerAddress, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS_PER_IP, DEFAULT_REQUEST_TIMEOUT_MS } from './peer-limits.js';
import { unconnectedCap, DEFAULT_MAX_UNCONNECTED_PER_IP } from './unconnected-cap.js';
import { endpointIdFromUrl, hubLocation } from '../wire/endpoints.js';
import { discardUnreadBody, isFetchableMethod, requestUrl, sendResponse, toFetchRequest } from './http-bridge.js';
import { socketDoor, type SocketDoor } from './sockets.js';
import { WebsubDoor, type WebsubOptions } from '../websub/index.js';
import { clusterDoor, type ClusterDoor } from './cluster-door.js';

/** How long a cluster replica gathers changed records before one write to Redis (group commit). */
const CLUSTER_WRITE_DELAY_MS = 25;

/** How to run the server; everything has a default. */
export interface ServerOptions {
  /** Interface to bind. Default 127.0.0.1 (HUB-SEC-07). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 5200. */
  port?: number;
  /** Further names the hub answers to besides its bound host, `localhost` and the publicUrl host (HUB-SEC-12). */
  allowHosts?: readonly string[];
  /** Open connections per remote address (HUB-SEC-14). Default 64. */
  maxConnectionsPerIp?: number;
  /** Request headers must arrive within this long (HUB-SEC-14). Default 10 s. */
  headersTimeoutMs?: number;
  /** A whole request must arrive within this long (HUB-SEC-14). Default 30 s. */
  requestTimeoutMs?: number;
  /** Bytes of request bodies held at once over all requests; beyond it, 503 (HUB-SEC-14). Default 64 MiB. */
  bodyBytesInFlight?: number;
  /** Never-connected subscriptions per remote address; beyond it, 429 (HUB-SEC-14). Default 100. */
  maxUnconnectedPerIp?: number;
  /** Unsent bytes per subscriber socket before it is closed with 1013 (HUB-SEC-13). Default 4 MiB. */
  socketBufferBudgetBytes?: number;
  /** Path of hub.url. Default /fhircast/hub. */
  path?: string;
  ackTimeoutMs?: number;
  heartbeatMs?: number;
  /** A validated users file: GetTopic and Bearer checks are on (HUB-ID). */
  users?: UsersConfig;
  /** Where state persists. Default: memory only. Closed by `close()`. */
  storage?: HubStorage;
  /** Bounds on state (HUB-BOUND-03..06); each missing one takes the engine's default. */
  bounds?: Partial<HubBounds>;
  /** Origins that get CORS headers, compared exactly (HUB-SEC-06). */
  allowOrigins?: readonly string[];
  maxConnections?: number;
  /**
   * hub.url as clients reach it, when that is not where the server listens (a TLS proxy in front):
   * endpoint URLs are built from it. Its path must be `path`, which the proxy forwards unchanged.
   */
  publicUrl?: string;
  bodyLimitBytes?: number;
  /** The proposal's channels this server offers (channels.md). Default `{ stomp: true, websub: false }`. */
  channels?: ChannelSwitches;
  /** The engine's clock (tests pass a fake one and call `hub.tick()`). */
  clock?: Clock;
  /** WebSub callbacks (`--websub`, channels.md §3); absent = webhook subscriptions get 400. */
  websub?: WebsubOptions;
  /** Receives one line per problem the server hit on its own (never a secret or an endpoint). */
  log?: (line: string) => void;
  /** Cluster mode: share topics with every instance on this Redis (`redis://HOST:PORT`, HUB-CLUSTER). */
  redis?: string;
  /** This instance's name in /healthz (cluster mode). Default: random. */
  instanceId?: string;
}

/** A listening server. */
export interface RunningServer {
  /** hub.url with the port actually bound. */
  readonly url: string;
  /** hub.url as clients reach it: `publicUrl`, else `url`. */
  readonly publicUrl: string;
  readonly hub: Hub;
  /** The WebSub door when `websub` was given. */
  readonly websub?: WebsubDoor;
  /**
   * Cluster mode: resolves with the reason once this instance missed changes of the shared log
   * (it fell behind the trimmed log). The server stays up answering 503; restart it (`close()`,
   * then start again: it reloads from Redis). `tabcast serve` exits with code 1.
   */
  readonly diverged?: Promise<string>;
  /** Closes subscriber sockets with 1001, writes pending state, stops listening. */
  close(): Promise<void>;
}

/** Starts the hub: restores state, applies the users file, then listens. Rejects when it cannot listen. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/fhircast/hub';
  if (options.publicUrl !== undefined) {
    const trimmed = (p: string) => p.replace(/\/+$/, '') || '/';
    const publicPath = trimmed(new URL(options.publicUrl).pathname);
    if (publicPath !== trimmed(path)) {
      throw new Error(`publicUrl's path ${publicPath} is not the path served (${path}): a proxy must forward hub.url's path unchanged`);
    }
  }
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const log = options.log ?? (() => undefined);
  const clock = options.clock ?? systemClock;
  let hub: Hub | undefined;
  const driver = timerDriver(() => hub?.tick(), clock);
  const cluster: ClusterDoor | undefined = options.redis === undefined ? undefined : await clusterDoor(options.redis, options.instanceId, log);
  const storage = cluster?.node.hubStorage ?? options.storage ?? memoryStorage();
  const start = async () => {
    hub = await Hub.create({
      clock,
      crypto: webCrypto,
      storage,
      ackTimeoutMs: options.ackTimeoutMs,
      heartbeatMs,
      bounds: options.bounds,
      // A store this hub cannot read stops the start instead of serving a partial state (HUB-PERSIST-06, HUB-SEC-15).
      malformedRecords: 'refuse',
      onWake: driver.onWake,
      // Cluster mode: the shared log already holds every change, and the records are only its snapshot
      // for restarts; written at once, each replica's write of each change queued the next append behind it.
      scheduleWrite: cluster ? (startBatch) => setTimeout(startBatch, CLUSTER_WRITE_DELAY_MS) : undefined,
      onStorageError: (error) => log(`tabcast: storage error: ${error instanceof Error ? error.message : String(error)}`),
    }).catch(async (error: unknown) => {
      await storage.close?.().catch(() => undefined);
      throw error;
    });
    await cluster?.node.attach(hub);
    if (options.users) await hub.configureUsers(options.users);
    // Topics this replica holds already (users file, loaded records) count in the cluster's bound.
    await cluster?.node.registerTopics();
    return hub;
  };
  // In cluster mode one instance starts at a time, so a users file's topics are drawn once (HUB-CLUSTER-01).
  const engine = cluster ? await cluster.node.whileStarting(start).catch(async (error: unknown) => {
    await cluster.node.close();
    throw error;
  }) : await start();

  const websub = options.websub ? new WebsubDoor({ ...options.websub, hub: engine, ackTimeoutMs: options.ackTimeoutMs ?? 10_000, log }) : undefined;
  const allowed = new Set(options.allowOrigins ?? []);
  let wire: WireHandler | undefined;
  let sockets: SocketDoor | undefined;
  let base = '';
  const timeouts = { headersTimeoutMs: options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS };
  const server = createServer({ connectionsCheckingInterval: checkingIntervalMs(timeouts) }, (req, res) => void respond(req, res));
  if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
  applyTimeouts(server, timeouts);
  limitConnectionsPerAddress(server, options.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP);
  const ownName = hostCheck({ bindHost: host, publicUrl: options.publicUrl, allowHosts: options.allowHosts });
  const bodies = bodyBudget(options.bodyBytesInFlight ?? DEFAULT_BODY_BYTES_IN_FLIGHT);
  const unconnected = unconnectedCap(options.maxUnconnectedPerIp ?? DEFAULT_MAX_UNCONNECTED_PER_IP, (id) => engine.hasEndpoint(id));
  const clientOf = new WeakMap<Request, string>();

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!ownName(req.headers.host)) {
        // DNS rebinding: a page whose own name resolves here; no body, no CORS, nothing read (HUB-SEC-12).
        res.writeHead(421, { connection: 'close', 'content-length': '0' }).end();
        return;
      }
      const cors = corsFor(allowed, req.method ?? 'GET', header(req, 'origin'), header(req, 'access-control-request-method'));
      if (cors.answerPreflight) {
        res.writeHead(204, cors.headers).end();
        return;
      }
      // A GET carries no body the wire reads; one announced over the limit is still refused (HUB-SEC-08).
      const declared = Number(req.headers['content-length'] ?? 0);
      if ((req.method === 'GET' || req.method === 'HEAD') && declared > limit) {
        await sendResponse(res, errorResponse(tooLarge(`request body is larger than the hub's limit of ${limit} bytes`), 'outcome'), cors.headers);
        return;
      }
      const url = requestUrl(req, base);
      if (url === undefined) {
        await sendResponse(res, errorResponse(badRequest('the request target is not a valid URL', 'structure'), 'outcome'), cors.headers);
        return;
      }
      const method = req.method ?? 'GET';
      if (!isFetchableMethod(method)) {
        await sendResponse(res, await refuseMethod(wire!, url, method), cors.headers);
        return;
      }
      const account = bodies.account();
      res.once('close', () => account.release());
      const request = toFetchRequest(req, url, account);
      clientOf.set(request, req.socket.remoteAddress ?? 'unknown');
      await sendResponse(res, await wire!.handle(request), cors.headers);
      await discardUnreadBody(request);
    } catch (error) {
      log(`tabcast: could not answer a request: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('internal error');
    }
  }

  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      driver.stop();
      void storage.close?.().catch(() => undefined);
      reject(new Error(listenFailure(error, host, options.port ?? 5200)));
    };
    server.once('error', failed);
    server.listen(options.port ?? 5200, host, () => {
      server.off('error', failed);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : (options.port ?? 5200);
      base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      wire = createWireHandler(engine, {
        hubUrl: options.publicUrl ?? `${base}${path}`,
        admitSubscription: (request) => unconnected.admit(clientOf.get(request) ?? 'unknown'),
        onSubscribed: (request, endpointId) => unconnected.subscribed(clientOf.get(request) ?? 'unknown', endpointId),
        bodyLimitBytes: limit,
        channels: options.channels,
        now: () => clock.now(),
        onInternalError: (error) => log(`tabcast: internal error: ${error instanceof Error ? error.message : String(error)}`),
        webhooks: websub,
        health: cluster?.health,
      });
      const location = hubLocation(wire.hubUrl);
      sockets = socketDoor(wire, base, heartbeatMs, log, {
        bufferBudgetBytes: options.socketBufferBudgetBytes,
        onAccepted: (url) => {
          const id = endpointIdFromUrl(location, url);
          if (id !== undefined) {
            unconnected.settled(id);
            cluster?.node.markConnected(id);
          }
        },
      });
      resolve();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    if (!ownName(req.headers.host)) {
      socket.on('error', () => undefined);
      socket.end(MISDIRECTED_HEAD);
      return;
    }
    if (!cluster) return sockets!.upgrade(req, socket, head);
    // An endpoint another instance issued is adopted before the upgrade is checked (HUB-CLUSTER-02).
    void cluster.beforeUpgrade(wire!, req.url, base).then(() => sockets!.upgrade(req, socket, head));
  });
  server.on('error', (error) => log(`tabcast: server error: ${error.message}`));

  let closing: Promise<void> | undefined;
  return {
    url: `${base}${path}`,
    publicUrl: wire!.hubUrl,
    hub: engine,
    websub,
    ...(cluster ? { diverged: cluster.node.diverged } : {}),
    close() {
      closing ??= (async () => {
        const stopped = new Promise((resolve) => server.close(resolve));
        await engine.shutdown(); // 1001, no denial (HUB-SERVE-04), then flush
        await sockets!.drain(1000);
        server.closeAllConnections();
        await stopped;
        driver.stop();
        await storage.close?.();
        await cluster?.node.close();
      })();
      return closing;
    },
  };
}

/**
 * Answers a method the fetch API cannot carry (TRACE, TRACK): 405 with the path's Allow list,
 * which the wire states for an OPTIONS, or the wire's 404 when there is no such path.
 */
async function refuseMethod(wire: WireHandler, url: URL, method: string): Promise<Response> {
  const probe = await wire.handle(new Request(url, { method: 'OPTIONS' }));
  const allow = probe.headers.get('allow');
  if (probe.status !== 204 || allow === null) return probe;
  return errorResponse(methodNotAllowed(method, allow.split(/,\s*/)), 'outcome');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function listenFailure(error: NodeJS.ErrnoException, host: string, port: number): string {
  if (error.code === 'EADDRINUSE') return `port ${port} on ${host} is already in use`;
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') return `cannot bind to host ${host}: no such local address`;
  if (error.code === 'EACCES') return `not allowed to listen on port ${port} on ${host}`;
  return `cannot listen on ${host}:${port}: ${error.message}`;
}
