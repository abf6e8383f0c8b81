/**
 * The page entry under `npm run dev` (Vite aliases `tabcast` here). Vite only bundles a worker it
 * can see as a literal `new SharedWorker(new URL(…, import.meta.url), { type: 'module', … })`,
 * so this file spells it out; production builds never import it.
 */
import { setDefaultWorkerSource } from './worker-url.js';

setDefaultWorkerSource(() => ({
  url: new URL('../../worker/hub-worker.ts', import.meta.url).href,
  createSharedWorker: () => new SharedWorker(new URL('../../worker/hub-worker.ts', import.meta.url), { type: 'module', name: 'tabcast' }),
}));

/** The same API as the package entry. */
export * from './index.js';
