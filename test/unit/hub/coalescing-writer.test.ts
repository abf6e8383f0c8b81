// HUB-PERSIST-01: changes are written in batches, one batch at a time, and each change's promise
// resolves once a batch holding it is durable.
import { describe, expect, it } from 'vitest';
import { CoalescingWriter } from '../../../src/hub/persistence.js';
import type { HubStorage } from '../../../src/hub/ports.js';

/** Storage whose writes finish only when the test says so. */
function gatedStorage() {
  const batches: Array<Map<string, unknown>> = [];
  const gates: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const storage = {
    async readAll() {
      return new Map<string, unknown>();
    },
    writeBatch(batch: Map<string, unknown>) {
      batches.push(new Map(batch));
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise<void>((resolve) =>
        gates.push(() => {
          inFlight--;
          resolve();
        }),
      );
    },
  } as unknown as HubStorage;
  return { storage, batches, gates, maxInFlight: () => maxInFlight };
}

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('CoalescingWriter', () => {
  it('HUB-PERSIST-01 changes made while a batch is written go out together as the next batch, never two writes at once', async () => {
    const rig = gatedStorage();
    const writer = new CoalescingWriter(rig.storage, () => {});
    const first = writer.mark('topic:a', () => 'a1');
    await turn();
    expect(rig.batches).toHaveLength(1);
    const later = [writer.mark('topic:a', () => 'a2'), writer.mark('topic:b', () => 'b1')];
    await turn();
    const third = writer.mark('topic:c', () => 'c1');
    await turn();
    expect(rig.batches, 'nothing new is written while the first batch is in flight').toHaveLength(1);
    rig.gates[0]!();
    await first;
    await turn();
    expect(rig.batches).toHaveLength(2);
    expect(Object.fromEntries(rig.batches[1]!)).toEqual({ 'topic:a': 'a2', 'topic:b': 'b1', 'topic:c': 'c1' });
    let settled = false;
    void Promise.all([...later, third]).then(() => (settled = true));
    await turn();
    expect(settled, 'not durable before its batch is written').toBe(false);
    rig.gates[1]!();
    await Promise.all([...later, third]);
    expect(rig.maxInFlight()).toBe(1);
  });

  it('HUB-PERSIST-05 a failed batch is written again with the next one, even when the error reporter throws', async () => {
    const written: Array<Record<string, unknown>> = [];
    let failNext = true;
    const storage = {
      async readAll() {
        return new Map<string, unknown>();
      },
      async writeBatch(batch: Map<string, unknown>) {
        if (failNext) {
          failNext = false;
          throw new Error('quota exceeded');
        }
        written.push(Object.fromEntries(batch));
      },
    } as unknown as HubStorage;
    const writer = new CoalescingWriter(storage, () => {
      throw new Error('the reporter itself fails');
    });
    await expect(writer.mark('topic:a', () => 'a1')).rejects.toThrow('quota exceeded');
    expect(writer.failure).toBeDefined();
    await writer.mark('topic:b', () => 'b1');
    expect(written).toEqual([{ 'topic:a': 'a1', 'topic:b': 'b1' }]);
    expect(writer.failure).toBeUndefined();
  });

  it('HUB-PERSIST-01 with a write scheduler (group commit), no batch starts before the scheduler says so; every change marked until then lands in it', async () => {
    const rig = gatedStorage();
    const starts: Array<() => void> = [];
    const writer = new CoalescingWriter(rig.storage, () => {}, (startBatch) => starts.push(startBatch));
    const values: Record<string, string> = { 'topic:a': 'a1' };
    const first = writer.mark('topic:a', () => values['topic:a']);
    await turn();
    const second = writer.mark('topic:b', () => 'b1');
    values['topic:a'] = 'a2'; // a record is produced when its batch starts, so the batch holds its latest value
    await turn();
    expect(starts, 'one scheduled start for the whole group').toHaveLength(1);
    expect(rig.batches, 'nothing written before the scheduled start').toHaveLength(0);
    starts[0]!();
    await turn();
    expect(rig.batches.map((b) => Object.fromEntries(b))).toEqual([{ 'topic:a': 'a2', 'topic:b': 'b1' }]);
    let durable = false;
    void Promise.all([first, second]).then(() => (durable = true));
    await turn();
    expect(durable, 'not durable before the batch is written').toBe(false);
    rig.gates[0]!();
    await Promise.all([first, second]);
    // The next change schedules a start of its own.
    void writer.mark('topic:c', () => 'c1');
    await turn();
    expect(starts).toHaveLength(2);
  });

  it('HUB-PERSIST-01 idle() waits for a batch that is scheduled but not yet started', async () => {
    const written: string[] = [];
    const storage = {
      async writeBatch(batch: Map<string, unknown>) {
        written.push(...batch.keys());
      },
    } as unknown as HubStorage;
    let start: (() => void) | undefined;
    const writer = new CoalescingWriter(storage, () => {}, (s) => (start = s));
    void writer.mark('topic:a', () => 'a1');
    let idle = false;
    const waiting = writer.idle().then(() => (idle = true));
    await turn();
    expect(idle).toBe(false);
    start!();
    await waiting;
    expect(written).toEqual(['topic:a']);
  });
});

