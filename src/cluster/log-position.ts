/** Positions in the Redis change log (stream ids `ms-seq`), compared as numbers. */

/** A stream id as its two numbers. */
export interface LogPosition {
  ms: number;
  seq: number;
}

/** The position before every entry. */
export const LOG_START: LogPosition = { ms: 0, seq: 0 };

/** Parses `ms-seq`; throws on anything else. */
export function parsePosition(id: string): LogPosition {
  const m = /^(\d+)-(\d+)$/.exec(id);
  if (!m) throw new Error(`not a Redis stream id: ${JSON.stringify(id)}`);
  return { ms: Number(m[1]), seq: Number(m[2]) };
}

/** Formats a position as a stream id. */
export function formatPosition(p: LogPosition): string {
  return `${p.ms}-${p.seq}`;
}

/** Negative when a is before b, 0 when equal, positive after. */
export function comparePositions(a: LogPosition, b: LogPosition): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.seq - b.seq;
}
