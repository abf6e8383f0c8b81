/** Command-line parsing for `tabcast serve` (HUB-SERVE-02/05/06/07). No I/O here. */

/** What `tabcast serve` was asked to do. */
export interface ServeArgs {
  host: string;
  port: number;
  path: string;
  ackTimeoutMs: number;
  heartbeatMs: number;
  usersFile?: string;
  /** Directory of the LMDB store (`--data DIR`). */
  dataDir?: string;
  /** Bounds on state (HUB-BOUND-03..06); absent ones take the engine's defaults. */
  maxOpenContexts?: number;
  maxContentBytes?: number;
  maxTopics?: number;
  idleTopicMs?: number;
  connectTimeoutMs?: number;
  allowOrigins: string[];
  maxConnections?: number;
  /** Further Host names the hub answers to (HUB-SEC-12). */
  allowHosts?: string[];
  /** Open connections per remote address (HUB-SEC-14). */
  maxConnectionsPerIp?: number;
  /** Never-connected subscriptions per remote address (HUB-SEC-14). */
  maxUnconnectedPerIp?: number;
  /** hub.url as clients reach it (behind a TLS proxy); its path is the path served. */
  publicUrl?: string;
  /** WebSub callbacks on (`--websub`), with their allowed origins (`--websub-allow`). */
  websub?: boolean;
  websubAllow?: string[];
  /** Cluster mode: the Redis every instance shares (`redis://HOST:PORT`). */
  redis?: string;
  /** This instance's name in /healthz. */
  instanceId?: string;
}

/** The parsed command line: serve, or print the usage. */
export type Command = { command: 'serve'; args: ServeArgs } | { command: 'help' };

/** A command line that cannot be run; its message is meant for stderr. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The usage text. */
export const USAGE = `Usage: tabcast serve [options]

  --host HOST             interface to bind (default 127.0.0.1)
  --port PORT             TCP port, 0 for any free port (default 5200)
  --path PATH             path of hub.url (default /fhircast/hub)
  --ack-timeout-ms N      wait N ms for a subscriber's answer, 0 = never time out (default 10000)
  --heartbeat-ms N        heartbeat period in ms, 0 = no heartbeats (default 10000)
  --users FILE            users file {"secret": "...", "groups": [["user1", "user2"], ...]}
  --data DIR              keep topics, open contexts and content in directory DIR
                          (LMDB) across restarts; each change is on disk before its 202
  --max-open-contexts N   open contexts per topic; the next open forgets the least
                          recently opened one that is not current (default 100)
  --max-content-bytes N   shared content per open context, in bytes of JSON; an update
                          past it gets 413 (default 4194304)
  --max-topics N          topics the hub holds; a request that would create one more
                          gets 503 (default 10000); with --redis, over all instances
  --idle-topic-ms N       forget a topic with no subscriber and no open context after
                          N ms without activity (default 86400000, 24 h); with --redis,
                          only when no instance has a subscriber of it
  --connect-timeout-ms N  end a subscription whose WebSocket is not opened within N ms
                          of its 202 (default 60000)
  --allow-origin ORIGIN   allow cross-origin requests from ORIGIN (repeatable)
  --max-connections N     refuse TCP connections beyond N
  --allow-host NAME       also answer to Host NAME (repeatable); any other name than the
                          bound host, localhost and the --public-url host gets 421
                          (the DNS-rebinding defence)
  --max-connections-per-ip N
                          open connections one remote address may hold (default 64)
  --max-unconnected-per-ip N
                          subscriptions never connected one remote address may hold;
                          beyond it, 429 with Retry-After (default 100)
  --public-url URL        hub.url as clients reach it, e.g. behind a TLS proxy
                          https://hub.example.org/fhircast/hub: endpoints are then wss:// URLs
                          there; the proxy must forward that same path here
  --websub                accept WebSub (webhook) subscriptions and {topic}/websub
  --websub-allow ORIGIN   let callbacks point at ORIGIN (repeatable; default: the
                          loopback hosts 127.0.0.1, localhost and [::1], any port)
  --redis URL             cluster mode: share topics with every instance on this
                          Redis, e.g. redis://127.0.0.1:6379 (see docs/cluster.md)
  --instance-id ID        this instance's name in {hub.url}/healthz (default random)
  --help                  print this text`;

