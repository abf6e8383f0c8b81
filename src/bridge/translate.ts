/**
 * Turning an event of one hub into a request for the other: the topic is swapped, timestamps and
 * ids are kept, and content-sharing versions are rewritten to the receiving hub's own (each hub
 * assigns its versions). Also the SyncError the bridge publishes about an event it could not send.
 */
import { buildSyncError } from '../hub/sync-errors.js';
import type { EventPayload, Notification } from '../protocol/index.js';
import { anchorOf, type AnchorVersions } from './memory.js';

/** A local event on its way to the remote hub. */
export interface Outgoing {
  id: string;
  timestamp: string;
  event: EventPayload;
  /** Sends that failed for a reason that may pass. */
  attempts: number;
}

/** A context change request for the local hub. */
export interface LocalRequest {
  id: string;
  timestamp?: string;
  event: EventPayload;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Keeps an ISO 8601 timestamp; rewrites another parseable date; drops the rest (the hub then stamps it). */
export function normaliseTimestamp(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (ISO_8601.test(value)) return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** A remote event as a request on the local topic; an update carries the local version of its anchor. */
export function toLocalRequest(event: EventPayload, id: string, timestamp: string | undefined, topic: string, localVersions: AnchorVersions): LocalRequest {
  const out: EventPayload = { ...event, 'hub.topic': topic };
  delete out['context.priorVersionId'];
  const anchor = anchorOf(event);
  if (anchor?.kind === 'update') {
    const version = localVersions.get(anchor.reference);
    if (version) out['context.versionId'] = version; // else the remote's: the local hub answers 409
  } else {
    delete out['context.versionId'];
  }
  const when = normaliseTimestamp(timestamp);
  return when ? { id, timestamp: when, event: out } : { id, event: out };
}

/** A local event as a request for the remote topic; an update carries the remote version of its anchor. */
export function toRemoteRequest(item: Outgoing, topic: string, remoteVersions: AnchorVersions): Notification {
  const event: EventPayload = { ...item.event, 'hub.topic': topic };
  delete event['context.versionId'];
  delete event['context.priorVersionId'];
  const anchor = anchorOf(item.event);
  if (anchor?.kind === 'update') {
    const version = remoteVersions.get(anchor.reference);
    if (version) event['context.versionId'] = version;
  }
  return { timestamp: item.timestamp, id: item.id, event };
}

/** The SyncError (fhircast-spec.md §9.1) telling the local topic that `item` never reached the remote hub. */
export function undeliveredSyncError(item: Outgoing, reason: string, about: { topic: string; subscriberName: string; id: string; timestamp: string }): Notification {
  return buildSyncError(
    { topic: about.topic, eventId: item.id, eventName: String(item.event['hub.event']), subscriberName: about.subscriberName, reason: `could not send it to the remote hub: ${reason}` },
    about.id,
    about.timestamp,
  );
}
