/** The shapes the engine's callers see: its options, answers, connection handles and snapshot. */
import type { HubBounds } from './bounds.js';
import type { Clock, CryptoSource, HubStorage } from './ports.js';
import type { WriteScheduler } from './persistence.js';
import type { MalformedRecord } from './records.js';

/** Engine settings; every one has a default except the injected ports. */
export interface HubOptions {
  clock: Clock;
  crypto: CryptoSource;
  storage: HubStorage;
  /** Ack timeout in ms (HUB-SYNC-06); 0 turns it off (HUB-TOLERANT-08). Default 10 000. */
  ackTimeoutMs?: number;
  /** Heartbeat period in ms (HUB-HEART-01); 0 turns heartbeats off. Default 10 000. */
  heartbeatMs?: number;
  /** Lease granted when none is asked (HUB-SUB-09). Default 7200 s. */
  defaultLeaseSeconds?: number;
  /** Largest lease granted. Default 86 400 s. */
  maxLeaseSeconds?: number;
  /** Called with the earliest deadline whenever it changes; the door then calls `tick()` at that time. */
  onWake?: (at: number | undefined) => void;
  /**
   * When a batch of changed records starts to be written (see `WriteScheduler`). Default: at the end
   * of the synchronous run that made the change. The browser worker delays it by a few ms (group commit).
   */
  scheduleWrite?: WriteScheduler;
  /** Called when a storage write fails; the hub keeps serving from memory. */
  onStorageError?: (error: unknown) => void;
  /** Bounds on state that grows with use (HUB-BOUND); each missing one takes its default (`DEFAULT_BOUNDS`). */
  bounds?: Partial<HubBounds>;
  /**
   * What a stored record that fails validation does at start: `drop` (default) leaves it out and
   * lists it in `inspect().storage.malformed`; `refuse` makes `Hub.create` reject with a message
   * naming the keys (tabcast serve, HUB-PERSIST-06).
   */
  malformedRecords?: 'drop' | 'refuse';
  /**
   * When `Hub.create` resolves with respect to the context-change parser (zod, src/hub/change-parser.ts):
   * `await` (default) once it has loaded; `background` without waiting for it (the browser worker, whose
   * first load leaves it out): a change that comes before it waits for it, and later changes queue behind.
   */
  changeParser?: 'await' | 'background';
}

/** The answer to an accepted context change. */
export interface PublishResult {
  status: 202;
  id: string;
}

/** The door a subscription came through, shown by `inspect()` (the engine treats them all alike). */
export type ChannelLabel = 'stu3' | 'stomp' | 'websub' | '2019' | 'typed' | 'bridge';

/** What a subscribe needs, whichever door it came through. */
export interface SubscribeInput {
  /** Which door it came through; default `stu3`. */
  channel?: ChannelLabel;
  topic: string;
  events: readonly string[];
  leaseSeconds?: number;
  /** An existing endpoint of the same topic: replace its events (re-subscribe). */
  endpoint?: string;
  subscriberName?: string;
  /**
   * For doors that know by other means whether the subscriber lives (the browser host watches each
   * page's Web Lock and ends its subscriptions when the page goes): the lease then restarts when it
   * runs out, even after the machine slept through it, instead of ending the subscription.
   */
  autoRenew?: boolean;
}

/** A subscription as the answer to subscribe states it. */
export interface SubscribeResult {
  endpoint: string;
  topic: string;
  events: string;
  leaseSeconds: number;
}

/** The hub side of one connected channel: the door feeds frames and the close into it. */
export interface ConnectionHandle {
  /** A frame from the subscriber: JSON text or an already parsed value. */
  receive(frame: unknown): void;
  /** The transport closed with this code. `endSubscription` also drops the subscription (dead tab). */
  closed(code: number, options?: { endSubscription?: boolean }): void;
}

/** A read-only view of the hub for consoles and tests. */
export interface HubSnapshot {
  /** Health of storage; `malformed` lists stored records left out at start (HUB-SEC-15). */
  storage: { ok: boolean; lastError?: string; malformed?: MalformedRecord[] };
  /** The bounds in force (HUB-BOUND-07). */
  bounds: HubBounds;
  /** What the bounds made the hub forget since it started (HUB-BOUND-07). */
  forgotten: { contexts: number; topics: number; subscriptions: number };
  /** Cluster mode: topics held over all instances, the count the topic bound applies to, as of the last health check (every 0.5 s). `topics` lists this replica's. */
  clusterTopics?: number;
  topics: Array<{
    topic: string;
    current?: string;
    subscribers: Array<{ name: string; channel: ChannelLabel; events: string; leaseRemainingSeconds: number; connected: boolean; lastAck?: { at: number; status: number }; pending: number }>;
    open: Array<{ type: string; id: string; versionId: string; event: string; contentCount: number; current: boolean }>;
  }>;
}
