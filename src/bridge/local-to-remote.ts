/**
 * Local → remote: hands the local topic's events to the outbox (./outbox.ts sends them), skipping
 * what came from the remote or from the bridge itself, and tells the local topic with a SyncError
 * (fhircast-spec.md §9.1) when an event could not be delivered.
 */
import type { EventPayload, Notification } from '../protocol/index.js';
import type { EventIds } from './event-ids.js';
import type { AnchorVersions, SeenIds } from './memory.js';
import type { StatusBoard } from './status-board.js';
import { undeliveredSyncError, type Outgoing } from './translate.js';
import type { LocalHub } from './types.js';

/** What the outbound relay works with. */
export interface OutboundOptions {
  hub: Pick<LocalHub, 'publish'>;
  /** The local topic. */
  topic: string;
  subscriberName: string;
  seen: SeenIds;
  localVersions: AnchorVersions;
  ids: EventIds;
  status: StatusBoard;
  /** False once the bridge stopped: nothing new is queued then. */
  running(): boolean;
  /** False for an event name the remote does not take. */
  covers(eventName: string): boolean;
  /** Queues an event for the remote hub. */
  queue(item: Outgoing): void;
}

/** Relays the local topic's events to the remote hub. */
export class OutboundRelay {
  constructor(private readonly o: OutboundOptions) {}

  /** Takes one notification from the local topic; `catchUp` marks the replay right after subscribing. */
  relay(n: Notification, catchUp: boolean): void {
    const o = this.o;
    o.localVersions.learn(n.event);
    if (o.seen.get(n.id) !== undefined) return; // came from the remote (or from the bridge itself)
    o.seen.add(n.id, 'local');
    if (catchUp || !o.running()) return; // the local replay after subscribing is not news for the remote
    if (!o.covers(String(n.event['hub.event']))) return;
    o.queue({ id: n.id, timestamp: n.timestamp, event: JSON.parse(JSON.stringify(n.event)) as EventPayload, attempts: 0 });
  }

  /** Tells the local topic that a local event did not reach the remote hub. */
  undelivered(item: Outgoing, reason: string): void {
    const o = this.o;
    const id = o.ids.next('syncerror');
    o.seen.add(id, 'bridge');
    const n = undeliveredSyncError(item, reason, { topic: o.topic, subscriberName: o.subscriberName, id, timestamp: o.ids.isoNow() });
    o.status.set({ lastError: `event ${item.id} (${String(item.event['hub.event'])}) was not sent to the remote hub: ${reason}` });
    void o.hub.publish({ id: n.id, timestamp: n.timestamp, event: n.event }).catch(() => undefined);
  }
}
