/**
 * The pull-context shape `{timestamp, id, event}` (channels.md §2) for `GET {topic}/websub`, read
 * from get-context. Interim: the "stomp" helper's pull context replaces this once it lands.
 */
import type { Hub } from '../hub/index.js';

/** The topic's current context as a 2019-style event; with none, `{hub.topic, context: []}`. */
export function pullContext(hub: Pick<Hub, 'getContext'>, topic: string, now: () => number): unknown {
  const current = hub.getContext(topic);
  const event: Record<string, unknown> = { 'hub.topic': topic };
  if (current['context.type']) {
    event['hub.event'] = `${current['context.type']}-open`;
    if (current['context.versionId']) event['context.versionId'] = current['context.versionId'];
  }
  event.context = current.context;
  return { timestamp: new Date(now()).toISOString(), id: globalThis.crypto.randomUUID(), event };
}
