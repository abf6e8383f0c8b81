/** Builds the SyncError notifications the hub generates (fhircast-spec.md §9.1, HUB-SYNC-03/04/05). */
import type { Notification } from '../protocol/index.js';

const SYSTEM = 'https://fhircast.hl7.org/events/syncerror';

/** What a hub-generated SyncError is about. */
export interface SyncErrorCause {
  topic: string;
  /** The failed event's id and name, or undefined when the subscriber had received none. */
  eventId?: string;
  eventName?: string;
  subscriberName: string;
  reason: string;
}

/** Builds one SyncError notification. */
export function buildSyncError(cause: SyncErrorCause, id: string, timestamp: string): Notification {
  const about = cause.eventName ? `${cause.eventName} (event ${cause.eventId})` : 'no event';
  return {
    timestamp,
    id,
    event: {
      'hub.topic': cause.topic,
      'hub.event': 'syncerror',
      context: [
        {
          key: 'operationoutcome',
          resource: {
            resourceType: 'OperationOutcome',
            issue: [
              {
                severity: 'warning',
                code: 'processing',
                diagnostics: `Subscriber ${cause.subscriberName} ${cause.reason}; about ${about}`,
                details: {
                  coding: [
                    { system: `${SYSTEM}/eventid`, code: cause.eventId ?? 'none' },
                    { system: `${SYSTEM}/eventname`, code: cause.eventName ?? 'none' },
                    { system: `${SYSTEM}/subscribername`, code: cause.subscriberName },
                    { system: `${SYSTEM}/subscriber`, code: cause.subscriberName },
                  ],
                },
              },
            ],
          },
        },
      ],
    },
  };
}

/** Words for a failing answer status (fhircast-spec.md §4.4). */
export function reasonForStatus(status: number): string {
  if (status === 409) return `refused the context change (status 409)`;
  if (status >= 500) return `could not process the event: not delivered (status ${status})`;
  return `refused the event (status ${status})`;
}
