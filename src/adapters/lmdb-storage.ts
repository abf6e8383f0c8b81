/**
 * HubStorage on LMDB (npm `lmdb`), for `tabcast serve --data DIR` (HUB-PERSIST-01..07). Each record
 * is one key in the directory's database; a batch is one write transaction (`batch`), and `writeBatch`
 * resolves once that transaction is committed and flushed to disk. Node only: the browser bundles
 * never import this file.
 */
import { createHash } from 'node:crypto';
import { mkdir, open as openFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import type { HubStorage } from '../hub/ports.js';

/** LMDB keys hold at most 1978 bytes; longer record keys are stored under a digest, with the key kept in the value. */
const MAX_PLAIN_KEY_BYTES = 1024;
const LONG_KEY_PREFIX = '#long/';

interface LongKeyEntry {
  key: string;
  value: unknown;
}

/** A storage in directory `dir` (created when missing). Opening happens in `loadAll`, which throws a clear error when the store cannot be opened or read. */
export function lmdbStorage(dir: string): HubStorage & { readonly path: string; close(): Promise<void> } {
  let db: RootDatabase | undefined;

  const fail = (what: string, error: unknown) =>
    new Error(`cannot ${what} data directory ${dir}: ${error instanceof Error ? error.message : String(error)}; it was left untouched: repair it, or move it away to start with an empty hub`, { cause: error });

  const opened = async (): Promise<RootDatabase> => {
    if (db) return db;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 }); // owner-only: contexts hold patient data
      if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
      await checkDataFile(join(dir, 'data.mdb'));
      db = open({ path: dir, noSubdir: false, encoding: 'msgpack', compression: false });
    } catch (error) {
      throw fail('open', error);
    }
    return db;
  };

  return {
    path: dir,
    async loadAll() {
      const store = await opened();
      const out = new Map<string, unknown>();
      try {
        for (const { key, value } of store.getRange()) {
          if (typeof key === 'string' && key.startsWith(LONG_KEY_PREFIX)) {
            const entry = value as LongKeyEntry | undefined;
            out.set(typeof entry?.key === 'string' ? entry.key : String(key), entry?.value);
          } else {
            out.set(String(key), value);
          }
        }
      } catch (error) {
        throw fail('read', error);
      }
      return out;
    },
    async writeBatch(changes) {
      const store = await opened();
      try {
        // One batch is one write transaction: all of it lands, or none of it.
        await store.batch(() => {
          for (const [key, value] of changes) {
            const stored = storedKey(key);
            if (value === undefined) void store.remove(stored);
            else void store.put(stored, stored === key ? value : ({ key, value } satisfies LongKeyEntry));
          }
        });
        await store.flushed; // committed is not yet on disk: the 202 waits for the flush
      } catch (error) {
        throw new Error(`cannot write data directory ${dir}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    },
    async close() {
      const store = db;
      db = undefined;
      await store?.close();
    },
  };
}

function storedKey(key: string): string {
  if (Buffer.byteLength(key, 'utf8') <= MAX_PLAIN_KEY_BYTES) return key;
  return LONG_KEY_PREFIX + createHash('sha256').update(key).digest('hex');
}

/** LMDB's meta page magic, little-endian, after the page header (24 bytes in lmdb-js's build, 16 in classic LMDB). */
const META_MAGIC = 0xbeefc0de;

/**
 * LMDB trusts its file: opening one that is not an LMDB file can end the process instead of
 * throwing. So a data file that exists is checked for LMDB's magic first (HUB-PERSIST-06).
 */
async function checkDataFile(path: string): Promise<void> {
  let handle;
  try {
    handle = await openFile(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // a new store
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return;
    const head = Buffer.alloc(32);
    await handle.read(head, 0, 32, 0);
    if (size < 32 || (head.readUInt32LE(24) !== META_MAGIC && head.readUInt32LE(16) !== META_MAGIC)) {
      throw new Error('data.mdb is not an LMDB database file (no LMDB header)');
    }
  } finally {
    await handle.close();
  }
}
