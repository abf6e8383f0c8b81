/**
 * `connect()`: picks the door (SharedWorker, a leader tab where there is none, or the relay of
 * another origin of the site), checks what the page gave, and resolves once the hub has answered.
 */
import { platformLocks } from '../link/locks.js';
import { WORKER_NAME } from '../link/messages.js';
import { badRequest } from '../protocol/outcome.js';
import { HubClient } from './hub-client.js';
import { joinElection } from './leader-election.js';
import { openRelay } from './relay-link.js';
import { openSession } from './session.js';
import { leaderTabTransport, sharedWorkerTransport, type Transport } from './transports.js';
import type { ConnectOptions, HubMode, TabcastHub } from './types.js';
import { resolveWorkerSource } from './worker-url.js';

/** How long the first connection may take before `connect()` gives up with a reason. */
const FIRST_ANSWER_TIMEOUT_MS = 15_000;
const MODES: readonly HubMode[] = ['auto', 'shared-worker', 'leader-tab'];
const SECURE_CONTEXTS_ONLY = 'browsers offer Web Locks (navigator.locks), which tabcast needs, only in secure contexts: serve the page over https or from localhost';

/** The hub.url a page's hub answers to: absolute, without query or trailing slash. */
function normalizeHubUrl(raw: unknown, pageUrl: string): string {
  if (typeof raw !== 'string' || raw === '') throw badRequest(`tabcast: hubUrl must be a non-empty string, got ${String(raw)}`, 'value');
  const url = new URL(raw, pageUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest(`tabcast: hubUrl must be an http or https URL, got ${url.href}`, 'value');
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** A hub client built at once, and the promise of its first session. */
export interface OpeningHub {
  hub: HubClient;
  /** Settles when the first session is up (or could not be opened). */
  ready: Promise<void>;
  /** Where the hub is, for error messages. */
  where: string;
}

/**
 * Builds the client of this page's hub synchronously and starts its first session; calls made
 * meanwhile wait for it. Throws an Error when the page cannot host one (no Web Locks, a worker on
 * another origin) or a HubError 400 for a bad option.
 */
export function openHub(options: ConnectOptions = {}): OpeningHub {
  const pageUrl = (globalThis as { location?: { href: string } }).location?.href;
  if (!pageUrl) throw new Error('tabcast: connect() needs a page (location is undefined)');
  if (typeof options !== 'object' || options === null) throw badRequest('tabcast: connect(options): options must be an object', 'structure');
  const hubUrl = normalizeHubUrl(options.hubUrl ?? '/fhircast/hub', pageUrl);
  const info = { appName: options.appName, hubUrl };
  if (options.relayUrl !== undefined) {
    if (typeof options.relayUrl !== 'string') throw badRequest('tabcast: relayUrl must be a string', 'value');
    if (globalThis.isSecureContext === false) throw new Error(`tabcast: this page is not a secure context, and a relay needs one on both sides: ${SECURE_CONTEXTS_ONLY}`);
    const relay = openRelay(options.relayUrl, pageUrl);
    const hub = new HubClient(hubUrl, (receive) => openSession(relay.transport, info, relay.locks, receive));
    const ready = hub.start();
    ready.catch(() => relay.dispose());
    const close = hub.close.bind(hub);
    hub.close = async () => {
      await close();
      relay.dispose(); // the iframe goes once the session has said goodbye
    };
    return { hub, ready, where: `relay ${options.relayUrl}` };
  }
  const locks = platformLocks();
  if (!locks) throw new Error(`tabcast: ${SECURE_CONTEXTS_ONLY}`);
  const requested = options.mode ?? 'auto';
  if (!MODES.includes(requested)) throw badRequest(`tabcast: mode must be one of ${MODES.join(', ')}, got ${String(requested)}`, 'value');
  const hasSharedWorker = typeof SharedWorker === 'function';
  if (requested === 'shared-worker' && !hasSharedWorker) throw new Error("tabcast: this browser has no SharedWorker; use mode 'auto' or 'leader-tab'");
  const mode = requested === 'auto' ? (hasSharedWorker ? 'shared-worker' : 'leader-tab') : requested;
  const source = resolveWorkerSource(options.workerUrl, pageUrl);

  const transport: Transport =
    mode === 'shared-worker'
      ? sharedWorkerTransport(source.createSharedWorker ?? (() => new SharedWorker(source.url, { type: 'module', name: WORKER_NAME })), source.url)
      : leaderTabTransport(() => joinElection(locks, source.url));
  const hub = new HubClient(hubUrl, (receive) => openSession(transport, info, locks, receive));
  return { hub, ready: hub.start(), where: `mode ${mode}, worker ${source.url}` };
}

/**
 * Connects this page to the origin's hub (or, with `relayUrl`, to the hub of another origin of the
 * site). Rejects when the page cannot host one, when a relay refuses it (HubError 403 naming the
 * page's origin), or when no hub answers within 15 s.
 */
export async function connect(options: ConnectOptions = {}): Promise<TabcastHub> {
  const { hub, ready, where } = openHub(options);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`tabcast: no hub answered within ${FIRST_ANSWER_TIMEOUT_MS / 1000} s (${where}); is tabcast-worker.js served from that URL?`)), FIRST_ANSWER_TIMEOUT_MS);
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (error) {
    void hub.close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return hub;
}
