/**
 * tabcast for a plain `<script src=".../tabcast.iife.js">` (dist/tabcast.iife.js, global `Tabcast`).
 * The worker defaults to tabcast-worker.js next to this script; `data-worker-url` overrides it.
 * With `data-hub-url` it turns drop-in mode on while it runs, before any later script of the page.
 */
import { install } from './drop-in.js';
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
/** `Tabcast.install({ hubUrl, relayUrl? })` / `Tabcast.uninstall()`: drop-in mode for unmodified STU3 apps. */
export { install, uninstall } from './drop-in.js';

// Drop-in mode from the tag itself: synchronous, so the app's own scripts after it see the patched globals.
const dropInHubUrl = script?.dataset.hubUrl;
if (dropInHubUrl) {
  try {
    install({ hubUrl: dropInHubUrl, relayUrl: script?.dataset.relayUrl || undefined, appName: script?.dataset.appName || undefined });
  } catch (error) {
    // Reported, not thrown: a throw here would leave the page without the Tabcast global as well.
    console.error(`tabcast: drop-in mode for ${dropInHubUrl} could not start`, error);
  }
}
