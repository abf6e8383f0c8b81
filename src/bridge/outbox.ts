/**
 * The queue of local events bound for the remote hub: sent one at a time, in order, while a
 * confirmed connection exists; kept (up to a limit) while none does. What to do about failures
 * is the bridge's call, through the host interface.
 */
import type { AnchorVersions } from './memory.js';
import { anchorOf } from './memory.js';
import { RemoteError } from './remote-http.js';
import { toRemoteRequest, type Outgoing } from './translate.js';
import type { Timers } from './types.js';

/** What the outbox needs from the bridge. `C` is the bridge's connection type. */
export interface OutboxHost<C> {
  /** The confirmed connection to send on, or undefined while there is none. */
  connection(): C | undefined;
  /** POSTs one request to the remote hub; rejects with a RemoteError. */
  post(request: unknown): Promise<void>;
  /** The remote accepted the event; `rttMs` is the POST's round trip. */
  delivered(item: Outgoing, rttMs: number): void;
  /** The event will never be sent. */
  undelivered(item: Outgoing, reason: string): void;
  /** The remote answered 401. */
  unauthorized(message: string): void;
  /** A failure that may pass happened on `connection`: drop it and reconnect. */
  broken(connection: C, message: string): void;
}

export interface OutboxOptions {
  limit: number;
  /** Sends per event before it counts as undeliverable. */
  attempts: number;
  remoteTopic: string;
  remoteVersions: AnchorVersions;
  timers: Timers;
  now: () => number;
  /** How long an update waits for the echo of the anchor's previous open or update. */
  echoWaitMs: number;
}

export class Outbox<C> {
  private readonly items: Outgoing[] = [];
  private inFlight: Outgoing | undefined;
  private running = false;
  private done: Promise<void> = Promise.resolve();
  private readonly echoWaits = new Map<string, () => void>();
  private readonly anchorEchoes = new Map<string, Promise<void>>();

  constructor(
    private readonly host: OutboxHost<C>,
    private readonly options: OutboxOptions,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** Queues an event; when the queue is full the oldest waiting one is dropped and reported. */
  add(item: Outgoing): void {
    if (this.items.length >= this.options.limit) {
      const [dropped] = this.items.splice(this.items[0] === this.inFlight ? 1 : 0, 1);
      if (dropped) this.host.undelivered(dropped, `the bridge's queue of ${this.options.limit} events overflowed while the remote hub was unreachable`);
    }
    this.items.push(item);
    void this.flush();
  }

  clear(): void {
    this.items.length = 0;
  }

  /** Sends what is queued; resolves when the queue is empty or sending had to stop. */
  flush(): Promise<void> {
    if (!this.running) {
      this.running = true;
      this.done = this.pump();
    }
    return this.done;
  }

  /** The remote broadcast an event with this id (perhaps the echo of one sent from here). */
  echoed(id: string): void {
    this.echoWaits.get(id)?.();
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const connection = this.host.connection();
        const item = this.items[0];
        if (!item || connection === undefined) return;
        this.inFlight = item;
        const request = await this.request(item);
        const release = this.expectEcho(item); // the echo may come before the POST's answer
        const started = this.options.now();
        let failure: unknown;
        try {
          await this.host.post(request);
        } catch (error) {
          failure = error ?? new Error('unknown failure');
          release();
        }
        this.inFlight = undefined;
        if (failure === undefined) {
          this.remove(item);
          this.host.delivered(item, this.options.now() - started);
          continue;
        }
        const message = failure instanceof Error ? failure.message : String(failure);
        if (failure instanceof RemoteError && failure.status === 401) return this.host.unauthorized(message);
        if (failure instanceof RemoteError && !failure.transient) {
          this.remove(item);
          this.host.undelivered(item, `the remote hub refused it: ${message}`);
          continue;
        }
        if (++item.attempts >= this.options.attempts) {
          this.remove(item);
          this.host.undelivered(item, `${item.attempts} attempts failed, the last with: ${message}`);
          continue;
        }
        if (connection !== this.host.connection()) continue; // that connection is gone already: retry on the current one
        this.host.broken(connection, `sending event ${item.id} failed: ${message}`);
        return;
      }
    } finally {
      this.running = false;
    }
  }

  private remove(item: Outgoing): void {
    const i = this.items.indexOf(item);
    if (i >= 0) this.items.splice(i, 1);
  }

  /** The remote request; an update first waits (briefly) for the echo carrying the remote's version. */
  private async request(item: Outgoing): Promise<unknown> {
    const anchor = anchorOf(item.event);
    const pending = anchor?.kind === 'update' ? this.anchorEchoes.get(anchor.reference) : undefined;
    if (pending) {
      let timer: unknown;
      await Promise.race([pending, new Promise<void>((resolve) => (timer = this.options.timers.set(resolve, this.options.echoWaitMs)))]);
      this.options.timers.clear(timer);
    }
    return toRemoteRequest(item, this.options.remoteTopic, this.options.remoteVersions);
  }

  /**
   * Remembers that an open or update of an anchor is on its way, so that a later update of the
   * same anchor waits for its echo. Returns the function that releases the waiters.
   */
  private expectEcho(item: Outgoing): () => void {
    const anchor = anchorOf(item.event);
    if (!anchor || (anchor.kind !== 'open' && anchor.kind !== 'update')) return () => undefined;
    if (this.echoWaits.size > 100) for (const release of this.echoWaits.values()) release();
    const waiter = { release: () => undefined as void };
    const echoed = new Promise<void>((resolve) => (waiter.release = resolve));
    this.echoWaits.set(item.id, waiter.release);
    this.anchorEchoes.set(anchor.reference, echoed);
    void echoed.then(() => {
      this.echoWaits.delete(item.id);
      if (this.anchorEchoes.get(anchor.reference) === echoed) this.anchorEchoes.delete(anchor.reference);
    });
    return waiter.release;
  }
}
