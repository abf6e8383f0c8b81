/**
 * HubStorage in one JSON file, for `tabcast serve --data FILE` (HUB-PERSIST-01..06). Every batch
 * rewrites the file atomically: a crash leaves either the old or the new file, never half of one.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { HubStorage } from '../hub/ports.js';

const FORMAT = 'tabcast-data';
const VERSION = 1;

interface DataFile {
  format: typeof FORMAT;
  version: number;
  entries: Record<string, unknown>;
}

let tmpCounter = 0;

/** A storage kept in `path`. A missing file is created on load; a corrupt one makes load throw and is left as it is. */
export function fileStorage(path: string): HubStorage & { readonly path: string } {
  let entries: Map<string, unknown> | undefined;
  // Batches are written one after another, each on top of the last one that succeeded.
  let chain: Promise<void> = Promise.resolve();

  const load = async (): Promise<Map<string, unknown>> => {
    if (!entries) {
      const text = await readExisting(path);
      if (text === undefined) {
        await writeAtomically(path, serialise(new Map()));
        entries = new Map();
      } else {
        entries = parseDataFile(path, text);
      }
    }
    return entries;
  };

  return {
    path,
    async loadAll() {
      const loaded = await load();
      return new Map([...loaded].map(([k, v]) => [k, structuredCloneJson(v)]));
    },
    writeBatch(changes) {
      const run = chain.then(async () => {
        const next = new Map(await load());
        for (const [k, v] of changes) {
          if (v === undefined) next.delete(k);
          else next.set(k, structuredCloneJson(v));
        }
        await writeAtomically(path, serialise(next));
        entries = next;
      });
      chain = run.catch(() => undefined);
      return run;
    },
  };
}

async function readExisting(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read data file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Checks the file's shape; the message says what is wrong without quoting content (it may hold PHI). */
function parseDataFile(path: string, text: string): Map<string, unknown> {
  const corrupt = (why: string) => new Error(`data file ${path} is corrupt (${why}); it was left untouched: repair it, or move it away to start with an empty hub`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const at = /position (\d+)/.exec(String((error as Error).message))?.[1];
    throw corrupt(at === undefined ? 'not valid JSON' : `not valid JSON near byte ${at}`);
  }
  const file = value as Partial<DataFile> | null;
  if (typeof file !== 'object' || file === null || file.format !== FORMAT) throw corrupt(`not a ${FORMAT} file`);
  if (file.version !== VERSION) throw corrupt(`format version ${String(file.version)} is not supported; this hub reads version ${VERSION}`);
  if (typeof file.entries !== 'object' || file.entries === null || Array.isArray(file.entries)) throw corrupt('"entries" is not an object');
  return new Map(Object.entries(file.entries));
}

function serialise(entries: Map<string, unknown>): string {
  const file: DataFile = { format: FORMAT, version: VERSION, entries: Object.fromEntries(entries) };
  return `${JSON.stringify(file)}\n`;
}

/** Writes a sibling temporary file, syncs it, renames it over the target, then syncs the directory. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${++tmpCounter}.tmp`;
  try {
    // Owner-only: contexts hold patient data.
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw new Error(`cannot write data file ${path}: ${(error as Error).message}`, { cause: error });
  }
  await syncDirectory(dirname(path));
}

/** Makes the rename itself durable; some file systems refuse to sync a directory, which is not fatal. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}

function structuredCloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
