/**
 * Web Locks for node tests (Node 20 has no navigator.locks): exclusive locks by name, granted in
 * request order. Each `LockContext` stands for one page or worker; `die()` frees what it held and
 * forgets what it waited for, as a closed tab does.
 */
import type { LockManagerLike } from '../../../../src/link/locks.js';

interface Waiter {
  context: LockContext;
  grant: () => void;
}

/** The locks of one origin. */
export class FakeLocks {
  private readonly holders = new Map<string, LockContext>();
  private readonly queues = new Map<string, Waiter[]>();

  /** A new page or worker of this origin. */
  context(): LockContext {
    return new LockContext(this);
  }

  /** Names of held locks (like navigator.locks.query().held). */
  held(): string[] {
    return [...this.holders.keys()];
  }

  /** @internal */
  enqueue(name: string, waiter: Waiter): void {
    const queue = this.queues.get(name) ?? [];
    queue.push(waiter);
    this.queues.set(name, queue);
    this.next(name);
  }

  /** @internal */
  release(name: string, context: LockContext): void {
    if (this.holders.get(name) !== context) return;
    this.holders.delete(name);
    this.next(name);
  }

  /** @internal */
  unqueue(name: string, waiter: Waiter): void {
    this.queues.set(name, (this.queues.get(name) ?? []).filter((w) => w !== waiter));
  }

  /** @internal */
  drop(context: LockContext): void {
    for (const [name, queue] of this.queues) this.queues.set(name, queue.filter((w) => w.context !== context));
    for (const [name, holder] of this.holders) if (holder === context) this.release(name, context);
  }

  private next(name: string): void {
    if (this.holders.has(name)) return;
    const waiter = this.queues.get(name)?.shift();
    if (!waiter) return;
    this.holders.set(name, waiter.context);
    waiter.grant();
  }
}

/** One context's lock manager. */
export class LockContext implements LockManagerLike {
  private dead = false;

  constructor(private readonly locks: FakeLocks) {}

  request(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        context: this,
        grant: () => {
          options.signal?.removeEventListener('abort', onAbort);
          Promise.resolve()
            .then(() => callback({ name }))
            .then(resolve, reject)
            .finally(() => {
              if (!this.dead) this.locks.release(name, this);
            });
        },
      };
      const onAbort = () => {
        this.locks.unqueue(name, waiter);
        reject(new DOMException('aborted', 'AbortError'));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.locks.enqueue(name, waiter);
    });
  }

  /** The context vanishes: its locks are freed, its waiting requests never settle. */
  die(): void {
    this.dead = true;
    this.locks.drop(this);
  }
}
