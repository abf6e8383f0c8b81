/**
 * The parser of request context changes (src/protocol/change-request.ts) loads apart from the
 * engine: it is the engine's one user of zod, and zod is the largest part of the browser worker.
 * The worker starts without it (dist/tabcast-change.js is fetched right after start) and a change
 * that comes before it waits for it (`Hub.publish`); `Hub.create` elsewhere waits for it at start.
 *
 * The loaded parser is kept per module, not per engine: the import is cached by the platform
 * anyway, and the cluster's `prepareChange` (src/hub/replica.ts) checks changes without an engine.
 */
import { HubError, badRequest } from '../protocol/outcome.js';
import type { ContextChangeRequest } from '../protocol/messages.js';

type Parse = (body: unknown) => ContextChangeRequest;

let parse: Parse | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads the parser once; resolves when it is there, or rejects with a 503 that names the file
 * (a later call tries again). Every caller gets the same promise while one load is under way, so
 * callbacks on it run in the order they were added.
 */
export function loadChangeParser(): Promise<void> {
  loading ??= import('../protocol/change-request.js').then(
    (module) => {
      parse = (body) => module.parseContextChangeRequest(body, badRequest);
    },
    (error: unknown) => {
      loading = undefined;
      throw new HubError(503, 'transient', `the hub could not load its context-change parser (tabcast-change.js in the browser build), so the change was not applied: ${String(error)}`);
    },
  );
  return loading;
}

/** True once the parser has loaded: a change can then be checked synchronously. */
export function changeParserReady(): boolean {
  return parse !== undefined;
}

/** Parses a request context change body, or throws a 400 naming the field (HUB-CHANGE-08). Needs `loadChangeParser()` to have resolved. */
export function parseChange(body: unknown): ContextChangeRequest {
  if (!parse) throw new HubError(503, 'transient', 'the hub has not loaded its context-change parser yet; retry');
  return parse(body);
}
