/**
 * Checks what a page sends over Comlink before the engine sees it. Any page of the origin can
 * send anything (wrong types, cycles, megabytes), so every check ends in a 400 or 413 that says
 * what to fix, in the spec's terms.
 */
import { badRequest, tooLarge } from '../protocol/outcome.js';
import type { BridgeRequest, TypedSubscribeArgs } from '../link/messages.js';

/** The bridge's dialects (src/bridge/dialects.ts), named here so the host need not load the bridge to check one. */
const BRIDGE_DIALECTS: readonly string[] = ['stu3', 'topic-path', 'stomp', '2019'];

const MAX_ID_LENGTH = 200;
const MAX_EVENTS = 100;

/** A non-empty string of at most `max` characters, or a 400 naming `what`. */
export function text(value: unknown, what: string, max = MAX_ID_LENGTH): string {
  if (typeof value !== 'string' || value === '') throw badRequest(`${what} must be a non-empty string`, 'value');
  if (value.length > max) throw badRequest(`${what} is longer than ${max} characters`, 'value');
  return value;
}

/** An optional string: undefined stays undefined. */
function optionalText(value: unknown, what: string): string | undefined {
  return value === undefined || value === null ? undefined : text(value, what);
}

/** A plain object, or a 400 naming `what`. */
export function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(`${what} must be an object`, 'structure');
  return value as Record<string, unknown>;
}

/** The arguments of a typed subscribe. */
export function subscribeArgs(value: unknown): TypedSubscribeArgs {
  const args = record(value, 'subscribe options');
  const events = args.events;
  if (!Array.isArray(events) || events.length === 0) throw badRequest('events must be a non-empty list of event names (hub.events)', 'required');
  if (events.length > MAX_EVENTS) throw badRequest(`events lists more than ${MAX_EVENTS} names`, 'value');
  const lease = args.leaseSeconds;
  if (lease !== undefined && lease !== null && !(Number.isSafeInteger(lease) && (lease as number) > 0)) {
    throw badRequest(`leaseSeconds (hub.lease_seconds) must be a positive integer, got ${String(lease)}`, 'value');
  }
  return {
    topic: text(args.topic, 'topic (hub.topic)', 256),
    events: events.map((e, i) => text(e, `events[${i}]`)),
    subscriberName: optionalText(args.subscriberName, 'subscriberName (subscriber.name)'),
    leaseSeconds: typeof lease === 'number' ? lease : undefined,
  };
}

/**
 * A context change body, checked for size as the JSON it stands for. Cycles, BigInts and the like
 * cannot be JSON, so they are refused here rather than half-stored later.
 */
export function jsonBody(value: unknown, limitBytes: number): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    throw badRequest('the context change request must be plain JSON data (no cycles, functions or BigInts)', 'structure');
  }
  if (json === undefined) throw badRequest('the context change request must be a JSON object with timestamp, id and event', 'structure');
  if (exceedsUtf8(json, limitBytes)) throw tooLarge(`the context change request is larger than the hub's limit of ${limitBytes} bytes`);
  return JSON.parse(json);
}

/** A context change body sent as JSON text (TEXT_PROTOCOL): checked for size, then parsed once. */
export function jsonText(text: string, limitBytes: number): unknown {
  if (exceedsUtf8(text, limitBytes)) throw tooLarge(`the context change request is larger than the hub's limit of ${limitBytes} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('the context change request is not valid JSON text', 'structure');
  }
}

/** True when the UTF-8 form of `value` is over `limit` bytes; encodes only when the length leaves doubt. */
function exceedsUtf8(value: string, limit: number): boolean {
  if (value.length > limit) return true; // each UTF-16 code unit is at least one UTF-8 byte
  if (value.length * 3 <= limit) return false; // and at most three
  return new TextEncoder().encode(value).byteLength > limit;
}

/** A bridge configuration; the registry checks the rest. */
export function bridgeRequest(value: unknown): BridgeRequest {
  const cfg = record(value, 'bridge configuration');
  const events = cfg.events;
  if (events !== undefined && !(Array.isArray(events) && events.every((e) => typeof e === 'string'))) {
    throw badRequest('bridge events must be a list of event names', 'value');
  }
  const dialect = cfg.dialect;
  if (dialect !== undefined && !BRIDGE_DIALECTS.includes(dialect as string)) throw badRequest(`bridge dialect must be one of ${BRIDGE_DIALECTS.join(', ')}, got ${String(dialect)}`, 'value');
  const getTopic = cfg.getTopic === undefined ? undefined : record(cfg.getTopic, 'bridge getTopic');
  return {
    topic: text(cfg.topic, 'bridge topic (hub.topic)', 256),
    remoteHubUrl: text(cfg.remoteHubUrl, 'bridge remoteHubUrl', 2048),
    remoteTopic: optionalText(cfg.remoteTopic, 'bridge remoteTopic'),
    events: events as string[] | undefined,
    token: cfg.token === undefined ? undefined : text(cfg.token, 'bridge token', 8192),
    dialect: dialect as BridgeRequest['dialect'],
    ...(getTopic ? { getTopic: { username: text(getTopic.username, 'bridge getTopic.username', 256), secret: text(getTopic.secret, 'bridge getTopic.secret', 8192) } } : {}),
  };
}
