/**
 * Pull context (channels.md §2, HUB-PULL-01): the current context as the proposal's event object
 * `{timestamp, id, event}`, which is also the 2019 prototype's "current context" shape.
 */
import type { Hub } from '../hub/index.js';
import { base64url } from '../hub/ids.js';

/** The pull-context answer. */
export interface PulledContext {
  timestamp: string;
  id: string;
  event: { 'hub.topic': string; 'hub.event'?: string; 'context.versionId'?: string; context: unknown[] };
}

/**
 * The topic's current context as the open event that made it current, with get-context's entries
 * and version; with none, an empty context under a fresh id and the time of the answer.
 */
export async function pullContext(hub: Hub, topic: string, now: () => number, newId: () => string): Promise<PulledContext> {
  // get-context first: in cluster mode it is a Promise that waits until this replica has applied the log.
  const current = await hub.getContext(topic);
  const open = hub.currentOpen(topic);
  if (!open) return { timestamp: new Date(now()).toISOString(), id: newId(), event: { 'hub.topic': topic, context: [] } };
  const event: PulledContext['event'] = { 'hub.topic': topic, 'hub.event': open.event['hub.event'], context: current.context };
  if (current['context.versionId'] !== undefined) event['context.versionId'] = current['context.versionId'];
  return { timestamp: open.timestamp, id: open.id, event };
}

/** A fresh id for an empty pull answer, from the same randomness as the engine's ids. */
export function pullId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}
