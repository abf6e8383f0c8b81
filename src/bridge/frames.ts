/**
 * Reading what a remote hub sends: WebSocket frames and get-context answers, in every shape the
 * field uses (fhircast-spec.md §3.3, §3.4, §4.1, §7, §9.2, §13). Pure functions, no I/O.
 */
import { entryIdentity, type ContextEntry, type EventPayload } from '../protocol/index.js';
import type { ConfirmationFacts } from './dialects.js';

/** One frame from the remote hub, classified. */
export type RemoteFrame =
  | ({ kind: 'confirmation' } & ConfirmationFacts)
  | { kind: 'denial'; reason?: string }
  | { kind: 'heartbeat'; periodMs?: number }
  | { kind: 'notification'; notification: RemoteNotification }
  | { kind: 'ignored' };

/** A notification as received; `id` may be missing on a sloppy hub. */
export interface RemoteNotification {
  id?: string;
  timestamp?: string;
  event: EventPayload;
}

/** Largest remote frame relayed into the local hub, as the hub's own body limit (1 MiB). */
export const MAX_REMOTE_FRAME_CHARS = 1024 * 1024;

/** The id of a frame too large to parse, read from its start, so that the refusal can be acked. */
export function oversizedFrameId(text: string): string | undefined {
  return /"id"\s*:\s*"([^"]{1,256})"/.exec(text.slice(0, 4096))?.[1];
}

/** The text of a frame, or undefined for anything that is not text (binary frames are not FHIRcast). */
export function frameText(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(data);
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function positiveNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Classifies one frame. Garbage (not JSON, not an object, unknown shape) is `ignored`. */
export function readFrame(text: string): RemoteFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'ignored' };
  }
  if (!isObject(value)) return { kind: 'ignored' };
  // The 2019 prototype wraps notifications as {header, body}.
  const msg = isObject(value.body) && isObject(value.body.event) ? value.body : value;
  const mode = typeof msg['hub.mode'] === 'string' ? msg['hub.mode'].toLowerCase() : undefined;
  if (mode === 'subscribe' && msg.event === undefined) {
    return {
      kind: 'confirmation',
      topic: typeof msg['hub.topic'] === 'string' ? msg['hub.topic'] : undefined,
      events: typeof msg['hub.events'] === 'string' ? msg['hub.events'] : undefined,
      leaseSeconds: positiveNumber(msg['hub.lease_seconds']),
    };
  }
  if (mode === 'denied') return { kind: 'denial', reason: typeof msg['hub.reason'] === 'string' ? msg['hub.reason'] : undefined };
  const event = msg.event;
  if (!isObject(event) || typeof event['hub.event'] !== 'string' || event['hub.event'].trim() === '') return { kind: 'ignored' };
  if (event['hub.event'].trim().toLowerCase() === 'heartbeat') {
    const context = Array.isArray(event.context) ? (event.context as unknown[]) : [];
    const period = context.find((e): e is Record<string, unknown> => isObject(e) && e.key === 'period');
    const seconds = period ? positiveNumber(period.decimal ?? period.valueDecimal) : undefined;
    return { kind: 'heartbeat', periodMs: seconds === undefined ? undefined : seconds * 1000 };
  }
  if (event.context !== undefined && !Array.isArray(event.context)) return { kind: 'ignored' };
  const payload = { ...event, context: (event.context ?? []) as ContextEntry[] } as EventPayload;
  return {
    kind: 'notification',
    notification: {
      id: typeof msg.id === 'string' && msg.id !== '' ? msg.id : undefined,
      timestamp: typeof msg.timestamp === 'string' ? msg.timestamp : undefined,
      event: payload,
    },
  };
}

/** The current context of a topic, whichever shape the remote answered with. */
export interface RemoteContext {
  /** Anchor resource type, `''` when there is no current context. */
  type: string;
  versionId?: string;
  /** The open's context entries, without the content-sharing `content` entry. */
  entries: ContextEntry[];
}

/** Anchor keys, most specific first: the anchor of a bare context array is the first one present. */
const ANCHOR_PRIORITY = ['report', 'study', 'encounter', 'patient'];

/** Works out the anchor type of a bare context array. */
export function inferAnchorType(entries: readonly ContextEntry[]): string {
  for (const key of ANCHOR_PRIORITY) {
    const identity = entryIdentity(entries.find((e) => e.key === key));
    if (identity) return identity.type;
  }
  const self = entries.find((e) => typeof e.resource?.resourceType === 'string' && e.key === e.resource.resourceType.toLowerCase());
  return self?.resource?.resourceType ?? '';
}

/**
 * Reads a get-context answer: the STU3 object, a bare context array (Medplum STU2, sandbox),
 * `{}` (sandbox after a close), or the 2019 event-shaped answer.
 */
export function readRemoteContext(body: unknown): RemoteContext {
  let entries: unknown[] = [];
  let type: string | undefined;
  let versionId: string | undefined;
  if (Array.isArray(body)) {
    entries = body;
  } else if (isObject(body)) {
    const source = isObject(body.event) && Array.isArray(body.event.context) ? body.event : body;
    if (Array.isArray(source.context)) entries = source.context;
    if (typeof body['context.type'] === 'string') type = body['context.type'];
    if (typeof body['context.versionId'] === 'string') versionId = body['context.versionId'];
  }
  const clean = entries.filter((e): e is ContextEntry => isObject(e) && typeof e.key === 'string' && e.key !== 'content');
  if (clean.length === 0) return { type: '', entries: [] };
  return { type: type || inferAnchorType(clean), versionId, entries: clean };
}
