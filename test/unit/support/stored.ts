/** Reading what a `tabcast serve --data DIR` store holds, from the test process (the server may be a killed child). */
import { lmdbStorage } from '../../../src/adapters/lmdb-storage.js';
import { topicPrefixes } from '../../../src/hub/records.js';

/** Every record of the LMDB store in `dir`. */
export async function readStore(dir: string): Promise<Map<string, unknown>> {
  const storage = lmdbStorage(dir);
  try {
    return await storage.loadAll();
  } finally {
    await storage.close();
  }
}

/** Anchor ids of a topic's stored open contexts. */
export function storedAnchorIds(records: ReadonlyMap<string, unknown>, topic: string): string[] {
  const prefix = topicPrefixes(topic).contexts;
  return [...records].filter(([key]) => key.startsWith(prefix)).map(([, value]) => (value as { anchorId: string }).anchorId);
}
