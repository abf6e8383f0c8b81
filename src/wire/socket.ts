/**
 * The WebSocket side of the wire: wraps a door's socket as an engine channel (frames as JSON
 * text) and guards incoming frames with the size limit (HUB-SEC-08).
 */
import { isHubError } from '../protocol/index.js';
import type { ConnectionHandle, Hub, SubscriberChannel } from '../hub/index.js';
import type { WireSocket } from './types.js';

/** WebSocket close code for a message too big to process (RFC 6455 §7.4.1). */
export const CLOSE_TOO_BIG = 1009;
/** A close reason may hold at most 123 bytes of UTF-8 (RFC 6455 §5.5). */
const MAX_REASON_BYTES = 123;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Connects a socket to a live endpoint: the engine sends the confirmation and catch-up at once.
 * Returns undefined when the endpoint is not live (the door refuses, HUB-SEC-03).
 */
export function attachSocket(hub: Hub, endpointId: string, socket: WireSocket, limitBytes: number): ConnectionHandle | undefined {
  if (!hub.hasEndpoint(endpointId)) return undefined;
  let inner: ConnectionHandle;
  try {
    inner = hub.connect(endpointId, guardedChannel(socket));
  } catch (error) {
    if (isHubError(error)) return undefined;
    throw error;
  }
  return {
    receive(frame) {
      const text = frameText(frame);
      if (text === undefined) return;
      if (exceeds(text, limitBytes)) {
        safely(() => socket.close(CLOSE_TOO_BIG, clampReason(`frame larger than ${limitBytes} bytes`)));
        // The door's own close report may come late or carry another code; the hub closed it for this reason.
        inner.closed(CLOSE_TOO_BIG);
        return;
      }
      inner.receive(text);
    },
    closed(code, options) {
      inner.closed(code, options);
    },
  };
}

/**
 * The engine fans one event out to many channels in one loop: a transport that throws (already
 * closed, reason too long) must not cost the other subscribers their notification.
 */
function guardedChannel(socket: WireSocket): SubscriberChannel {
  return {
    send: (frame) => safely(() => socket.send(JSON.stringify(frame))),
    close: (code, reason) => safely(() => socket.close(code, clampReason(reason))),
  };
}

function safely(action: () => void): void {
  try {
    action();
  } catch {
    // the transport is gone; its close report reaches the engine through `closed`
  }
}

function frameText(frame: unknown): string | undefined {
  if (typeof frame === 'string') return frame;
  if (frame instanceof Uint8Array) return decoder.decode(frame);
  if (frame instanceof ArrayBuffer) return decoder.decode(new Uint8Array(frame));
  return undefined;
}

/** UTF-8 size check without encoding in the common case: a code unit is 1 to 3 bytes. */
function exceeds(text: string, limitBytes: number): boolean {
  if (text.length > limitBytes) return true;
  if (text.length * 3 <= limitBytes) return false;
  return encoder.encode(text).byteLength > limitBytes;
}

/** Cuts a close reason to 123 UTF-8 bytes without splitting a character. */
export function clampReason(reason: string): string {
  if (encoder.encode(reason).byteLength <= MAX_REASON_BYTES) return reason;
  let out = '';
  let bytes = 0;
  for (const ch of reason) {
    const n = encoder.encode(ch).byteLength;
    if (bytes + n > MAX_REASON_BYTES) break;
    out += ch;
    bytes += n;
  }
  return out;
}
