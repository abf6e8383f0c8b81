/**
 * What a client hears when the host could not start (IndexedDB refused to open, no Web Locks):
 * its hello is answered with a 503 that says why, instead of never being answered.
 */
import { HubError } from '../protocol/outcome.js';
import type { Link } from '../link/messages.js';
import { answerControl } from './control-guard.js';
import { toWireError } from './results.js';

/** Answers hello on `control` with a 503 naming `cause` (any other call gets an error reply). */
export function refuseClient(control: Link, cause: unknown): void {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const error = toWireError(new HubError(503, 'transient', `the tabcast hub could not start: ${reason}`));
  answerControl(control, { hello: () => ({ ok: false, error }) });
}
