/**
 * HUB-CLUSTER-05 (issue 15): the rule that finds entries of the change log a replica never read.
 * Each entry carries its number in the log; the numbers a replica reads must follow on, except
 * where a log legitimately starts (start-up on a trimmed log, a new log after Redis lost its data)
 * or an older version wrote the entry without a number.
 */
import { describe, expect, it } from 'vitest';
import { gapReason, LogSequence } from '../../../src/cluster/log-sequence.js';

/** The gaps found while reading `numbers` in order. */
function gapsIn(numbers: ReadonlyArray<number | undefined>) {
  const sequence = new LogSequence();
  return numbers.map((n) => sequence.follow(n)).filter((g) => g !== undefined);
}

describe('HUB-CLUSTER-05 the log sequence check', () => {
  it('HUB-CLUSTER-05 numbers that follow on are no gap, and the first one read sets the baseline (start-up on a trimmed log)', () => {
    expect(gapsIn([1, 2, 3, 4])).toEqual([]);
    expect(gapsIn([9_001, 9_002, 9_003])).toEqual([]);
  });

  it('HUB-CLUSTER-05 a number past the next one is a gap that counts the entries missed', () => {
    expect(gapsIn([5, 6, 10])).toEqual([{ after: 6, next: 10, missed: 3 }]);
    expect(gapsIn([5, 7])).toEqual([{ after: 5, next: 7, missed: 1 }]);
  });

  it('HUB-CLUSTER-05 number 1 starts a new log (Redis came back empty): no gap, and the new log is followed from there', () => {
    expect(gapsIn([41, 42, 1, 2, 3])).toEqual([]);
    expect(gapsIn([41, 42, 1, 3])).toEqual([{ after: 1, next: 3, missed: 1 }]);
  });

  it('HUB-CLUSTER-05 a number at or below the last one, other than 1, is a new log entered after its start: the entries before it were missed', () => {
    expect(gapsIn([41, 42, 7])).toEqual([{ after: 42, next: 7, missed: 6 }]);
    expect(gapsIn([41, 42, 42])).toEqual([{ after: 42, next: 42, missed: 41 }]);
  });

  it('HUB-CLUSTER-05 entries without a number (an older version wrote them) are not checked and leave the baseline as it was', () => {
    expect(gapsIn([undefined, undefined])).toEqual([]);
    expect(gapsIn([3, undefined, 4, undefined, 5])).toEqual([]);
    expect(gapsIn([3, undefined, 5])).toEqual([{ after: 3, next: 5, missed: 1 }]);
  });

  it('HUB-CLUSTER-05 the reason says how many changes were missed and what to do', () => {
    expect(gapReason({ after: 1, next: 5, missed: 3 })).toBe('this instance missed 3 changes of the shared log (it fell more than 10,000 entries behind); restart it');
    expect(gapReason({ after: 1, next: 3, missed: 1 })).toMatch(/missed 1 change of the shared log/);
  });
});
