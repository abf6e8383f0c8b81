// Chromium for the benchmark: launch, tabs, and the in-browser passes (pair latency, burst,
// fan-out, content sharing). Each run gets a fresh browser context, so a fresh SharedWorker and
// a fresh IndexedDB (stack-notes pitfall 5).
import { chromium } from 'playwright';
import { quantile } from './stats.mjs';

export const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_FLAGS });
}

/** Opens a bench tab and waits for its module to load. */
export async function openTab(context, origin, name, extra = '') {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${name}] page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`[${name}] ${m.text()}`);
  });
  await page.goto(`${origin}/bench/tab.html?name=${encodeURIComponent(name)}${extra}`);
  await page.waitForFunction(() => window.benchReady === true);
  return page;
}

const call = (page, fn, arg) => page.evaluate(([f, a]) => window.bench[f](a), [fn, arg]);

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Splits round trips into their legs with the stamps of both tabs (`performance.timeOrigin + now()`):
 * `<path>OneWay` = A's send → B's callback, `<path>Back` = B's echo send → A has it. Each renderer
 * converts its monotonic clock to epoch time on its own, so two tabs can disagree by a constant
 * (0.01 to 0.5 ms seen). The floor relay is symmetric, so half the difference of its median
 * legs is that offset; every leg is corrected by it (`clockOffsetMs`: B's clock minus A's).
 */
export function splitLegs(pair, stampsOfB, paths = ['floor', 'tabcast']) {
  const raw = {};
  for (const path of paths) {
    const one = [];
    const back = [];
    for (const [id, sent, done] of pair.stamps?.[path] ?? []) {
      const b = stampsOfB[id];
      if (!b) continue;
      one.push(b[0] - sent);
      back.push(done - b[1]);
    }
    raw[path] = { one, back };
  }
  const offset = raw.floor.one.length ? (quantile(raw.floor.one, 0.5) - quantile(raw.floor.back, 0.5)) / 2 : 0;
  for (const path of paths) {
    pair[`${path}OneWay`] = raw[path].one.map((x) => x - offset);
    pair[`${path}Back`] = raw[path].back.map((x) => x + offset);
  }
  pair.clockOffsetMs = offset;
  delete pair.stamps;
  return pair;
}

/**
 * One in-browser run: pair latency, bursts, fan-out to 1/5/20 tabs, content sharing.
 * Returns raw samples; `tabcast` false runs the floor alone (library not built yet).
 */
export async function browserRun(browser, origin, cfg, runIndex, log) {
  const has = (section) => !cfg.sections || cfg.sections.includes(section);
  const out = { run: runIndex, pair: { floor: [], tabcast: [], tabcastAccepted: [] } };
  if (!['pair', 'paced', 'burst', 'fan', 'content'].some(has)) return out;
  const context = await browser.newContext();
  try {
    const a = await openTab(context, origin, 'A', `&run=${runIndex}`);
    const b = await openTab(context, origin, 'B', `&run=${runIndex}`);
    const tabcast = cfg.tabcast && (await a.evaluate(() => window.bench.hasTabcast()));
    out.isolated = await a.evaluate(() => window.bench.isolated());
    const t1 = tabcast ? await call(a, 'createTopic') : 'bench-floor-1';
    const t2 = tabcast ? await call(a, 'createTopic') : 'bench-floor-2';
    await call(b, 'pairB', { t1, t2, tabcast });
    await call(a, 'pairA', { t1, t2, tabcast });

    if (has('pair')) {
      log(`run ${runIndex + 1}: pair latency (${cfg.pair.warmup} warm-up + ${cfg.pair.samples} paired samples)`);
      out.pair = splitLegs(await call(a, 'pairLatency', { samples: cfg.pair.samples, warmup: cfg.pair.warmup, tabcast }), await b.evaluate(() => window.bench.takeLegStamps()));
      await pause(300);
    }
    if (has('paced')) {
      log(`run ${runIndex + 1}: paced latency (${cfg.paced.samples} paired samples, ${cfg.paced.gapMs} ms apart)`);
      out.paced = splitLegs(await call(a, 'pairLatency', { samples: cfg.paced.samples, warmup: cfg.paced.warmup, tabcast, gapMs: cfg.paced.gapMs }), await b.evaluate(() => window.bench.takeLegStamps()));
      await pause(200);
    }
    if (has('burst')) await bursts(a, b, cfg, runIndex, tabcast, out, log);
    if (has('fan')) await fanOut(context, origin, a, cfg, runIndex, tabcast, out, log);
    if (has('content')) await contentSharing(a, b, cfg, runIndex, tabcast, out, log);
    out.errors = (await a.evaluate(() => window.benchErrors ?? 0)) + (await b.evaluate(() => window.benchErrors ?? 0));
  } finally {
    await context.close();
  }
  return out;
}

