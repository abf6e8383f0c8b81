/**
 * Drop-in mode: the page's global `fetch` and `WebSocket` send what is aimed at one hub URL (itself,
 * below it on a path-segment boundary: its endpoints and its .well-known) to the in-page hub, so an
 * unmodified FHIRcast STU3 app works with no server. Every other URL goes to the originals untouched.
 */
import { badRequest } from '../protocol/outcome.js';
import { requireObject } from './argument-checks.js';
import { openHub } from './connect.js';
import type { HubClient } from './hub-client.js';
import type { InstallOptions, TabcastHub } from './types.js';
import { socketUrl } from './websocket-shim.js';

interface Installed {
  hubUrl: string;
  hub: HubClient;
  /** The exact objects seen at install, put back by uninstall. */
  originalFetch: typeof fetch;
  originalWebSocket: typeof WebSocket;
}

let installed: Installed | undefined;
/** Hubs made by install, by hub URL: installing again after uninstall reuses the one that serves open sockets. */
const hubs = new Map<string, HubClient>();

const pathUnder = (path: string, hubPath: string) => path === hubPath || path === `${hubPath}/` || path.startsWith(`${hubPath}/`);

/** True when `url` is the hub URL or below it on a segment boundary (`/fhircast/hubbub` is not). */
export function isRoutedRequest(url: URL, hubUrl: string): boolean {
  const hub = new URL(hubUrl);
  return url.origin === hub.origin && pathUnder(url.pathname, hub.pathname.replace(/\/+$/, ''));
}

/** True when a WebSocket URL (ws, wss, or http(s) as the constructor allows) is the hub's or below it. */
export function isRoutedSocket(url: URL, hubUrl: string): boolean {
  const hub = socketUrl(hubUrl);
  return url.protocol === hub.protocol && url.host === hub.host && pathUnder(url.pathname, hub.pathname.replace(/\/+$/, ''));
}

function patchedFetch(state: Installed): typeof fetch {
  const { originalFetch, hub, hubUrl } = state;
  return function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    let url: URL | undefined;
    try {
      url = new URL(input instanceof Request ? input.url : String(input), globalThis.location?.href);
    } catch {
      url = undefined; // the original fetch rejects it as it always did
    }
    if (url && isRoutedRequest(url, hubUrl)) return hub.fetch(input, init);
    return originalFetch.call(globalThis, input, init);
  };
}

function patchedWebSocket(state: Installed): typeof WebSocket {
  const { originalWebSocket: Original, hub, hubUrl } = state;
  let inShim = false;
  function DropInWebSocket(this: unknown, url: string | URL, protocols?: string | string[]): WebSocket {
    if (!new.target) throw new TypeError("Failed to construct 'WebSocket': Please use the 'new' operator, this DOM object constructor cannot be called as a function.");
    let parsed: URL | undefined;
    try {
      parsed = socketUrl(url, globalThis.location?.href);
    } catch {
      parsed = undefined; // the original constructor throws its own SyntaxError
    }
    // The shim opens a real socket (through this very global) for a URL that is not an endpoint.
    if (!inShim && parsed && isRoutedSocket(parsed, hubUrl)) {
      inShim = true;
      try {
        return new hub.WebSocket(url, protocols);
      } finally {
        inShim = false;
      }
    }
    return protocols === undefined ? new Original(url) : new Original(url, protocols);
  }
  const constants = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
  for (const [name, value] of Object.entries(constants)) Object.defineProperty(DropInWebSocket, name, { value, enumerable: true });
  Object.defineProperty(DropInWebSocket, 'name', { value: 'WebSocket' });
  DropInWebSocket.prototype = Original.prototype as unknown as object;
  // `socket instanceof WebSocket` holds for real sockets and for the hub's.
  Object.defineProperty(DropInWebSocket, Symbol.hasInstance, { value: (value: unknown) => value instanceof Original || value instanceof hub.WebSocket });
  return DropInWebSocket as unknown as typeof WebSocket;
}

/**
 * Turns drop-in mode on (synchronously): from now on `fetch` and `new WebSocket` aimed at
 * `hubUrl`, below it, its endpoints and its .well-known reach the in-page hub; nothing else
 * changes. Returns that hub (the origin's one hub), whose typed API may be used at once.
 * Throws a HubError 400 for bad options, or an Error when drop-in is on for another hub URL.
 */
export function install(options: InstallOptions): TabcastHub {
  requireObject(options, 'install(options): options');
  if (typeof options.hubUrl !== 'string' || options.hubUrl === '') throw badRequest('install(options): hubUrl must be the hub URL the app uses (a non-empty string)', 'required');
  if (typeof globalThis.fetch !== 'function' || typeof globalThis.WebSocket !== 'function') throw new Error('tabcast: drop-in mode needs a page with fetch and WebSocket');
  const wanted = new URL(options.hubUrl, globalThis.location?.href);
  const hubUrl = wanted.origin + wanted.pathname.replace(/\/+$/, '');
  if (installed) {
    if (installed.hubUrl === hubUrl) return installed.hub;
    throw new Error(`tabcast: drop-in mode is already on for ${installed.hubUrl}; call Tabcast.uninstall() first`);
  }
  let hub = hubs.get(hubUrl);
  if (!hub) {
    const opening = openHub({ ...options, hubUrl });
    opening.ready.catch((error: unknown) => console.error(`tabcast: the drop-in hub for ${hubUrl} did not start (${opening.where}); requests to it will fail`, error));
    hub = opening.hub;
    hubs.set(hubUrl, hub);
  }
  const state: Installed = { hubUrl, hub, originalFetch: globalThis.fetch, originalWebSocket: globalThis.WebSocket };
  globalThis.fetch = patchedFetch(state);
  globalThis.WebSocket = patchedWebSocket(state);
  installed = state;
  return hub;
}

/**
 * Turns drop-in mode off: puts back exactly the `fetch` and `WebSocket` seen at install. Sockets
 * already open stay open (their hub keeps serving them). Does nothing when drop-in is off.
 */
export function uninstall(): void {
  if (!installed) return;
  globalThis.fetch = installed.originalFetch;
  globalThis.WebSocket = installed.originalWebSocket;
  installed = undefined;
}
