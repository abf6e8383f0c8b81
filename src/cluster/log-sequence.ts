/**
 * Whether the change log reaches this replica whole. Both append scripts number every entry they
 * add (`s`, one counter in Redis, so the numbers of one log run 1, 2, 3, …). Redis trims the log
 * to about LOG_LENGTH entries; a reader that falls further behind finds the next entry's number
 * more than one past the last one it read. Applying on from there would diverge in silence, so the
 * gap is reported instead (issue 15).
 */
import { LOG_LENGTH } from './change-log.js';

/** Entries of the log that this replica never read, found between two it did. */
export interface LogGap {
  /** The sequence number of the last entry read before the gap. */
  after: number;
  /** The sequence number of the entry found after it. */
  next: number;
  /** How many entries were missed. */
  missed: number;
}

/** Follows the sequence numbers of the entries one replica reads, in log order. */
export class LogSequence {
  private last: number | undefined;

  /**
   * Notes the next entry's number; answers the gap before it, or undefined when it follows on.
   * The first numbered entry sets the baseline (start-up replays a trimmed log whose first entries
   * are already in the loaded records). Number 1 starts a new log: the counter starts again only
   * when Redis lost its data, and the new log is read from its first entry. An entry without a
   * number comes from an older version and is not checked.
   */
  follow(sequence: number | undefined): LogGap | undefined {
    if (sequence === undefined) return undefined;
    const last = this.last;
    if (last === undefined || sequence === 1 || sequence === last + 1) {
      this.last = sequence;
      return undefined;
    }
    // A number at or below the last one can only come from a new log entered after its start.
    return { after: last, next: sequence, missed: sequence > last ? sequence - last - 1 : sequence - 1 };
  }
}

/** The reason a replica with a gap gives in /healthz, in its 503s and in its log. */
export function gapReason(gap: LogGap): string {
  const changes = gap.missed === 1 ? '1 change' : `${gap.missed} changes`;
  return `this instance missed ${changes} of the shared log (it fell more than ${LOG_LENGTH.toLocaleString('en-US')} entries behind); restart it`;
}

