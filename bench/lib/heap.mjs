// Worker heap: used JS heap of the tabcast SharedWorker (CDP Runtime.getHeapUsage after
// HeapProfiler.collectGarbage) while events pile up and while tabs come and go.
import { attachSharedWorker, censusGrowth, heapAfterGc, heapCensus } from './cdp.mjs';
import { openTab } from './browser.mjs';

const pause = (ms) => new Promise((r) => setTimeout(r, ms));
const call = (page, fn, arg) => page.evaluate(([f, a]) => window.bench[f](a), [fn, arg]);

/**
 * Publishes `events` events (checkpoints at a quarter, half and all), then runs `cycles` tab
 * cycles (open a tab, subscribe, close it; every other one says hub.close() first).
 * Returns `{ events: [{at, usedSize}], cycles: [...], flat: {events, cycles} }`.
 */
export async function heapPass(browser, origin, { events, cycles, warmup }, log) {
  const context = await browser.newContext();
  const out = { events: [], cycles: [] };
  let worker;
  try {
    const a = await openTab(context, origin, 'heapA', '&ctx=heap-pass');
    const b = await openTab(context, origin, 'heapB', '&ctx=heap-pass');
    const topic = await call(a, 'createTopic');
    await call(b, 'subscribeCount', { topic });
    worker = await attachSharedWorker(browser, { scriptPart: 'tabcast-worker', pageMarker: 'ctx=heap-pass' });
    // the publishing tab's heap too: a page that publishes all day must not grow either
    const pageA = await context.newCDPSession(a);
    const tabSession = { send: (m, p) => pageA.send(m, p), on: (e, f) => pageA.on(e, f), off: (e, f) => pageA.off(e, f) };
    const tabHeap = () => heapAfterGc(tabSession);
    log(`heap: ${warmup} warm-up events, then ${events} events`);
    await call(a, 'publishMany', { topic, count: warmup });
    await pause(300);
    out.events.push({ at: '0 events', count: 0, ...(await heapAfterGc(worker)) });
    out.tabA = [{ at: '0 events', count: 0, ...(await tabHeap()) }];
    const censusBefore = { worker: await heapCensus(worker), tabA: await heapCensus(tabSession) };
    let done = 0;
    for (const target of [events / 4, events / 2, events]) {
      await call(a, 'publishMany', { topic, count: target - done });
      done = target;
      await pause(300);
      out.events.push({ at: `${done.toLocaleString('en-US')} events`, count: done, ...(await heapAfterGc(worker)) });
      out.tabA.push({ at: `${done.toLocaleString('en-US')} events`, count: done, ...(await tabHeap()) });
    }
    out.growthEvents = { worker: censusGrowth(censusBefore.worker, await heapCensus(worker)), tabA: censusGrowth(censusBefore.tabA, await heapCensus(tabSession)) };
    out.delivered = await b.evaluate(() => window.bench.received());
    out.expectedDelivered = warmup + events;

    log(`heap: ${cycles} tab subscribe/close cycles`);
    const cycle = async (i) => {
      const t = await openTab(context, origin, `cycle${i}`, '&ctx=heap-pass');
      await call(t, 'subscribeCount', { topic });
      if (i % 2 === 1) await t.evaluate(() => window.bench.close());
      await t.close();
    };
    // one warm-up cycle pair, so first-use code and caches are not counted as growth
    await cycle(0);
    await cycle(1);
    await pause(500);
    out.cycles.push({ at: '0 cycles', count: 0, ...(await heapAfterGc(worker)) });
    const cyclesBefore = await heapCensus(worker);
    const checkpoints = [cycles / 4, cycles / 2, cycles].map(Math.round);
    let c = 0;
    for (const target of checkpoints) {
      while (c < target) await cycle(2 + c++);
      await pause(800); // let the worker see the closed tabs (Web Locks are released asynchronously)
      out.cycles.push({ at: `${c} cycles`, count: c, ...(await heapAfterGc(worker)) });
    }
    out.growthCycles = { worker: censusGrowth(cyclesBefore, await heapCensus(worker)) };
    // flat = the last checkpoint is within 256 KB or 5 % of the baseline, whichever is larger
    const flat = (series) => {
      const first = series[0].usedSize;
      const last = series[series.length - 1].usedSize;
      return last - first <= Math.max(256 * 1024, first * 0.05);
    };
    out.flat = { events: flat(out.events), cycles: flat(out.cycles), tabA: flat(out.tabA) };
    out.tabAPerThousandEvents = (out.tabA.at(-1).usedSize - out.tabA[0].usedSize) / (events / 1000);
    out.perThousandEvents = (out.events.at(-1).usedSize - out.events[0].usedSize) / (events / 1000);
    out.perCycle = (out.cycles.at(-1).usedSize - out.cycles[0].usedSize) / cycles;
  } finally {
    await worker?.detach();
    await context.close();
  }
  return out;
}
