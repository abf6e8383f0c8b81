/**
 * STOMP destinations of the Philips proposal: `/hub/fhircast/<topic>/<event>` (its text) and
 * `/app/fhircast/<topic>/<event>` (its Java hub), both accepted; MESSAGE frames use `/app/…`.
 */
import { badRequest, parseEventFilter, resolveEventName, validateTopic } from '../protocol/index.js';

/** A destination read from SUBSCRIBE or SEND. */
export interface Destination {
  topic: string;
  /** The event segment, percent-decoded: an event name or `*`. */
  event: string;
}

const PATTERN = /^\/(hub|app)\/fhircast\/([^/]+)\/([^/]+)$/;

/** Reads a destination; throws a 400 HubError naming what is wrong. */
export function parseDestination(raw: string | undefined): Destination {
  if (raw === undefined || raw === '') throw badRequest('the frame has no destination header', 'required');
  const match = PATTERN.exec(raw);
  if (!match) throw badRequest(`destination ${JSON.stringify(raw.slice(0, 120))} is not /hub/fhircast/<topic>/<event> or /app/fhircast/<topic>/<event>`, 'value');
  const topic = validateTopic(decode(match[2]!), 'the topic in the destination');
  return { topic, event: decode(match[3]!).trim() };
}

/** A destination to SUBSCRIBE to: its event must be one `hub.events` accepts (a name, legacy name, or `*`). */
export function subscribeDestination(raw: string | undefined): Destination {
  const dest = parseDestination(raw);
  if (!parseEventFilter(dest.event)) throw badRequest(`the destination names an event the hub does not know: ${JSON.stringify(dest.event)}`, 'value');
  return dest;
}

/** A destination to SEND to: its event must be one event the hub can publish (no wildcard). */
export function sendDestination(raw: string | undefined): Destination & { canonical: string } {
  const dest = parseDestination(raw);
  const resolved = resolveEventName(dest.event);
  if (!resolved) throw badRequest(`a SEND destination must name one event the hub knows, got ${JSON.stringify(dest.event)}`, 'value');
  return { ...dest, canonical: resolved.name };
}

/** The destination of a MESSAGE: `/app/fhircast/<topic>/<event>`, each percent-encoded as a path segment. */
export function messageDestination(topic: string, event: string): string {
  return `/app/fhircast/${encodeURIComponent(topic)}/${encodeURIComponent(event)}`;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest('the destination is not validly percent-encoded', 'value');
  }
}
