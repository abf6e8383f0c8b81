/**
 * tabcast for a plain `<script src=".../tabcast.iife.js">` (dist/tabcast.iife.js, global `Tabcast`).
 * The worker defaults to tabcast-worker.js next to this script; `data-worker-url` overrides it.
 */
import { setDefaultWorkerSource, WORKER_FILE } from './worker-url.js';

// Read while the script runs: document.currentScript is null afterwards.
const script = typeof document === 'undefined' ? null : (document.currentScript as HTMLScriptElement | null);
const declared = script?.dataset.workerUrl;
const scriptSrc = script?.src;
setDefaultWorkerSource(() => {
  if (declared) return { url: declared };
  return scriptSrc ? { url: new URL(WORKER_FILE, scriptSrc).href } : undefined;
});

/** `Tabcast.connect()`: connects the page to the origin's hub. */
export { connect } from './connect.js';
/** `Tabcast.HubError`: what refused calls reject with (status, outcome). */
export { HubError } from '../protocol/outcome.js';
