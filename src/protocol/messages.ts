/**
 * The FHIRcast wire vocabulary as types. Names follow the spec: `hub.topic`, `hub.events`,
 * `context.versionId`. The zod schemas these types are inferred from, and the parsing of a request
 * context change, live in ./change-request.ts: the engine loads that module (and zod with it) apart
 * from its first load (src/hub/change-parser.ts), so nothing here may import it at run time.
 */
import type * as z from 'zod/mini';
import type { ContextChangeRequestSchema, ContextEntrySchema, EventPayloadSchema, ResourceSchema } from './change-request.js';

/** A FHIR resource as relayed: only `resourceType` is required by the hub. */
export type Resource = z.infer<typeof ResourceSchema>;

/** One entry of an event's `context` array: a `key` plus one value member named after its datatype. */
export type ContextEntry = z.infer<typeof ContextEntrySchema>;

/** The `event` object of a notification or request (`hub.topic` is filled in before anyone relays it). */
export type EventPayload = z.infer<typeof EventPayloadSchema> & { 'hub.topic': string };

/** A context change request as parsed; `hub.topic` may still be missing (the hub checks it against the URL). */
export type ContextChangeRequest = z.infer<typeof ContextChangeRequestSchema>;

/** A notification frame as the hub sends it (HUB-NOTIFY-01). */
export interface Notification {
  timestamp: string;
  id: string;
  event: EventPayload;
}

/** The confirmation frame, exactly four members (HUB-SUB-07). */
export interface Confirmation {
  'hub.mode': 'subscribe';
  'hub.topic': string;
  'hub.events': string;
  'hub.lease_seconds': number;
}

/** The denial frame (fhircast-spec.md §3.4). */
export interface Denial {
  'hub.mode': 'denied';
  'hub.topic': string;
  'hub.events': string;
  'hub.reason'?: string;
}

/** Every frame a hub sends over a subscriber's channel. */
export type HubFrame = Notification | Confirmation | Denial;

/** The get-current-context answer (fhircast-spec.md §7). */
export interface GetContextResponse {
  'context.type': string;
  'context.versionId'?: string;
  context: ContextEntry[];
}

/** The `.well-known/fhircast-configuration` document (fhircast-spec.md §2). */
export interface WellKnownConfiguration {
  eventsSupported: string[];
  websocketSupport: true;
  fhircastVersion: string;
  fhirVersion: string;
  getCurrentSupport: boolean;
  capabilities: { supportsGetCurrentContext: boolean; supportsNonCurrentContextUpdates: boolean };
}