/** Parses `serve [options]`, accepting `--flag value` and `--flag=value`. Throws UsageError. */
export function parseCommandLine(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') return { command: 'help' };
  if (command === undefined) throw new UsageError('no command given: try "tabcast serve"');
  if (command !== 'serve') throw new UsageError(`unknown command ${JSON.stringify(command)}: the only command is "serve"`);
  const args: ServeArgs = { host: '127.0.0.1', port: 5200, path: '/fhircast/hub', ackTimeoutMs: 10_000, heartbeatMs: 10_000, allowOrigins: [] };
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    if (token === '--help' || token === '-h') return { command: 'help' };
    if (!token.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(token)}`);
    const eq = token.indexOf('=');
    const flag = eq >= 0 ? token.slice(0, eq) : token;
    if (flag === '--websub' && eq < 0) {
      args.websub = true;
      continue;
    }
    const setter = FLAGS[flag];
    if (!setter) throw new UsageError(`unknown option ${flag}`);
    let value: string | undefined;
    if (eq >= 0) value = token.slice(eq + 1);
    else if (i + 1 < rest.length && !rest[i + 1]!.startsWith('--')) value = rest[++i];
    if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
    setter(args, value, flag);
  }
  if (args.publicUrl !== undefined) {
    const publicPath = new URL(args.publicUrl).pathname.replace(/\/+$/, '') || '/';
    if (rest.some((t) => t === '--path' || t.startsWith('--path=')) && publicPath !== args.path) {
      throw new UsageError(`--path ${args.path} and the path of --public-url (${publicPath}) differ: the hub serves the path clients use, so give one of them`);
    }
    args.path = publicPath;
  }
  if (args.websubAllow && !args.websub) throw new UsageError('--websub-allow needs --websub');
  return { command: 'serve', args };
}

type Setter = (args: ServeArgs, value: string, flag: string) => void;

const FLAGS: Record<string, Setter> = {
  '--host': (a, v) => {
    a.host = v;
  },
  '--port': (a, v, f) => {
    a.port = integer(v, f, 0, 65_535);
  },
  '--path': (a, v, f) => {
    a.path = hubPath(v, f);
  },
  '--ack-timeout-ms': (a, v, f) => {
    a.ackTimeoutMs = integer(v, f, 0, 2_000_000_000);
  },
  '--heartbeat-ms': (a, v, f) => {
    a.heartbeatMs = integer(v, f, 0, 2_000_000_000);
  },
  '--users': (a, v) => {
    a.usersFile = v;
  },
  '--data': (a, v) => {
    a.dataDir = v;
  },
  '--max-open-contexts': (a, v, f) => {
    a.maxOpenContexts = integer(v, f, 1, 1_000_000);
  },
  '--max-content-bytes': (a, v, f) => {
    a.maxContentBytes = integer(v, f, 1, 2_000_000_000);
  },
  '--max-topics': (a, v, f) => {
    a.maxTopics = integer(v, f, 1, 100_000_000);
  },
  '--idle-topic-ms': (a, v, f) => {
    a.idleTopicMs = integer(v, f, 1, 2_000_000_000_000);
  },
  '--connect-timeout-ms': (a, v, f) => {
    a.connectTimeoutMs = integer(v, f, 1, 2_000_000_000);
  },
  '--allow-host': (a, v, f) => {
    (a.allowHosts ??= []).push(hostNameArg(v, f));
  },
  '--max-connections-per-ip': (a, v, f) => {
    a.maxConnectionsPerIp = integer(v, f, 1, 1_000_000);
  },
  '--max-unconnected-per-ip': (a, v, f) => {
    a.maxUnconnectedPerIp = integer(v, f, 1, 1_000_000);
  },
  '--allow-origin': (a, v, f) => {
    a.allowOrigins.push(origin(v, f));
  },
  '--max-connections': (a, v, f) => {
    a.maxConnections = integer(v, f, 1, 1_000_000);
  },
  '--websub-allow': (a, v, f) => {
    (a.websubAllow ??= []).push(origin(v, f));
  },
  '--public-url': (a, v, f) => {
    a.publicUrl = publicUrl(v, f);
  },
  '--redis': (a, v, f) => {
    if (!/^rediss?:\/\/[^\s/]+(\/\d+)?$/.test(v)) throw new UsageError(`${f} must be a Redis URL such as redis://127.0.0.1:6379, got ${JSON.stringify(v)}`);
    a.redis = v;
  },
  '--instance-id': (a, v, f) => {
    if (!/^[\w.-]{1,64}$/.test(v)) throw new UsageError(`${f} must be 1 to 64 letters, digits, "_", "." or "-", got ${JSON.stringify(v)}`);
    a.instanceId = v;
  },
};

function integer(value: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** A path for hub.url: absolute, no query or fragment, no trailing slash (except "/" itself). */
function hubPath(value: string, flag: string): string {
  if (!value.startsWith('/') || /[?#\s]/.test(value) || value.includes('//')) {
    throw new UsageError(`${flag} must be an absolute URL path such as /fhircast/hub, got ${JSON.stringify(value)}`);
  }
  return value.length > 1 ? value.replace(/\/+$/, '') : value;
}

/** A bare host name or IP literal, as the Host header names it (no scheme, port or path). */
function hostNameArg(value: string, flag: string): string {
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+|[0-9A-Fa-f:]+)$/.test(value)) {
    throw new UsageError(`${flag} must be a host name such as hub.lan (no scheme, port or path), got ${JSON.stringify(value)}`);
  }
  return value.toLowerCase();
}

/** An absolute http(s) URL without query, fragment or credentials, normalised without a trailing slash. */
function publicUrl(value: string, flag: string): string {
  const url = httpUrl(value);
  if (!url || url.search || url.hash || url.username || url.password || url.pathname.includes('//')) {
    throw new UsageError(`${flag} must be an http or https URL such as https://hub.example.org/fhircast/hub (no query, fragment or credentials), got ${JSON.stringify(value)}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** CORS compares origins exactly, so only a bare scheme://host[:port] can ever match. */
function origin(value: string, flag: string): string {
  const url = httpUrl(value);
  if (!url || url.origin !== value) {
    throw new UsageError(`${flag} must be an origin such as https://viewer.example.org (scheme, host and port only), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `value` as an http(s) URL, or undefined. */
function httpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}
