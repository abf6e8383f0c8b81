/**
 * Coalesces state changes into storage batches: every change made in the same synchronous run,
 * and every change made while the previous batch was being written, lands in one atomic
 * `writeBatch`. Batches are written one after another.
 */
import type { HubStorage } from './ports.js';

/** Produces the value to store for a key at flush time (undefined deletes it). */
export type RecordProducer = () => unknown;

/**
 * When the next batch starts, given a function that starts it. The default starts it at the end of
 * the current synchronous run; a door may start it later (group commit) so that the write's cost
 * does not delay the messages that arrive right after a change, such as a subscriber's answer.
 */
export type WriteScheduler = (startBatch: () => void) => void;

const atEndOfRun: WriteScheduler = (startBatch) => void Promise.resolve().then(startBatch);

export class CoalescingWriter {
  private readonly dirty = new Map<string, RecordProducer>();
  private pending: Promise<void> | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Set while the last write failed; cleared once a write holding every failed key succeeds. */
  failure: { error: unknown } | undefined;

  constructor(
    private readonly storage: HubStorage,
    private readonly onError: (error: unknown) => void,
    private readonly scheduleBatch: WriteScheduler = atEndOfRun,
  ) {}

  /** Marks a key as changed; the promise resolves once its new value is durable. */
  mark(key: string, produce: RecordProducer): Promise<void> {
    this.dirty.set(key, produce);
    if (!this.pending) {
      // One write in flight: changes made while it runs wait and go out together as the next
      // batch, so a burst costs a few transactions rather than one per change.
      this.pending = new Promise<void>((start) => this.scheduleBatch(start))
        .then(() => this.chain)
        .then(() => this.flushDirty());
    }
    return this.pending;
  }

  /** Marks every record of one change; the promise resolves once all of them are durable. */
  markAll(records: ReadonlyMap<string, RecordProducer>): Promise<void> {
    let done: Promise<void> = Promise.resolve();
    for (const [key, produce] of records) done = this.mark(key, produce);
    return done;
  }

  /** Resolves when everything marked so far is durable (or has failed). */
  async idle(): Promise<void> {
    await this.pending?.catch(() => undefined);
    await this.chain;
  }

  private flushDirty(): Promise<void> {
    const producers = new Map(this.dirty);
    this.dirty.clear();
    this.pending = undefined;
    let unstorable: unknown;
    const write = this.chain.then(async () => {
      const batch = new Map<string, unknown>();
      for (const [key, produce] of producers) {
        try {
          batch.set(key, produce());
        } catch (error) {
          // A record that cannot be serialised is dropped for good; it must not wedge the others.
          producers.delete(key);
          unstorable = error;
        }
      }
      await this.storage.writeBatch(batch);
      if (unstorable !== undefined) throw unstorable;
    });
    this.chain = write.then(
      () => {
        this.failure = undefined;
      },
      (error: unknown) => {
        // Keys of a failed batch are written again with the next batch, so storage catches up
        // with what the hub applied once writes succeed again.
        for (const [key, produce] of producers) if (!this.dirty.has(key)) this.dirty.set(key, produce);
        this.failure = { error: error ?? new Error('storage write failed without a reason') };
        try {
          this.onError(this.failure.error);
        } catch {
          // a failing reporter must not wedge the chain that every later write waits on
        }
      },
    );
    return write;
  }
}
