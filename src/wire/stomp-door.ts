/**
 * The STOMP 1.2 channel at `{hub.url}/websocket` (channels.md §1), for every door the wire serves:
 * `tabcast serve`'s ws upgrades and the page's `hub.WebSocket`. It gives each connection a
 * session, a clock and a timer for the heart-beats the session asks for.
 */
import type { ConnectionHandle, Hub } from '../hub/index.js';
import { base64url } from '../hub/ids.js';
import { StompSession } from '../stomp/session.js';
import type { HubLocation } from './endpoints.js';
import { STOMP_SEGMENT } from './protocols.js';
import { clampReason } from './socket.js';
import type { WireSocket } from './types.js';

/** The largest STOMP frame, and WebSocket message, on the STOMP endpoint: 1 MiB. */
export const STOMP_FRAME_LIMIT_BYTES = 1024 * 1024;
/** CONNECTED's `server` header (package.json's version; a unit test keeps them equal). */
export const STOMP_SERVER_NAME = 'tabcast/0.1.0';
/** The sub-protocol a STOMP 1.2 client offers. */
export const STOMP_SUBPROTOCOL = 'v12.stomp';

/** True when `url` (ws(s) or http(s)) names the STOMP endpoint below hub.url. */
export function isStompUrl(location: HubLocation, url: string): boolean {
  try {
    return new URL(url).pathname.replace(/\/+$/, '') === `${location.path}/${STOMP_SEGMENT}`;
  } catch {
    return false;
  }
}

/** Starts a STOMP connection on `socket`; the door feeds its frames and close into the handle. */
export function acceptStomp(hub: Hub, socket: WireSocket, options: { now: () => number; onInternalError?: (error: unknown) => void }): ConnectionHandle {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const session = new StompSession({
    hub,
    socket: {
      send: (text) => socket.send(text),
      close: (code, reason) => {
        clearTimeout(timer);
        socket.close(code, clampReason(reason));
      },
    },
    now: options.now,
    sessionId: base64url(crypto.getRandomValues(new Uint8Array(9))),
    maxFrameBytes: STOMP_FRAME_LIMIT_BYTES,
    serverName: STOMP_SERVER_NAME,
    onInternalError: options.onInternalError,
    onWake(at) {
      clearTimeout(timer);
      timer = at === undefined ? undefined : setTimeout(() => session.tick(), Math.max(0, at - options.now()));
    },
  });
  return {
    receive: (frame) => session.receive(frame),
    closed(code) {
      clearTimeout(timer);
      session.closed(code);
    },
  };
}
