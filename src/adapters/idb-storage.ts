/**
 * HubStorage over IndexedDB (idb-keyval with a store of its own). A batch is one readwrite
 * transaction and resolves on its `complete` event: only then is the change durable, in the sense
 * of Chromium's default durability (it survives tab, worker and browser crashes, not power loss).
 */
import { createStore, del, entries, get, promisifyRequest, set } from 'idb-keyval';
import type { HubStorage } from '../hub/ports.js';

/** The IndexedDB database of the browser hub. */
export const HUB_DATABASE = 'tabcast';
/** The object store of the engine's state in that database. */
export const HUB_STORE = 'hub';

/** Creates a storage in IndexedDB database `dbName`, object store `storeName`. */
export function idbStorage(dbName = HUB_DATABASE, storeName = HUB_STORE): HubStorage {
  const store = createStore(dbName, storeName);
  return {
    async loadAll() {
      return new Map(await entries<string, unknown>(store));
    },
    writeBatch(changes) {
      return store('readwrite', (objects) => {
        try {
          for (const [key, value] of changes) {
            if (value === undefined) objects.delete(key);
            else objects.put(value, key);
          }
        } catch (error) {
          // A value that cannot be cloned throws here, after earlier puts were queued: abort so
          // that none of the batch lands (an uncaught throw would let the transaction commit).
          objects.transaction.abort();
          throw error;
        }
        return promisifyRequest(objects.transaction);
      });
    },
  };
}

/** A small key-value store for other host state (bridge configurations), in a database of its own. */
export function idbKeyValue(dbName: string, storeName = 'kv'): { get(key: string): Promise<unknown>; set(key: string, value: unknown): Promise<void>; del(key: string): Promise<void> } {
  const store = createStore(dbName, storeName);
  return { get: (key) => get(key, store), set: (key, value) => set(key, value, store), del: (key) => del(key, store) };
}
