/**
 * The WebSocket side of the wire: wraps a door's socket as an engine channel (frames as JSON
 * text) and guards incoming frames with the size limit (HUB-SEC-08).
 */
import { isHubError } from '../protocol/index.js';
import type { ConnectionHandle, Hub, SubscriberChannel } from '../hub/index.js';
import type { WireSocket } from './types.js';

/** WebSocket close code for a message too big to process (RFC 6455 §7.4.1). */
export const CLOSE_TOO_BIG = 1009;
/**
 * Largest frame a subscriber may send on an STU3 endpoint (HUB-SEC-13): its frames are answers of
 * under 200 bytes, and parsing megabyte frames as JSON slowed every other topic (issue #19 L3).
 */
export const ANSWER_FRAME_LIMIT_BYTES = 64 * 1024;
/** A close reason may hold at most 123 bytes of UTF-8 (RFC 6455 §5.5). */
const MAX_REASON_BYTES = 123;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Connects a socket to a live endpoint: the engine sends the confirmation and catch-up at once.
 * A frame over ANSWER_FRAME_LIMIT_BYTES (or the body limit, if smaller) closes it with 1009 unparsed.
 * Returns undefined when the endpoint is not live (the door refuses, HUB-SEC-03).
 */
export function attachSocket(hub: Hub, endpointId: string, socket: WireSocket, bodyLimitBytes: number): ConnectionHandle | undefined {
  if (!hub.hasEndpoint(endpointId)) return undefined;
  const limitBytes = Math.min(bodyLimitBytes, ANSWER_FRAME_LIMIT_BYTES);
  let inner: ConnectionHandle;
  try {
    inner = hub.connect(endpointId, guardedChannel(socket));
  } catch (error) {
    if (isHubError(error)) return undefined;
    throw error;
  }
  return {
    receive(frame) {
      const size = byteSize(frame);
      const text = size !== undefined && size > limitBytes ? undefined : frameText(frame);
      if (size === undefined && text === undefined) return;
      if (text === undefined || exceeds(text, limitBytes)) {
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
    send: (frame) => safely(() => socket.send(JSON.stringify(frame), expectsAnswer(frame))),
    close: (code, reason) => safely(() => socket.close(code, clampReason(reason))),
  };
}

/** A notification other than a heartbeat: the subscriber owes an answer to it. */
function expectsAnswer(frame: object): boolean {
  const event = (frame as { event?: { 'hub.event'?: unknown } }).event;
  return event !== undefined && event['hub.event'] !== 'heartbeat';
}

function safely(action: () => void): void {
  try {
    action();
  } catch {
    // the transport is gone; its close report reaches the engine through `closed`
  }
}

/** Bytes of a binary frame (known without decoding it), undefined for text or other values. */
function byteSize(frame: unknown): number | undefined {
  return frame instanceof Uint8Array || frame instanceof ArrayBuffer ? frame.byteLength : undefined;
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
