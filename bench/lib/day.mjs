// The "day" benchmark (issue 12): a radiologist's day on one topic, a new study id on every event
// and no closes, so open contexts pile up as they do in use. At 1, 100, 1,000 and 10,000 distinct
// opens it measures, in the browser, publish → notify (tab A → worker → tab B), publish → 202 and
// the worker's heap; and for `tabcast serve`, POST → 202 with and without `--data`. Every figure
// is also given as a ratio to the one at 1 open context, measured in the same run.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { attachSharedWorker, heapAfterGc } from './cdp.mjs';
import { startServe } from './server-path.mjs';
import { quantile } from './stats.mjs';

// 3,000 is the point HUB-BOUND-01 compares with 100.
export const DAY_POINTS = [1, 100, 1000, 3000, 10_000];

const median = (xs) => (xs.length ? quantile(xs, 0.5) : undefined);

async function openDayTab(context, origin, name) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[day ${name}] page error: ${e.message}`));
  await page.goto(`${origin}/bench/day.html?name=${name}&ctx=day-pass`);
  await page.waitForFunction(() => window.dayReady === true);
  await page.evaluate(() => window.day.connect());
  return page;
}

/** The browser part: one topic, tab A publishing, tab B subscribed, the worker's heap over CDP. */
async function browserDay(browser, origin, { points, samples, wave }, log) {
  const context = await browser.newContext();
  const rows = [];
  let worker;
  try {
    const a = await openDayTab(context, origin, 'A');
    const b = await openDayTab(context, origin, 'B');
    const topic = await a.evaluate(() => window.day.createTopic());
    await b.evaluate((t) => window.day.subscribe(t), topic);
    worker = await attachSharedWorker(browser, { scriptPart: 'tabcast-worker', pageMarker: 'ctx=day-pass' });
    let opened = 0;
    for (const point of points) {
      // `point` distinct studies opened before the samples (the samples open new ones too).
      if (point > opened) {
        log(`day: worker, opening studies ${opened}..${point - 1}`);
        await a.evaluate((arg) => window.day.fill(arg), { topic, from: opened, to: point, wave });
        opened = point;
      }
      await b.evaluate(() => window.day.clearArrivals());
      const measured = await a.evaluate((arg) => window.day.measure(arg), { topic, from: 1_000_000 + opened * 10, samples }); // ids of their own: each checkpoint starts from exactly `point` fill opens
      await new Promise((r) => setTimeout(r, 200));
      const arrivals = await b.evaluate((ids) => window.day.arrivals(ids), measured.map(([id]) => id));
      const notify = measured.map(([, sent], i) => (arrivals[i] == null ? undefined : arrivals[i] - sent)).filter((x) => x !== undefined);
      const heap = await heapAfterGc(worker);
      const inspect = await a.evaluate((t) => window.day.held(t), topic);
      rows.push({ point, notifyMs: median(notify), acceptedMs: median(measured.map(([, , ms]) => ms)), heapBytes: heap.usedSize, heldContexts: inspect, delivered: notify.length });
      log(`day: worker at ${point}: notify ${median(notify)?.toFixed(2)} ms, 202 ${median(measured.map(([, , ms]) => ms)).toFixed(2)} ms, heap ${(heap.usedSize / 1e6).toFixed(2)} MB, holding ${inspect}`);
    }
  } finally {
    await worker?.detach();
    await context.close();
  }
  return rows;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

function post(url, body) {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`POST answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(text);
  });
}

const studyOpen = (topic, n) => ({
  id: `day-${n}-${Math.random().toString(36).slice(2, 8)}`,
  event: {
    'hub.topic': topic,
    'hub.event': 'ImagingStudy-open',
    context: [
      { key: 'study', resource: { resourceType: 'ImagingStudy', id: `st-${n}`, status: 'available', subject: { reference: `Patient/p-${n % 500}` } } },
      { key: 'patient', resource: { resourceType: 'Patient', id: `p-${n % 500}` } },
    ],
  },
});

/**
 * `tabcast serve` POST → 202 at each point. `--max-open-contexts` is raised above the largest
 * point, so the hub really holds every open context: this measures the per-key engine, not the bound.
 */
async function serveDay(lib, { points, samples, wave }, withData, log) {
  const dir = withData ? mkdtempSync(join(os.tmpdir(), 'tabcast-day-')) : undefined;
  const serve = await startServe(lib, ['--ack-timeout-ms', '0', '--heartbeat-ms', '0', '--max-open-contexts', String(Math.max(...points) + samples * points.length + 10), ...(dir ? ['--data', dir] : [])]);
  const rows = [];
  try {
    const topic = 'day-room';
    let opened = 0;
    for (const point of points) {
      while (opened < point) {
        const batch = [];
        for (let k = opened; k < Math.min(point, opened + wave); k++) batch.push(post(serve.hubUrl, studyOpen(topic, k)));
        await Promise.all(batch);
        opened = Math.min(point, opened + wave);
      }
      const times = [];
      for (let i = 0; i < samples; i++) {
        const t0 = performance.now();
        await post(serve.hubUrl, studyOpen(topic, 1_000_000 + point * 10 + i));
        times.push(performance.now() - t0);
      }
      rows.push({ point, acceptedMs: median(times) });
      log(`day: tabcast serve${withData ? ' --data' : ''} at ${point}: POST → 202 ${median(times).toFixed(2)} ms`);
    }
  } finally {
    await serve.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** The whole day pass; `have` says which artefacts exist. */
export async function dayPass(browser, origin, lib, have, cfg, log) {
  const out = { points: cfg.points, samples: cfg.samples };
  if (have.tabcast) out.worker = await browserDay(browser, origin, cfg, log);
  if (have.serve) {
    out.serveMemory = await serveDay(lib, cfg, false, log);
    out.serveData = await serveDay(lib, cfg, true, log);
  }
  return out;
}

const fmt = (x, digits = 2) => (x === undefined ? '–' : x.toFixed(digits));
const ratio = (x, base) => (x === undefined || !base ? '–' : `${(x / base).toFixed(2)}×`);

/** The day table as Markdown: medians and ratios to the 1-context figure of the same run. */
export function dayMarkdown(day) {
  const lines = [
    '| open contexts (distinct opens before) | worker publish → notify | worker publish → 202 | worker heap | held by the worker after the samples | serve POST → 202 (memory) | serve POST → 202 (--data, LMDB) |',
    '|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const w0 = day.worker?.[0];
  const m0 = day.serveMemory?.[0];
  const d0 = day.serveData?.[0];
  day.points.forEach((point, i) => {
    const w = day.worker?.[i];
    const m = day.serveMemory?.[i];
    const d = day.serveData?.[i];
    lines.push(
      `| ${point.toLocaleString('en-US')} | ${fmt(w?.notifyMs)} ms (${ratio(w?.notifyMs, w0?.notifyMs)}) | ${fmt(w?.acceptedMs)} ms (${ratio(w?.acceptedMs, w0?.acceptedMs)}) | ${w ? `${(w.heapBytes / 1e6).toFixed(2)} MB (${ratio(w.heapBytes, w0.heapBytes)})` : '–'} | ${w?.heldContexts ?? '–'} | ${fmt(m?.acceptedMs)} ms (${ratio(m?.acceptedMs, m0?.acceptedMs)}) | ${fmt(d?.acceptedMs)} ms (${ratio(d?.acceptedMs, d0?.acceptedMs)}) |`,
    );
  });
  return lines.join('\n');
}
