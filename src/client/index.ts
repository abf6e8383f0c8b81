/**
 * tabcast for pages, as an ES module (dist/tabcast.js): a FHIRcast STU3 hub shared by every tab
 * of the origin. `import { connect } from 'tabcast'`.
 */
import { setDefaultWorkerSource, WORKER_FILE } from './worker-url.js';

// tabcast-worker.js is built next to this module.
setDefaultWorkerSource(() => ({ url: new URL(WORKER_FILE, import.meta.url).href }));

/** Connects the page to the origin's hub (SharedWorker, or a leader tab where there is none). */
export { connect } from './connect.js';
/** Drop-in mode: routes the page's global fetch and WebSocket aimed at one hub URL to the in-page hub. */
export { install, uninstall } from './drop-in.js';
/** The error every refused call rejects with: an HTTP-like `status` and a FHIR OperationOutcome. */
export { HubError } from '../protocol/outcome.js';
/** The API's types: TabcastHub, ConnectOptions, SubscribeOptions, Subscription, PublishRequest, BridgeHandle, … */
export type * from './types.js';
