/** Reading what subscribers send back on their channel: acknowledgements, and nothing else. */

/** An answer to a notification: its id (absent in some 2019 clients) and status. */
export interface Answer {
  id: string | undefined;
  status: number;
}

/**
 * Reads a frame from a subscriber as an answer, or undefined for anything that is not one (the
 * hub ignores those and keeps the socket open, HUB-ACK-07).
 */
export function readAnswer(frame: unknown): Answer | undefined {
  let value = frame;
  if (typeof frame === 'string') {
    try {
      value = JSON.parse(frame);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const msg = value as Record<string, unknown>;
  if (msg.event !== undefined) return undefined; // publishing over the socket is not in the spec
  const status = readStatus(msg);
  if (status === undefined) return undefined; // e.g. OHIF's {"hub.channel.endpoint": …}
  // HUB-TOLERANT-06: only an answer that carries no id at all goes to the oldest unanswered
  // notification; an id that is not a string can match nothing (HUB-ACK-05).
  if (msg.id !== undefined && msg.id !== null && typeof msg.id !== 'string') return undefined;
  return { id: typeof msg.id === 'string' ? msg.id : undefined, status };
}

/** Reads an answer's status: number, numeric string, 2019 `statusCode`, or absent with an `id` = 200 (HUB-ACK-03/04, HUB-TOLERANT-05). */
function readStatus(msg: Record<string, unknown>): number | undefined {
  const fromStatus = numeric(msg.status);
  if (fromStatus !== undefined) return fromStatus;
  const fromCode = numeric(msg.statusCode);
  if (fromCode !== undefined) return fromCode;
  if (msg.status === undefined && typeof msg.id === 'string') return 200;
  return undefined;
}

/** A status as an integer or a three-digit string. */
function numeric(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\s*\d{3}\s*$/.test(v)) return Number(v);
  return undefined;
}
