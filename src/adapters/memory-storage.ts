/** In-memory HubStorage: for tests and for `tabcast serve` without `--data`. */
import type { HubStorage } from '../hub/ports.js';

/** Creates a storage that keeps JSON copies in a Map. */
export function memoryStorage(initial?: Map<string, unknown>): HubStorage & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>(initial);
  return {
    data,
    async loadAll() {
      return new Map([...data].map(([k, v]) => [k, JSON.parse(JSON.stringify(v))]));
    },
    async writeBatch(changes) {
      for (const [k, v] of changes) {
        if (v === undefined) data.delete(k);
        else data.set(k, JSON.parse(JSON.stringify(v)));
      }
    },
  };
}
