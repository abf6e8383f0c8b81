/**
 * Leader-tab mode: every tab of the origin queues for the hub lock; the one that holds it loads
 * the host code (tabcast-worker.js, imported as a module) and serves the others until it closes.
 * The lock then passes to the next tab, which restores the hub from IndexedDB.
 */
import type { LockManagerLike } from '../link/locks.js';
import { HUB_LOCK } from '../link/messages.js';

/** What the worker module offers a page. */
interface HostModule {
  startLeaderHost?: () => Promise<{ retired: Promise<void> }>;
}

let queued = false;

/** Enters this page in the election (once; again after it gave up the lead). */
export function joinElection(locks: LockManagerLike, hostModuleUrl: string): void {
  if (queued) return;
  queued = true;
  locks
    .request(HUB_LOCK, {}, async () => {
      const module = (await import(/* @vite-ignore */ hostModuleUrl)) as HostModule;
      if (typeof module.startLeaderHost !== 'function') throw new Error(`${hostModuleUrl} is not tabcast-worker.js: it offers no startLeaderHost`);
      const host = await module.startLeaderHost();
      await host.retired; // the lock is held, and the other tabs served, until a newer host takes over
    })
    .catch((error: unknown) => console.error('tabcast: this tab could not run the hub; another tab will', error))
    .finally(() => {
      queued = false;
    });
}
