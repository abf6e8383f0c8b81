/**
 * The two relays of a bridge and the memory they share (seen ids, anchor versions, event ids).
 * Both dialect runners (./bridge.ts, ./stomp-bridge.ts) build them the same way.
 */
import { EventIds } from './event-ids.js';
import { OutboundRelay, type OutboundOptions } from './local-to-remote.js';
import { AnchorVersions, SeenIds } from './memory.js';
import { InboundRelay } from './remote-to-local.js';
import type { StatusBoard } from './status-board.js';
import type { LocalHub } from './types.js';

/** What both relays need from their runner. */
export interface RelayPairOptions extends Pick<OutboundOptions, 'running' | 'covers' | 'queue'> {
  hub: Pick<LocalHub, 'publish' | 'getContext'>;
  topic: string;
  /** The remote topic, read whenever it is needed (a GetTopic bridge learns it at each connect). */
  remoteTopic(): string;
  subscriberName: string;
  seenLimit: number;
  now(): number;
  random(): number;
  status: StatusBoard;
  /** The remote echoed an event the outbox sent. */
  echoed(id: string): void;
}

/** The relays, and the remote's anchor versions that the runner's outbox also reads. */
export interface RelayPair {
  inbound: InboundRelay;
  outbound: OutboundRelay;
  remoteVersions: AnchorVersions;
}

/** Builds the inbound (remote → local) and outbound (local → remote) relays over one shared memory. */
export function buildRelayPair(o: RelayPairOptions): RelayPair {
  const seen = new SeenIds(o.seenLimit);
  const localVersions = new AnchorVersions();
  const remoteVersions = new AnchorVersions();
  const ids = new EventIds(o.now, o.random);
  const inbound = new InboundRelay({
    hub: o.hub,
    topic: o.topic,
    get remoteTopic() {
      return o.remoteTopic();
    },
    seen,
    localVersions,
    remoteVersions,
    ids,
    status: o.status,
    echoed: o.echoed,
  });
  const outbound = new OutboundRelay({ hub: o.hub, topic: o.topic, subscriberName: o.subscriberName, seen, localVersions, ids, status: o.status, running: o.running, covers: o.covers, queue: o.queue });
  return { inbound, outbound, remoteVersions };
}