async function bursts(a, b, cfg, runIndex, tabcast, out, log) {
  log(`run ${runIndex + 1}: bursts of ${cfg.burst.count}`);
  out.burst = {};
  const kinds = tabcast ? (runIndex % 2 === 0 ? ['floor', 'tabcast'] : ['tabcast', 'floor']) : ['floor'];
  // a small warm-up burst of each kind first, then the measured ones
  for (const kind of kinds) {
    await b.evaluate((n) => window.bench.pairMode('count', n), cfg.burst.warmup);
    await call(a, 'burst', { kind, count: cfg.burst.warmup });
  }
  for (const kind of kinds) {
    await b.evaluate((n) => window.bench.pairMode('count', n), cfg.burst.count);
    await pause(200);
    out.burst[kind] = await call(a, 'burst', { kind, count: cfg.burst.count });
  }
  await b.evaluate(() => window.bench.pairMode('echo'));
  await pause(300);
}

async function fanOut(context, origin, a, cfg, runIndex, tabcast, out, log) {
  log(`run ${runIndex + 1}: fan-out to ${cfg.fan.sizes.join('/')} tabs`);
  const maxN = Math.max(...cfg.fan.sizes);
  const subsTabs = [];
  for (let i = 0; i < maxN; i++) subsTabs.push(await openTab(context, origin, `S${i}`, `&run=${runIndex}`));
  out.fan = {};
  for (const n of cfg.fan.sizes) {
    const group = `fan-${n}`;
    const topic = tabcast ? await call(a, 'createTopic') : `bench-${group}`;
    for (let i = 0; i < n; i++) await call(subsTabs[i], 'fanJoin', { index: i, group, topic, events: ['ImagingStudy-open'], tabcast });
    await call(a, 'fanInit', { group, indices: [...Array(n).keys()], tabcast });
    out.fan[n] = await call(a, 'fanLatency', { group, topic, n, samples: cfg.fan.samples, warmup: cfg.fan.warmup, tabcast });
    for (let i = 0; i < n; i++) await call(subsTabs[i], 'fanLeave', { group });
    await pause(200);
  }
}

async function contentSharing(a, b, cfg, runIndex, tabcast, out, log) {
  log(`run ${runIndex + 1}: content sharing (${cfg.content.updates} DiagnosticReport-updates of 20 entries)`);
  const events = ['DiagnosticReport-open', 'DiagnosticReport-update'];
  for (const [group, updates, key] of [
    ['content-warm', cfg.content.warmup, 'contentWarmup'],
    ['content', cfg.content.updates, 'content'],
  ]) {
    const topic = tabcast ? await call(a, 'createTopic') : `bench-${group}`;
    await call(b, 'fanJoin', { index: 99, group, topic, events, tabcast });
    await call(a, 'fanInit', { group, indices: [99], tabcast });
    const r = await call(a, 'fanLatency', { group, topic, n: 1, samples: updates, warmup: 0, payload: 'update', tabcast });
    if (key === 'content') out.content = r;
    await call(b, 'fanLeave', { group });
  }
}

/** Cold start: `count` fresh contexts per page kind, interleaved; in-page marks in ms since navigation start. */
export async function coldStarts(browser, origin, { count, tabcast }, log) {
  const out = { floor: [], tabcast: [], floorWall: [], tabcastWall: [], tabcastConnected: [] };
  const kinds = tabcast ? ['floor', 'tabcast'] : ['floor'];
  log(`cold start: ${count} fresh contexts per kind`);
  for (let i = 0; i < count + 1; i++) {
    const order = i % 2 === 0 ? kinds : [...kinds].reverse();
    for (const kind of order) {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const t0 = Date.now();
        await page.goto(`${origin}/bench/cold-${kind}.html?i=${i}`);
        const marks = await page.waitForFunction(() => window.benchCold, undefined, { timeout: 20_000 }).then((h) => h.jsonValue());
        const wall = Date.now() - t0;
        if (marks.error) throw new Error(`cold start ${kind}: ${marks.error}`);
        if (i === 0) continue; // the first pair warms the browser's caches and processes
        out[kind].push(marks.subscribed);
        out[`${kind}Wall`].push(wall);
        if (kind === 'tabcast') out.tabcastConnected.push(marks.connected);
      } finally {
        await context.close();
      }
    }
  }
  return out;
}
