/**
 * Reads STOMP 1.2 frames from a byte stream. A WebSocket message may hold several frames, part of
 * one, or heart-beats (bare end-of-lines), so bytes are buffered until a frame is whole.
 * Every malformed input throws a StompProtocolError; nothing else is thrown.
 */
import { escapesHeaders, StompProtocolError, unescapeHeader, type StompFrame } from './frame.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const COMMAND = /^[A-Z]{1,32}$/;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** What one chunk of input gave. */
export interface ParsedChunk {
  frames: StompFrame[];
  /** Heart-beats (bare EOLs between frames) seen in this chunk. */
  heartBeats: number;
}

/** A streaming parser for the frames of one connection. */
export class StompParser {
  private buffer: Uint8Array = new Uint8Array(0);

  /** `maxFrameBytes` bounds a frame and anything buffered while waiting for its end. */
  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds one chunk (a WebSocket message). Throws StompProtocolError on malformed or oversized input. */
  push(chunk: string | Uint8Array): ParsedChunk {
    const bytes = typeof chunk === 'string' ? utf8.encode(chunk) : chunk;
    // One WebSocket message never carries more than a frame's worth (channels.md §1 "Limits").
    if (bytes.byteLength > this.maxFrameBytes) throw tooLarge(this.maxFrameBytes);
    this.buffer = concat(this.buffer, bytes);
    const out: ParsedChunk = { frames: [], heartBeats: 0 };
    for (;;) {
      out.heartBeats += this.skipEols();
      if (this.buffer.byteLength === 0) break;
      const frame = this.next();
      if (!frame) break;
      out.frames.push(frame);
    }
    if (this.buffer.byteLength > this.maxFrameBytes) throw tooLarge(this.maxFrameBytes);
    return out;
  }

  /** Bytes held for a frame not yet complete. */
  get buffered(): number {
    return this.buffer.byteLength;
  }

  private skipEols(): number {
    let i = 0;
    let count = 0;
    const b = this.buffer;
    while (i < b.byteLength) {
      if (b[i] === LF) {
        i += 1;
        count += 1;
      } else if (b[i] === CR && i + 1 < b.byteLength && b[i + 1] === LF) {
        i += 2;
        count += 1;
      } else break;
    }
    if (i > 0) this.buffer = this.buffer.subarray(i);
    return count;
  }

  /** The next whole frame, removed from the buffer, or undefined when more bytes are needed. */
  private next(): StompFrame | undefined {
    const b = this.buffer;
    const headEnd = findHeadEnd(b);
    if (headEnd === undefined) return undefined;
    const lines = decodeText(b.subarray(0, headEnd.linesEnd), 'frame headers').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    const command = lines[0]!;
    if (!COMMAND.test(command)) throw new StompProtocolError(`not a STOMP frame: the command line ${JSON.stringify(command.slice(0, 40))} is not a command`);
    const escape = escapesHeaders(command);
    const headers: Array<[string, string]> = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new StompProtocolError(`${command}: the header line ${JSON.stringify(line.slice(0, 40))} has no name:value`);
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1);
      headers.push(escape ? [unescapeHeader(name), unescapeHeader(value)] : [name, value]);
    }
    const bodyStart = headEnd.bodyStart;
    const declared = headers.find(([k]) => k === 'content-length')?.[1];
    let bodyEnd: number;
    if (declared !== undefined) {
      if (!/^\d{1,10}$/.test(declared)) throw new StompProtocolError(`${command}: content-length ${JSON.stringify(declared)} is not a byte count`);
      const length = Number(declared);
      if (length > this.maxFrameBytes) throw tooLarge(this.maxFrameBytes);
      if (b.byteLength < bodyStart + length + 1) return undefined;
      bodyEnd = bodyStart + length;
      if (b[bodyEnd] !== NUL) throw new StompProtocolError(`${command}: the body is not followed by NUL where content-length says it ends`);
    } else {
      const nul = b.indexOf(NUL, bodyStart);
      if (nul < 0) return undefined;
      bodyEnd = nul;
    }
    if (bodyEnd + 1 > this.maxFrameBytes) throw tooLarge(this.maxFrameBytes);
    const body = decodeText(b.subarray(bodyStart, bodyEnd), `${command} body`);
    this.buffer = b.subarray(bodyEnd + 1);
    return { command, headers, body };
  }
}

/** Finds the blank line ending the headers: `linesEnd` is where header text stops, `bodyStart` where the body begins. */
function findHeadEnd(b: Uint8Array): { linesEnd: number; bodyStart: number } | undefined {
  let i = b.indexOf(LF);
  while (i >= 0) {
    const next = i + 1;
    if (b[next] === LF) return { linesEnd: i, bodyStart: next + 1 };
    if (b[next] === CR && b[next + 1] === LF) return { linesEnd: i, bodyStart: next + 2 };
    // A NUL before the blank line means a frame with a broken head (STOMP frames cannot have one there).
    const nul = b.indexOf(NUL, next);
    const lf = b.indexOf(LF, next);
    if (nul >= 0 && (lf < 0 || nul < lf)) throw new StompProtocolError('not a STOMP frame: it ends before its headers do');
    i = lf;
  }
  if (b.indexOf(NUL) >= 0) throw new StompProtocolError('not a STOMP frame: it ends before its headers do');
  return undefined;
}

function decodeText(bytes: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new StompProtocolError(`${what} are not valid UTF-8`);
  }
}

function tooLarge(limit: number): StompProtocolError {
  return new StompProtocolError(`frame larger than ${limit} bytes`, true);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b;
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
