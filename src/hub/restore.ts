/** Rebuilding the engine's state from the records a storage loaded (HUB-PERSIST-07, HUB-SEC-15). */
import { contextKey, type IdentityRecord, type MalformedRecord } from './records.js';
import { readRecords } from './record-validation.js';
import { TopicState } from './topic-state.js';

/** What a store held, as engine state. */
export interface RestoredState {
  topics: Map<string, TopicState>;
  identity?: IdentityRecord;
  /** Records that failed validation and were left out. */
  malformed: MalformedRecord[];
}

/**
 * Validates every record and rebuilds the topics. A context whose header is missing gets a new
 * header; content whose context is missing is left out (no batch ever writes one without the other).
 */
export function restoreState(stored: ReadonlyMap<string, unknown>, now: number): RestoredState {
  const loaded = readRecords(stored);
  const topics = new Map<string, TopicState>();
  for (const header of loaded.headers.values()) topics.set(header.topic, new TopicState({ ...header }, now));
  for (const [topic, contexts] of loaded.contexts) {
    let state = topics.get(topic);
    if (!state) topics.set(topic, (state = new TopicState({ topic, createdAt: now, seq: 0 }, now)));
    for (const ctx of contexts) {
      const content = loaded.content.get(contextKey(topic, ctx.anchorType, ctx.anchorId)) ?? [];
      state.restore(ctx, content.map((c) => c.record));
      state.header.seq = Math.max(state.header.seq, ctx.seq);
    }
  }
  for (const state of topics.values()) {
    state.finishRestore();
    if (state.header.current !== undefined && !state.current()) state.header.current = undefined;
  }
  return { topics, identity: loaded.identity, malformed: loaded.malformed };
}

/** The message that stops a door which refuses malformed records: keys and reasons, never content. */
export function malformedMessage(malformed: readonly MalformedRecord[]): string {
  const shown = malformed.slice(0, 5).map((m) => `${m.key}: ${m.reason}`);
  const more = malformed.length > shown.length ? `; and ${malformed.length - shown.length} more` : '';
  return `the store holds ${malformed.length} malformed record(s) (${shown.join('; ')}${more}); it was left untouched: repair it, or move it away to start with an empty hub`;
}
