/**
 * STOMP 1.2 frames as plain data, and their encoding: header escaping (frames other than CONNECT
 * and CONNECTED), a content-length on every body, the NUL terminator. Parsing is in ./parser.ts.
 */

/** One STOMP frame. Headers keep their order; a repeated header's first value is the one in force (STOMP 1.2). */
export interface StompFrame {
  command: string;
  headers: ReadonlyArray<readonly [string, string]>;
  /** The body as text (the hub only carries JSON); may hold NUL when it has a content-length. */
  body: string;
}

/** A frame that cannot be read, or a rule of STOMP 1.2 broken; the session answers ERROR and closes. */
export class StompProtocolError extends Error {
  override readonly name = 'StompProtocolError';
  constructor(
    message: string,
    /** True when the frame was too large (the door closes with 1009, as for STU3 frames). */
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/** Commands whose headers are never escaped (STOMP 1.2 "Value Encoding"). */
const UNESCAPED_COMMANDS = new Set(['CONNECT', 'CONNECTED']);

const utf8 = new TextEncoder();

/** True when a frame of this command escapes its header names and values. */
export function escapesHeaders(command: string): boolean {
  return !UNESCAPED_COMMANDS.has(command);
}

/** The first value of header `name`, as STOMP 1.2 says repeated headers are read. */
export function headerOf(frame: Pick<StompFrame, 'headers'>, name: string): string | undefined {
  for (const [key, value] of frame.headers) if (key === name) return value;
  return undefined;
}

/** Escapes one header name or value (backslash, CR, LF, colon). */
export function escapeHeader(text: string): string {
  return text.replace(/[\\\r\n:]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\r' ? '\\r' : ch === '\n' ? '\\n' : '\\c'));
}

/** Undoes `escapeHeader`; any other backslash sequence is a protocol error (STOMP 1.2). */
export function unescapeHeader(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\(.?)/gs, (_all, next: string) => {
    switch (next) {
      case '\\':
        return '\\';
      case 'r':
        return '\r';
      case 'n':
        return '\n';
      case 'c':
        return ':';
      default:
        throw new StompProtocolError(`undefined escape sequence \\${next} in a header`);
    }
  });
}

/** Byte length of a body in UTF-8. */
export function byteLength(text: string): number {
  return utf8.encode(text).byteLength;
}

/**
 * Encodes a frame as text. A caller's content-length is replaced by the body's real byte length,
 * so a body may hold NUL. Header names and values must not hold CR, LF or ':' in CONNECT/CONNECTED.
 */
export function encodeFrame(frame: StompFrame): string {
  const escape = escapesHeaders(frame.command);
  const lines = [frame.command];
  for (const [key, value] of frame.headers) {
    if (key === 'content-length') continue;
    lines.push(escape ? `${escapeHeader(key)}:${escapeHeader(value)}` : `${key}:${value}`);
  }
  if (frame.body !== '') lines.push(`content-length:${byteLength(frame.body)}`);
  return `${lines.join('\n')}\n\n${frame.body}\0`;
}

/** The frame a heart-beat is: one end of line. */
export const HEART_BEAT = '\n';
