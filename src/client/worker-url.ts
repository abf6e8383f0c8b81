/**
 * Where tabcast-worker.js is. By default it sits next to tabcast's own script; an entry point
 * sets that default. It must be on the page's origin: a SharedWorker is same-origin only, and the
 * leader-tab mode imports the same file.
 */

/** The file name of the worker bundle next to tabcast.js and tabcast.iife.js. */
export const WORKER_FILE = 'tabcast-worker.js';

/** How a page starts its hub: a URL, and (dev server only) a SharedWorker made with literal options. */
export interface WorkerSource {
  url: string;
  createSharedWorker?: () => SharedWorker;
}

let defaultSource: (() => WorkerSource | undefined) | undefined;

/** Sets where the worker is when `connect()` is given no `workerUrl` (called by each entry point). */
export function setDefaultWorkerSource(source: () => WorkerSource | undefined): void {
  defaultSource = source;
}

/** The worker to use, checked to be on `pageUrl`'s origin. Throws an Error saying what to do otherwise. */
export function resolveWorkerSource(workerUrl: string | undefined, pageUrl: string): WorkerSource {
  const source = workerUrl !== undefined ? { url: workerUrl } : defaultSource?.();
  if (!source) throw new Error(`tabcast: no worker URL. Pass connect({ workerUrl: '/path/to/${WORKER_FILE}' }) or load tabcast from a <script src> next to ${WORKER_FILE}.`);
  const url = new URL(source.url, pageUrl);
  const page = new URL(pageUrl);
  if (url.origin !== page.origin) {
    throw new Error(
      `tabcast: the worker URL ${url.href} is on another origin than this page (${page.origin}). ` +
        'A SharedWorker can only be started from the page\u2019s own origin (and the leader-tab fallback imports the same file). ' +
        `Serve ${WORKER_FILE} from ${page.origin} and point data-worker-url (or connect({ workerUrl })) at it; ` +
        'to share context with a hub on another origin, use hub.bridge() to a remote hub.',
    );
  }
  return { ...source, url: url.href };
}
