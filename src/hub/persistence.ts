/**
 * Coalesces state changes into one storage batch per task: every change made in the same
 * synchronous run lands in one atomic `writeBatch`. Batches are written one after another.
 */
import type { HubStorage } from './ports.js';

/** Produces the value to store for a key at flush time (undefined deletes it). */
export type RecordProducer = () => unknown;

export class CoalescingWriter {
  private readonly dirty = new Map<string, RecordProducer>();
  private pending: Promise<void> | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** The last write error, cleared by the next successful write. */
  lastError: unknown;

  constructor(
    private readonly storage: HubStorage,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Marks a key as changed; the promise resolves once its new value is durable. */
  mark(key: string, produce: RecordProducer): Promise<void> {
    this.dirty.set(key, produce);
    if (!this.pending) {
      this.pending = Promise.resolve().then(() => this.flushDirty());
    }
    return this.pending;
  }

  /** Resolves when everything marked so far is durable (or has failed). */
  async idle(): Promise<void> {
    await this.pending?.catch(() => undefined);
    await this.chain;
  }

  private flushDirty(): Promise<void> {
    const batch = new Map<string, unknown>();
    for (const [key, produce] of this.dirty) batch.set(key, produce());
    this.dirty.clear();
    this.pending = undefined;
    const write = this.chain.then(() => this.storage.writeBatch(batch));
    this.chain = write.then(
      () => {
        this.lastError = undefined;
      },
      (error: unknown) => {
        this.lastError = error;
        this.onError(error);
      },
    );
    return write;
  }
}
