/**
 * One instance's replica of the change log: how far it has applied, applying an entry once (a
 * repeated event gets its first 202), and waiting for a position (get-context after a 202).
 */
import type { PublishResult } from '../hub/index.js';
import { applyOrderedChange, type OrderedChange, type ReplicaPort } from '../hub/replica.js';
import type { LogEntry } from './change-log.js';
import { comparePositions, LOG_START, type LogPosition } from './log-position.js';
import { gapReason, LogSequence, type LogGap } from './log-sequence.js';
import { RecentOutcomes } from './recent-outcomes.js';

/**
 * What applying one entry gave: its publisher's token and the answer every replica computed, or,
 * for a "forget topic" entry, what this replica did with it (`kept` when a subscriber of it is here).
 */
export type EntryOutcome = { token: string; result: PublishResult } | { token: string; error: unknown } | { token: string; forgot: string; verdict: 'forgotten' | 'kept' | 'absent' };

/** What `apply` gave: an entry's outcome, or the gap found before it (the entry was not applied). */
export type AppliedEntry = EntryOutcome | { gap: LogGap };

/** The replica's side of the log. */
export class LogReplica {
  /** The last entry applied (or skipped); storage tags records with it. */
  position: LogPosition = LOG_START;
  /** Set once entries were found missing; from then on nothing is applied, so the state stays that of the last whole prefix. */
  gap: LogGap | undefined;
  private readonly sequence = new LogSequence();
  private port: ReplicaPort | undefined;
  private readonly recent = new RecentOutcomes();
  private waiting: Array<{ target: LogPosition; resolve: () => void }> = [];

  /** Binds the engine (once, before the first entry). */
  bind(port: ReplicaPort): void {
    this.port = port;
  }

  /** Applies an entry at start-up unless the loaded records already reflect it; throws when entries are missing before it. */
  replay(entry: LogEntry, loadedUpTo: (topic: string) => LogPosition | undefined): void {
    const applied = this.apply(entry, loadedUpTo);
    if (applied && 'gap' in applied) throw new Error(gapReason(applied.gap));
  }

  /**
   * Applies the next entry of the log; undefined for an entry this version cannot read, or one
   * the loaded records already reflect (`loadedUpTo`, start-up). Once a gap is found nothing more
   * is applied (undefined).
   */
  apply(entry: LogEntry, loadedUpTo?: (topic: string) => LogPosition | undefined): AppliedEntry | undefined {
    if (this.gap) return undefined;
    const gap = this.sequence.follow(entry.sequence);
    if (gap) {
      this.gap = gap;
      this.release(true); // waiters for later positions would wait in vain
      return { gap };
    }
    // A skipped entry counts as read too: the log is followed from here, each entry once.
    this.position = entry.position;
    const parsed = parseEntry(entry.text);
    if (!parsed) return undefined;
    const upTo = loadedUpTo?.('forget' in parsed ? parsed.forget : entryTopic(parsed.change));
    if (upTo && comparePositions(entry.position, upTo) <= 0) return undefined;
    try {
      if ('forget' in parsed) return { token: parsed.token, forgot: parsed.forget, verdict: this.port!.forgetTopic(parsed.forget) };
      return { token: parsed.token, result: this.applyOnce(parsed.change) };
    } catch (error) {
      return { token: parsed.token, error };
    } finally {
      this.release(false);
    }
  }

  /** Resolves once `target` is applied, or after `maxMs` (a stalled reader must not hold reads forever). */
  async reach(target: LogPosition, maxMs: number): Promise<void> {
    if (comparePositions(this.position, target) >= 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.waiting.push({ target, resolve });
      timer = setTimeout(resolve, maxMs);
    });
    clearTimeout(timer);
  }

  /** Lets every waiter go (shutdown). */
  releaseAll(): void {
    this.release(true);
  }

  private release(all: boolean): void {
    if (this.waiting.length === 0) return;
    const due = all ? this.waiting : this.waiting.filter((w) => comparePositions(this.position, w.target) >= 0);
    this.waiting = all ? [] : this.waiting.filter((w) => comparePositions(this.position, w.target) < 0);
    for (const w of due) w.resolve();
  }

  private applyOnce(change: OrderedChange): PublishResult {
    const topic = entryTopic(change);
    const eventId = typeof change.body.id === 'string' ? change.body.id : '';
    const earlier = this.recent.appliedAs(topic, eventId);
    if (earlier !== undefined) return { status: 202, id: earlier };
    const { id } = applyOrderedChange(this.port!, change);
    this.recent.remember(topic, eventId, id);
    return { status: 202, id };
  }
}

/** Reads a log entry: `{o: publisher's token, c: the change}`, or `{o, f: topic}` to forget an idle topic everywhere. */
function parseEntry(text: string): { token: string; change: OrderedChange } | { token: string; forget: string } | undefined {
  try {
    const v = JSON.parse(text) as { o: string; c?: OrderedChange; f?: string };
    if (typeof v.o !== 'string') return undefined;
    if (typeof v.f === 'string') return { token: v.o, forget: v.f };
    return v.c && typeof v.c === 'object' ? { token: v.o, change: v.c } : undefined;
  } catch {
    return undefined;
  }
}

function entryTopic(change: OrderedChange): string {
  const t = change.body.event['hub.topic'] ?? change.pathTopic;
  return typeof t === 'string' ? t.trim() : '';
}
