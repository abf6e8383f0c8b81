/**
 * Issue #7, load and soak on `tabcast serve` (in process, loopback): many subscribers acking
 * every event, and a soak with subscribers joining, leaving and dropping while a publisher keeps
 * posting. Invariants: no event lost or duplicated (checked by id), every subscriber sees the same
 * order, no ack timeouts, and no growth in subscriptions or heap once the load is over.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { HubLogEntry } from '../../../src/hub/index.js';
import { startServer } from '../../../src/server/index.js';
import { watchUnhandled } from './support/invariants.js';
import { LeanSubscriber, postEvent } from './support/lean-subscriber.js';
import { budget, LOAD_EVENTS, LOAD_SUBSCRIBERS, recordStats, SOAK_MS, SOAK_SUBSCRIBERS, STRESS } from './support/sizes.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Heap in use after a full collection, in MB. */
function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Lease of the soak's subscriptions that end by a dropped connection. */
const DROP_LEASE_SECONDS = STRESS ? 10 : 3;

const subscriberCount = (hub: { inspect(): { topics: Array<{ subscribers: unknown[] }> } }) => hub.inspect().topics.reduce((n, t) => n + t.subscribers.length, 0);

describe('hardening: load', () => {
  it(`HUB-NOTIFY-09 HUB-ACK-01 ${LOAD_SUBSCRIBERS} subscribers, ${LOAD_EVENTS} events: none lost or duplicated, same order everywhere, no growth`, async () => {
    const unhandled = watchUnhandled();
    const logs: string[] = [];
    const server = await startServer({ port: 0, log: (l) => logs.push(l) });
    const syncErrors: HubLogEntry[] = [];
    server.hub.observe((e) => {
      if (e.type === 'syncerror') syncErrors.push(e);
    });
    const started = Date.now();
    try {
      const subs = await Promise.all(Array.from({ length: LOAD_SUBSCRIBERS }, () => LeanSubscriber.join(server.url, 'load-room', 'Patient-open')));
      expect(subscriberCount(server.hub)).toBe(LOAD_SUBSCRIBERS);
      const accepted: number[] = [];
      let next = 0;
      let heapAfterWarmup = 0;
      const warmup = Math.floor(LOAD_EVENTS / 10);
      // Four publishers at once: the hub's order is the order it accepted them in.
      const publisher = async () => {
        while (next < LOAD_EVENTS) {
          const seq = next++;
          const status = await postEvent(server.url, 'load-room', seq, `pt-${seq % 100}`);
          expect(status).toBe(202);
          accepted.push(seq);
          if (accepted.length === warmup) heapAfterWarmup = heapMb();
        }
      };
      await Promise.all([publisher(), publisher(), publisher(), publisher()]);
      await Promise.all(subs.map((s) => s.flushed()));
      const reference = subs[0]!.seqs;
      expect(new Set(reference).size, 'no duplicates').toBe(reference.length);
      expect([...reference].sort((a, b) => a - b)).toStrictEqual([...accepted].sort((a, b) => a - b));
      for (const s of subs) {
        expect(s.seqs, 'every subscriber got every event, once, in the same order').toStrictEqual(reference);
        expect(s.syncErrors).toBe(0);
      }
      expect(syncErrors, 'no ack timed out and nothing failed').toStrictEqual([]);
      const pending = server.hub.inspect().topics.flatMap((t) => t.subscribers).map((s) => s.pending);
      expect(pending.every((p) => p === 0), 'every notification was answered').toBe(true);
      expect(subscriberCount(server.hub)).toBe(LOAD_SUBSCRIBERS);
      const heapAtEnd = heapMb();
      await Promise.all(subs.map((s) => s.leave()));
      expect(subscriberCount(server.hub), 'normal closes end every subscription').toBe(0);
      const seconds = (Date.now() - started) / 1000;
      // The subscribers keep one number per event they got; allow that plus a fixed margin.
      const allowance = 16 + (LOAD_SUBSCRIBERS * LOAD_EVENTS * 16) / 2 ** 20;
      expect(heapAtEnd - heapAfterWarmup, `heap grew from ${heapAfterWarmup.toFixed(1)} MB to ${heapAtEnd.toFixed(1)} MB`).toBeLessThan(allowance);
      expect(logs).toStrictEqual([]);
      recordStats('load', `${LOAD_SUBSCRIBERS} subscribers × ${LOAD_EVENTS} events on tabcast serve`, {
        events: LOAD_EVENTS,
        'notifications delivered and acked': LOAD_SUBSCRIBERS * LOAD_EVENTS,
        seconds: seconds.toFixed(1),
        'events/s': (LOAD_EVENTS / seconds).toFixed(0),
        'heap growth MB': (heapAtEnd - heapAfterWarmup).toFixed(1),
      });
    } finally {
      await server.close();
    }
    unhandled.check();
  }, budget(LOAD_EVENTS * LOAD_SUBSCRIBERS * 0.15));
});

