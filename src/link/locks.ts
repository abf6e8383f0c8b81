/**
 * Liveness through Web Locks. A closed tab or a terminated worker sends no message, but the
 * browser frees every lock it held: whoever waits on that lock is then told, at once.
 */

/** The part of the Web Locks API tabcast uses (`navigator.locks`, or a fake in node tests). */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => unknown): Promise<unknown>;
}

/** The platform's lock manager, or undefined where there is none (insecure contexts, Node 20). */
export function platformLocks(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks;
}

/**
 * Takes a lock and keeps it until the returned function is called (or the holder dies).
 * Resolves only once the lock's callback is running, i.e. once the lock is really held.
 */
export function holdLock(locks: LockManagerLike, name: string): Promise<() => void> {
  return new Promise((held, fail) => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    locks
      .request(name, {}, () => {
        held(release);
        return released;
      })
      .catch(fail);
  });
}

/**
 * Calls `onFree` once the lock `name` is free: its holder released it or died. Aborting `signal`
 * stops watching. The watcher lets go of the lock at once, so others waiting are not held up.
 */
export function watchLock(locks: LockManagerLike, name: string, onFree: () => void, signal?: AbortSignal): void {
  locks
    .request(name, signal ? { signal } : {}, () => {
      if (!signal?.aborted) onFree();
    })
    .catch(() => {
      // aborted: the watcher lost interest
    });
}

/** A random id for lock names and link addresses (not a secret: it only has to be unique). */
export function randomId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
