/**
 * The relay's work on the hub's origin: the allowlist check on every window message, the checks
 * that this frame reaches the origin's real hub (secure context, unpartitioned storage), and the
 * service of one page over its private port: sessions with the SharedWorker and the page's locks.
 */
import { WORKER_NAME } from '../link/messages.js';
import { RELAY_HELLO, RELAY_PROTOCOL, type PageToRelay, type RelayRefusal, type RelayToPage } from './protocol.js';
import { sameSite } from './same-site.js';

/** What the relay page's operator configured. */
export interface RelayConfig {
  /** Exact serialized origins (scheme://host[:port]) allowed to use this relay. */
  allowOrigins: readonly string[];
  /** The origin's tabcast-worker.js. */
  workerUrl: string;
}

/**
 * The allowlist of `data-allow-origins`: space-separated origins, each serialized as browsers put it in
 * `event.origin` (so `https://A.example.org/` counts as `https://a.example.org`). An entry that is not
 * an origin (a path, `*`, `null`, no scheme) is left out with an error in the console: it never widens the list.
 */
export function parseAllowOrigins(attribute: string): string[] {
  const origins: string[] = [];
  for (const entry of attribute.split(/\s+/).filter(Boolean)) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
      console.error(`tabcast relay: data-allow-origins entry ${JSON.stringify(entry)} is not an origin (scheme://host[:port]); it is ignored`);
      continue;
    }
    origins.push(url.origin);
  }
  return origins;
}

/** Why this frame cannot reach its origin's one hub, or undefined when it can. */
function unreachableReason(pageOrigin: string): RelayRefusal | undefined {
  if (!globalThis.isSecureContext) {
    return { status: 403, reason: `the tabcast relay at ${location.href} is not a secure context: serve it over https (or from localhost), since the hub needs Web Locks` };
  }
  if (typeof SharedWorker !== 'function') return { status: 501, reason: 'the tabcast relay needs SharedWorker, which this browser lacks' };
  // Storage (and so the SharedWorker and Web Locks) is keyed by the top-level site: an embed under
  // another site would start a second, private hub. Chromium lists every ancestor; elsewhere, the parent.
  const ancestors = location.ancestorOrigins ? Array.from(location.ancestorOrigins) : [pageOrigin];
  const foreign = ancestors.find((origin) => !sameSite(origin, location.origin));
  if (foreign !== undefined) {
    return {
      status: 403,
      reason: `the tabcast relay at ${location.origin} is embedded under ${foreign}, another site: the browser partitions its storage there, so it would start a second hub instead of reaching the origin's one. Use hub.bridge() to a shared remote hub across sites`,
    };
  }
  return undefined;
}

/** Serves one page over its private port until the page goes (its frame and locks go with it). */
function serve(port: MessagePort, config: RelayConfig): void {
  const workers = new Map<number, SharedWorker>();
  const releases = new Map<number, () => void>();
  const aborts = new Map<number, AbortController>();
  const send = (message: RelayToPage, transfer: Transferable[] = []) => port.postMessage(message, transfer);

  const handlers: { [T in PageToRelay['t']]: (message: Extract<PageToRelay, { t: T }>) => void } = {
    open({ id }) {
      let worker: SharedWorker;
      try {
        worker = new SharedWorker(config.workerUrl, { type: 'module', name: WORKER_NAME });
      } catch (error) {
        send({ t: 'open-failed', id, reason: `the relay could not start ${config.workerUrl}: ${String(error)}` });
        return;
      }
      workers.set(id, worker); // kept, so the worker object outlives this call
      worker.addEventListener('error', () => send({ t: 'worker-error', id, reason: `the tabcast worker at ${config.workerUrl} did not start: check that the relay's origin serves tabcast-worker.js there` }));
      send({ t: 'opened', id, control: worker.port }, [worker.port]);
    },
    close({ id }) {
      workers.delete(id);
    },
    lock({ id, name }) {
      const abort = new AbortController();
      aborts.set(id, abort);
      navigator.locks
        .request(name, { signal: abort.signal }, () => {
          send({ t: 'granted', id });
          return new Promise<void>((resolve) => releases.set(id, resolve));
        })
        .then(
          () => send({ t: 'lock-done', id }),
          (error: unknown) => send({ t: 'lock-done', id, error: (error as Error)?.name ?? 'Error' }),
        )
        .finally(() => {
          aborts.delete(id);
          releases.delete(id);
        });
    },
    release({ id }) {
      releases.get(id)?.();
    },
    abort({ id }) {
      aborts.get(id)?.abort();
    },
  };
  port.addEventListener('message', (event: MessageEvent<PageToRelay>) => {
    const message = event.data;
    const handle = handlers[message?.t] as ((m: PageToRelay) => void) | undefined;
    if (handle && Number.isSafeInteger(message.id)) handle(message);
  });
  port.start();
}

/** Starts answering pages that embed this relay. */
export function startRelay(config: RelayConfig): void {
  const allowed = new Set(config.allowOrigins);
  window.addEventListener('message', (event: MessageEvent) => {
    // Every window message is checked: only the page's hello, carrying its port, is ever read.
    const hello = event.data as { kind?: unknown; protocol?: unknown } | null;
    const port = event.ports[0];
    if (!port || typeof hello !== 'object' || hello === null || hello.kind !== RELAY_HELLO) return;
    const refuse = (refusal: RelayRefusal) => {
      port.postMessage({ t: 'refused', refusal } satisfies RelayToPage);
      port.close();
    };
    if (!allowed.has(event.origin)) {
      refuse({ status: 403, reason: `the origin ${event.origin} is not allowed by the tabcast relay at ${location.origin}${location.pathname}: its operator lists the allowed origins in data-allow-origins` });
      return;
    }
    if (hello.protocol !== RELAY_PROTOCOL) {
      refuse({ status: 400, reason: `this tabcast relay speaks relay protocol ${RELAY_PROTOCOL}, the page ${String(hello.protocol)}: load tabcast.iife.js/tabcast.js and tabcast-relay.js of one release` });
      return;
    }
    const unreachable = unreachableReason(event.origin);
    if (unreachable) {
      refuse(unreachable);
      return;
    }
    port.postMessage({ t: 'welcome', protocol: RELAY_PROTOCOL, origin: location.origin } satisfies RelayToPage);
    serve(port, config);
  });
}
