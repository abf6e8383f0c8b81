/**
 * dist/tabcast-relay.js: loaded by a page on the hub's origin (the relay page, e.g. dist/relay.html)
 * that apps on sibling origins of the same site embed as a hidden iframe. It serves only the
 * origins listed in `data-allow-origins` on its own script tag, written by the hub origin's operator.
 * For each allowed page it starts sessions with the origin's SharedWorker (handing the page the
 * worker's port) and holds the page's Web Locks, so the hub sees the page live and die as its own.
 */
import { WORKER_FILE } from '../client/worker-url.js';
import { parseAllowOrigins, startRelay } from './relay-host.js';

const script = typeof document === 'undefined' ? null : (document.currentScript as HTMLScriptElement | null);
const allowOrigins = parseAllowOrigins(script?.dataset.allowOrigins ?? '');
const workerUrl = script?.dataset.workerUrl ?? (script?.src ? new URL(WORKER_FILE, script.src).href : WORKER_FILE);
startRelay({ allowOrigins, workerUrl: new URL(workerUrl, location.href).href });
