/** A HubStorage whose writes fail on demand, over memory storage; it keeps a log of what each write did. */
import { memoryStorage } from '../../../../src/adapters/memory-storage.js';
import type { HubStorage } from '../../../../src/hub/index.js';
import { topicPrefixes } from '../../../../src/hub/records.js';

/** How a write fails: the errors IndexedDB and file systems really raise, and odd rejections. */
export type StorageFault = 'quota' | 'transaction' | 'io' | 'string' | 'undefined' | 'sync-throw';

export function faultError(kind: StorageFault): unknown {
  switch (kind) {
    case 'quota':
      return new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    case 'transaction':
      return new DOMException('The transaction was aborted.', 'AbortError');
    case 'io':
      return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    case 'string':
      return 'disk gone';
    case 'undefined':
      return undefined;
    case 'sync-throw':
      return new TypeError('storage adapter bug');
  }
}

export interface FlakyStorage extends HubStorage {
  readonly inner: ReturnType<typeof memoryStorage>;
  /** The fault for each write, in call order; a write beyond the plan succeeds. */
  plan: Array<StorageFault | undefined>;
  calls: number;
  failures: number;
}

export function flakyStorage(plan: Array<StorageFault | undefined> = []): FlakyStorage {
  const inner = memoryStorage();
  const storage: FlakyStorage = {
    inner,
    plan,
    calls: 0,
    failures: 0,
    loadAll: () => inner.loadAll(),
    writeBatch(changes) {
      const fault = storage.plan[storage.calls++];
      if (fault !== undefined) {
        storage.failures++;
        if (fault === 'sync-throw') throw faultError(fault);
        return Promise.reject(faultError(fault));
      }
      return inner.writeBatch(changes);
    },
  };
  return storage;
}

/** The anchors (`Type/id`) of a topic's open contexts as storage holds them. */
export function storedAnchors(storage: { data: Map<string, unknown> }, topic: string): string[] {
  const prefix = topicPrefixes(topic).contexts;
  return [...storage.data]
    .filter(([key]) => key.startsWith(prefix))
    .map(([, value]) => value as { anchorType: string; anchorId: string })
    .map((c) => `${c.anchorType}/${c.anchorId}`);
}