describe('hardening: soak', () => {
  it(`HUB-NOTIFY-03 HUB-SYNC-08 HUB-TOLERANT-07 ${SOAK_MS / 1000} s of subscribers joining, leaving and dropping: each gets every event of its stay once, nothing grows`, async () => {
    const unhandled = watchUnhandled();
    const logs: string[] = [];
    const server = await startServer({ port: 0, log: (l) => logs.push(l) });
    const timeouts: HubLogEntry[] = [];
    const denied: HubLogEntry[] = [];
    server.hub.observe((e) => {
      if (e.type === 'syncerror' && String((e.detail as { event?: { context?: Array<{ resource?: { issue?: Array<{ diagnostics?: string }> } }> } })?.event?.context?.[0]?.resource?.issue?.[0]?.diagnostics).includes('did not answer')) timeouts.push(e);
      if (e.type === 'denied') denied.push(e);
    });
    let published = 0;
    let answered = -1; // highest seq whose 202 came back
    const waiters = new Set<() => void>();
    /** Resolves once the publisher has had `seq` answered (or the soak is over). */
    const answeredUpTo = (seq: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (answered < seq && !stop) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    let sessions = 0;
    let drops = 0;
    let delivered = 0;
    let stop = false;
    let heapEarly = 0;
    const started = Date.now();
    try {
      const publisher = (async () => {
        while (!stop) {
          const seq = published++;
          expect(await postEvent(server.url, 'soak-room', seq, `pt-${seq % 50}`)).toBe(202);
          answered = seq;
          for (const w of waiters) w();
        }
        for (const w of waiters) w();
      })();
      const slot = async () => {
        while (!stop) {
          sessions++;
          const dropIt = Math.random() < 0.2;
          // Dropped subscriptions stay for a reconnect until their lease ends (HUB-TOLERANT-07): keep it
          // short, but longer than a loaded machine may take between the subscribe and the upgrade
          // (a subscription whose socket never connects lapses with its lease).
          const sub = await LeanSubscriber.join(server.url, 'soak-room', 'Patient-open', dropIt ? DROP_LEASE_SECONDS : undefined);
          const firstRequired = published; // sent after the confirmation: must arrive
          const stay = 5 + Math.floor(Math.random() * 40);
          await answeredUpTo(firstRequired + stay);
          const lastRequired = answered; // its 202 came before we leave: must have arrived
          if (dropIt) {
            drops++;
            await sub.drop();
            continue; // after a drop, what arrived is not defined
          }
          await sub.leave();
          const got = sub.seqs;
          delivered += got.length;
          expect(new Set(got).size, 'no duplicates').toBe(got.length);
          expect([...got].sort((a, b) => a - b), 'in order').toStrictEqual(got);
          for (let s = firstRequired; s <= lastRequired; s++) expect(got.includes(s), `event ${s} of the stay missing`).toBe(true);
          // Outside the stay: only the catch-up and the one publish in flight at each edge.
          expect(got.filter((s) => s < firstRequired).length).toBeLessThanOrEqual(2);
          expect(got.filter((s) => s > lastRequired).length).toBeLessThanOrEqual(1);
          expect(sub.syncErrors).toBe(0);
          if (heapEarly === 0 && Date.now() - started > SOAK_MS / 10) heapEarly = heapMb();
        }
      };
      const slots = Array.from({ length: SOAK_SUBSCRIBERS }, slot);
      await new Promise<void>((resolve) => setTimeout(resolve, SOAK_MS)); // the soak's length is the point here, not a wait for an event
      stop = true;
      await Promise.all([publisher, ...slots]);
      // Dropped subscriptions end when their short lease runs out: wait for those denials.
      const dropped = () => server.hub.inspect().topics.flatMap((t) => t.subscribers).filter((s) => !s.connected).length;
      await new Promise<void>((resolve) => {
        const stopWatching = server.hub.observe((e) => {
          if (e.type === 'denied' && dropped() === 0) done();
        });
        const done = () => {
          stopWatching();
          resolve();
        };
        if (dropped() === 0) done();
      });
      expect(subscriberCount(server.hub), 'every subscription ended').toBe(0);
      expect(timeouts, 'no subscriber missed an ack deadline').toStrictEqual([]);
      const heapEnd = heapMb();
      if (heapEarly > 0) expect(heapEnd - heapEarly, `heap grew from ${heapEarly.toFixed(1)} MB to ${heapEnd.toFixed(1)} MB`).toBeLessThan(24);
      expect(logs).toStrictEqual([]);
      recordStats('load', `soak ${SOAK_MS / 1000} s, ${SOAK_SUBSCRIBERS} subscriber slots`, {
        'events published': published,
        'subscriber sessions': sessions,
        'abnormal drops': drops,
        'notifications checked': delivered,
        'heap growth MB': heapEarly > 0 ? (heapEnd - heapEarly).toFixed(1) : 'n/a',
      });
    } finally {
      stop = true;
      await server.close();
    }
    unhandled.check();
  }, budget(SOAK_MS + 20_000));
});
