/**
 * Remote → local: publishes the remote hub's events on the local topic and answers each with the
 * local hub's verdict; after each (re)connection, adopts the remote's current context. Echoes of
 * the bridge's own events, duplicates and other topics' events are answered but not applied.
 */
import { isHubError } from '../protocol/index.js';
import type { EventIds } from './event-ids.js';
import { readRemoteContext, type RemoteNotification } from './frames.js';
import { anchorOf, type AnchorVersions, type SeenIds } from './memory.js';
import { reconcileEvent } from './reconcile.js';
import { messageOf, type StatusBoard } from './status-board.js';
import { toLocalRequest } from './translate.js';
import type { LocalHub } from './types.js';

/** What the inbound relay works with. */
export interface InboundOptions {
  hub: Pick<LocalHub, 'publish' | 'getContext'>;
  /** The local topic. */
  topic: string;
  remoteTopic: string;
  seen: SeenIds;
  localVersions: AnchorVersions;
  remoteVersions: AnchorVersions;
  ids: EventIds;
  status: StatusBoard;
  /** Tells the outbox the remote broadcast this id (perhaps the echo of an event sent from here). */
  echoed(id: string): void;
}

/** Relays the remote hub's events into the local hub. */
export class InboundRelay {
  constructor(private readonly o: InboundOptions) {}

  /** Publishes one remote notification locally; `ack` answers it on the connection it came on. */
  relay(n: RemoteNotification, ack: (id: string, status: number) => void): void {
    const o = this.o;
    o.remoteVersions.learn(n.event);
    const id = n.id ?? o.ids.next('remote');
    o.echoed(id);
    const topic = n.event['hub.topic'];
    if (o.seen.get(id) !== undefined || (topic !== undefined && topic !== o.remoteTopic)) {
      // our own echo, a duplicate, or another topic's event: answered, not applied
      if (n.id) ack(n.id, 200);
      return;
    }
    o.seen.add(id, 'remote');
    o.hub.publish(toLocalRequest(n.event, id, n.timestamp, o.topic, o.localVersions)).then(
      () => {
        o.status.count('eventsIn');
        if (n.id) ack(n.id, 200);
      },
      (error: unknown) => {
        const status = isHubError(error) ? error.status : 500;
        o.status.set({ lastError: `the local hub refused remote event ${id} (${n.event['hub.event']}): ${messageOf(error)}` });
        if (n.id) ack(n.id, status);
      },
    );
  }

  /** Makes the local topic show the remote's current context (a get-context answer) when the two differ. */
  async adopt(body: unknown): Promise<void> {
    const o = this.o;
    const remote = readRemoteContext(body);
    const local = readRemoteContext(o.hub.getContext(o.topic));
    const anchor = remote.type && remote.versionId ? anchorOf({ 'hub.topic': '', 'hub.event': `${remote.type}-open`, context: remote.entries }) : undefined;
    if (anchor && remote.versionId) o.remoteVersions.set(anchor.reference, remote.versionId);
    const change = reconcileEvent(remote, local);
    if (!change) return;
    const id = o.ids.next('reconcile');
    o.seen.add(id, 'bridge');
    try {
      await o.hub.publish({ id, timestamp: o.ids.isoNow(), event: { 'hub.topic': o.topic, 'hub.event': change.name, context: change.context } });
      o.status.count('eventsIn');
    } catch (error) {
      o.status.set({ lastError: `the remote hub's current context could not be adopted locally: ${messageOf(error)}` });
    }
  }
}
