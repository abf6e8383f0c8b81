/**
 * `connect()`: picks the door (SharedWorker, or a leader tab where there is none), checks what the
 * page gave, and resolves once the hub has answered.
 */
import { platformLocks } from '../link/locks.js';
import { WORKER_NAME } from '../link/messages.js';
import { HubClient } from './hub-client.js';
import { joinElection } from './leader-election.js';
import { openSession } from './session.js';
import { leaderTabTransport, sharedWorkerTransport, type Transport } from './transports.js';
import type { ConnectOptions, HubMode, TabcastHub } from './types.js';
import { resolveWorkerSource } from './worker-url.js';

/** How long the first connection may take before `connect()` gives up with a reason. */
const FIRST_ANSWER_TIMEOUT_MS = 15_000;
const MODES: readonly HubMode[] = ['auto', 'shared-worker', 'leader-tab'];

/** The hub.url a page's hub answers to: absolute, without query or trailing slash. */
function normalizeHubUrl(raw: string, pageUrl: string): string {
  const url = new URL(raw, pageUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`tabcast: hubUrl must be an http or https URL, got ${url.href}`);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/**
 * Connects this page to the origin's hub. Throws an Error when the page cannot host one (no Web
 * Locks, a worker on another origin) or when no hub answers within 15 s.
 */
export async function connect(options: ConnectOptions = {}): Promise<TabcastHub> {
  const pageUrl = (globalThis as { location?: { href: string } }).location?.href;
  if (!pageUrl) throw new Error('tabcast: connect() needs a page (location is undefined)');
  const locks = platformLocks();
  if (!locks) throw new Error('tabcast needs the Web Locks API (navigator.locks), which browsers offer only in secure contexts: serve the page over https or from localhost');
  const requested = options.mode ?? 'auto';
  if (!MODES.includes(requested)) throw new TypeError(`tabcast: mode must be one of ${MODES.join(', ')}, got ${String(requested)}`);
  const hasSharedWorker = typeof SharedWorker === 'function';
  if (requested === 'shared-worker' && !hasSharedWorker) throw new Error("tabcast: this browser has no SharedWorker; use mode 'auto' or 'leader-tab'");
  const mode = requested === 'auto' ? (hasSharedWorker ? 'shared-worker' : 'leader-tab') : requested;
  const hubUrl = normalizeHubUrl(options.hubUrl ?? '/fhircast/hub', pageUrl);
  const source = resolveWorkerSource(options.workerUrl, pageUrl);

  const transport: Transport =
    mode === 'shared-worker'
      ? sharedWorkerTransport(source.createSharedWorker ?? (() => new SharedWorker(source.url, { type: 'module', name: WORKER_NAME })), source.url)
      : leaderTabTransport(() => joinElection(locks, source.url));
  const hub = new HubClient(hubUrl, (receive) => openSession(transport, { appName: options.appName, hubUrl }, locks, receive));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`tabcast: no hub answered within ${FIRST_ANSWER_TIMEOUT_MS / 1000} s (mode ${mode}, worker ${source.url}); is tabcast-worker.js served from that URL?`)), FIRST_ANSWER_TIMEOUT_MS);
  });
  try {
    await Promise.race([hub.start(), timeout]);
  } catch (error) {
    void hub.close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return hub;
}
