// The server-hub baseline as browser apps live it: `tabcast serve` on loopback, reached from two
// Chromium pages with fetch (the POSTs, CORS as deployed: `--allow-origin` the bench origin) and
// WebSocket (the notifications). Its own pass, in fresh tabs (stack-notes §9.14: a page path timed
// right after fetch/WebSocket traffic in the same page runs slower), with the floor relay sampled in
// the same loop, so each server round trip is paired with a floor round trip. The in-page hub's
// figure to compare with comes from the same run's pair pass.
import { openTab, splitLegs } from './browser.mjs';

const call = (page, fn, arg) => page.evaluate(([f, a]) => window.bench[f](a), [fn, arg]);

/** One run of the page → serve pass; returns { floor, serve, serveAccepted, floorOneWay, serveOneWay, … } in ms. */
export async function servePagePass(browser, origin, hubUrl, { samples, warmup }, runIndex, log) {
  log(`run ${runIndex + 1}: server hub from Chromium pages (fetch + WebSocket; ${warmup} warm-up + ${samples} round trips, paired with the floor)`);
  const context = await browser.newContext();
  try {
    const a = await openTab(context, origin, 'SA', `&run=${runIndex}&pass=serve`);
    const b = await openTab(context, origin, 'SB', `&run=${runIndex}&pass=serve`);
    const tag = Math.random().toString(36).slice(2, 8);
    const topics = { hubUrl, t1: `bench-page-1-${tag}`, t2: `bench-page-2-${tag}` };
    await call(b, 'serveB', topics);
    await call(a, 'serveA', topics);
    const out = splitLegs(await call(a, 'serveLatency', { samples, warmup }), await b.evaluate(() => window.bench.takeLegStamps()), ['floor', 'serve']);
    out.errors = (await a.evaluate(() => window.benchErrors ?? 0)) + (await b.evaluate(() => window.benchErrors ?? 0));
    return out;
  } finally {
    await context.close();
  }
}
