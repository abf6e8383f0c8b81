// `npm run bench`: the benchmarks of issue #6 against the built dist/ (Chromium via Playwright, plus
// `tabcast serve` on loopback). Writes bench/results/latest.json, latest.md and latency.svg, and prints
// the summary. Flags:
//   --quick            smoke run (one short run of every section)
//   --runs N           number of runs (default 4, quick 1)
//   --no-profile       skip the CPU-profile pass; --profile adds it to a quick run
//   --build            rebuild dist/ first (it is built anyway when missing)
//   --docs             also write docs/benchmarks.md and docs/latency.svg, with bench/analysis.md appended
//   --only a,b         only these sections: pair, paced, burst, fan, content, serve, bridge, cold, heap, profile, day, stomp
//   --lib DIR          measure another checkout's dist/ and bin/ (e.g. a patched copy); implies no --build
//   --out NAME         write bench/results/NAME.{json,md,svg} instead of latest.*
//   --rerender         rebuild the report from bench/results/<out>.json without measuring
// `npm run bench -- weight` prints only the weight of the built dist/ (bench/lib/weight.mjs);
// `npm run bench -- cluster` runs the cluster section on its own.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchServer } from '../bench/server.mjs';
import { browserRun, coldStarts, launch } from '../bench/lib/browser.mjs';
import { bridgeRun } from '../bench/lib/bridge-pass.mjs';
import { heapPass } from '../bench/lib/heap.mjs';
import { profilePass } from '../bench/lib/profile-pass.mjs';
import { serverLatency, startServe } from '../bench/lib/server-path.mjs';
import { servePagePass } from '../bench/lib/serve-page-pass.mjs';
import { stompAgainstServe, stompInPage, stompSummary } from '../bench/lib/stomp-pass.mjs';
import { perRun, summaryRows, summaryText } from '../bench/lib/report.mjs';
import { renderMarkdown } from '../bench/lib/markdown.mjs';
import { latencyCdfSvg } from '../bench/lib/svg.mjs';
import { watchMachineLoad } from '../bench/lib/machine-load.mjs';
import { measureWeight, weightText } from '../bench/lib/weight.mjs';
import { unconnectedPass, unconnectedText } from '../bench/lib/unconnected.mjs';
import { DAY_POINTS, dayMarkdown, dayPass, daySection } from '../bench/lib/day.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
// `npm run bench -- cluster`: the cluster-mode section (issue 15), on its own (bench/cluster.mjs).
if (argv[0] === 'cluster') {
  await import('../bench/cluster.mjs');
  process.exit(0);
}
// `npm run bench -- weight`: only the weight of the built dist/ (run `npm run build` first), no browser.
if (argv[0] === 'weight') {
  console.log(weightText(measureWeight(fileURLToPath(new URL('../dist', import.meta.url)))));
  process.exit(0);
}
const flag = (name) => argv.includes(name);
const argText = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const option = (name, fallback) => (argText(name) === undefined ? fallback : Number(argText(name)));
const ALL_SECTIONS = ['pair', 'paced', 'burst', 'fan', 'content', 'serve', 'bridge', 'cold', 'heap', 'profile', 'day', 'stomp'];
const sections = new Set(argText('--only')?.split(',') ?? ALL_SECTIONS);
// Issue #19: section `unconnected`, subscribe cost from 1 to 100,000 never-connected subscriptions
// (bench/lib/unconnected.mjs); in every run unless --only leaves it out.
if (!argText('--only')) sections.add('unconnected');
const lib = resolve(argText('--lib', root));
const outName = argText('--out', 'latest');
const quick = flag('--quick');

const CONFIG = quick
  ? {
      mode: 'quick',
      runs: option('--runs', 1),
      pair: { samples: 200, warmup: 50 },
      paced: { samples: 30, warmup: 5, gapMs: 20 },
      burst: { count: 1000, warmup: 200 },
      fan: { sizes: [1, 5, 20], samples: 20, warmup: 5 },
      content: { updates: 20, warmup: 3 },
      serve: { samples: 200, warmup: 50 },
      bridge: { samples: 50, warmup: 10 },
      cold: { count: 3 },
      // Warm-up long enough for V8 to finish compiling the hot path: with 200, the (code) objects of
      // its tier-ups were 213 KB of a +267 KB 'growth' that stopped by 50,000 events (2026-12-05).
      heap: { events: 10_000, cycles: 4, warmup: 1000 },
      profile: flag('--profile') ? { pairSamples: 100, burst: 500, updates: 10 } : undefined,
      day: { points: [1, 100, 1000], samples: 20, wave: 50 },
      stomp: { samples: 100, warmup: 20 },
    }
  : {
      mode: 'full',
      runs: option('--runs', 4),
      pair: { samples: 600, warmup: 100 },
      paced: { samples: 120, warmup: 10, gapMs: 20 },
      burst: { count: 5000, warmup: 300 },
      fan: { sizes: [1, 5, 20], samples: 60, warmup: 10 },
      content: { updates: 100, warmup: 10 },
      serve: { samples: 600, warmup: 100 },
      bridge: { samples: 150, warmup: 30 },
      cold: { count: 20 },
      heap: { events: 100_000, cycles: 20, warmup: 5000 },
      profile: flag('--no-profile') ? undefined : { pairSamples: 300, burst: 2000, updates: 100 },
      day: { points: DAY_POINTS, samples: 60, wave: 50 },
      stomp: { samples: 400, warmup: 50 },
    };

// --rerender: no measuring, just the report (and with --docs the docs) again from bench/results/<out>.json
if (flag('--rerender')) {
  const saved = JSON.parse(readFileSync(join(root, 'bench/results', `${outName}.json`), 'utf8'));
  publishResults(saved);
  process.exit(0);
}

const started = Date.now();
const log = (msg) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);

// ---- the built artefacts --------------------------------------------------------------------

if (lib === root && (flag('--build') || !existsSync(join(lib, 'dist/tabcast.iife.js')))) {
  log('building dist/ (npm run build)');
  const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) log('build failed: measuring what exists');
}
// Measure a private copy: a rebuild of dist/ by someone else during the run cannot pull files away.
const distDir = mkdtempSync(join(os.tmpdir(), 'tabcast-bench-dist-'));
if (existsSync(join(lib, 'dist'))) cpSync(join(lib, 'dist'), distDir, { recursive: true, preserveTimestamps: true });
const dist = (f) => join(distDir, f);
const have = {
  tabcast: existsSync(dist('tabcast.iife.js')) && existsSync(dist('tabcast-worker.js')),
  serve: existsSync(join(lib, 'bin/tabcast.js')) && existsSync(dist('tabcast-server.js')),
};
CONFIG.tabcast = have.tabcast;
CONFIG.sections = [...sections];
if (lib !== root) log(`measuring the library at ${lib}`);
if (!have.tabcast) log('dist/tabcast.iife.js or dist/tabcast-worker.js missing: floor only');
if (!have.serve) log('bin/tabcast.js or dist/tabcast-server.js missing: no server-hub pass');

// ---- the machine ----------------------------------------------------------------------------

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumVersion = (spawnSync(chromiumPath, ['--version'], { encoding: 'utf8' }).stdout ?? '').trim().split('\n').pop();
const machineLoad = watchMachineLoad();
if (os.loadavg()[0] > 1.5) log(`load average ${os.loadavg()[0].toFixed(2)}: the machine is busy, expect noisy figures`);
const meta = {
  date: new Date().toISOString(),
  mode: CONFIG.mode,
  machine: {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    chromium: chromiumVersion,
  },
  dist: have.tabcast ? { builtAt: statSync(dist('tabcast-worker.js')).mtime.toISOString(), lib: lib === root ? 'dist/' : lib } : undefined,
  config: CONFIG,
};

// ---- the passes -----------------------------------------------------------------------------

const server = await startBenchServer({ distDir });
const browser = await launch();
let serve;
const raw = { runs: [], server: [], bridge: [], servePage: [] };
const extra = {};
try {
  if (have.serve && (sections.has('serve') || sections.has('bridge') || sections.has('stomp'))) {
    serve = await startServe(lib, ['--allow-origin', server.origin]).catch((e) => {
      log(`tabcast serve did not start: ${e.message.split('\n')[0]}`);
      return undefined;
    });
    if (serve) log(`tabcast serve at ${serve.hubUrl}`);
  }
  for (let r = 0; r < CONFIG.runs; r++) {
    const runStart = Math.round((Date.now() - started) / 1000);
    raw.runs.push(await browserRun(browser, server.origin, CONFIG, r, log));
    raw.runs[r].window = [runStart];
    if (serve && sections.has('serve')) {
      raw.servePage.push(await servePagePass(browser, server.origin, serve.hubUrl, CONFIG.serve, r, log));
      log(`run ${r + 1}: server hub from Node clients (${CONFIG.serve.warmup} warm-up + ${CONFIG.serve.samples} round trips, own pass)`);
      raw.server.push(await serverLatency(serve.hubUrl, CONFIG.serve));
    }
    if (serve && have.tabcast && sections.has('bridge')) {
      const b = await bridgeRun(browser, server.origin, serve.hubUrl, CONFIG.bridge, r, log);
      if (b) raw.bridge.push(b);
    }
    raw.runs[r].window.push(Math.round((Date.now() - started) / 1000));
  }
  // Issue 13: STOMP against the STU3 WebSocket, paired in one pass, in the page and against serve.
  if (have.tabcast && sections.has('stomp')) {
    log(`STOMP vs STU3 WebSocket (${CONFIG.stomp.warmup} warm-up + ${CONFIG.stomp.samples} paired round trips, in the page and against serve)`);
    extra.stomp = { inPage: await stompInPage(browser, server.origin, CONFIG.stomp), serve: serve ? await stompAgainstServe(serve.hubUrl, CONFIG.stomp) : undefined };
  }
  if (sections.has('cold')) extra.cold = await coldStarts(browser, server.origin, { count: CONFIG.cold.count, tabcast: have.tabcast }, log);
  if (have.tabcast && sections.has('heap')) extra.heap = await heapPass(browser, server.origin, CONFIG.heap, log);
  if (have.tabcast && CONFIG.profile && sections.has('profile')) extra.profile = await profilePass(browser, server.origin, distDir, CONFIG.profile, log);
  if (have.serve && sections.has('unconnected')) {
    const sizes = quick ? [1, 1000, 10_000] : [1, 1000, 10_000, 100_000];
    extra.unconnected = await unconnectedPass(lib, { sizes, window: option('--unconnected-window', 1000), concurrency: 8 }, log);
  }
  if (sections.has('day')) extra.day = await dayPass(browser, server.origin, lib, have, CONFIG.day, log);
} finally {
  meta.load = machineLoad.stop();
  await browser.close();
  await server.close();
  await serve?.close();
}
extra.weight = measureWeight(distDir);
rmSync(distDir, { recursive: true, force: true });
extra.burstCount = CONFIG.burst.count;

meta.durationSeconds = Math.round((Date.now() - started) / 1000);

// ---- results --------------------------------------------------------------------------------

publishResults({ meta, raw, extra });

/** Figures, summary, chart and report from the raw samples; writes them and prints the summary. */
function publishResults({ meta, raw, extra }) {
  const runs = raw.runs.map((run, i) => {
    const r = perRun(run, raw.server[i], raw.bridge[i], raw.servePage?.[i]);
    const [from, to] = run.window ?? [];
    const during = meta.load.samples.filter((x) => x.t >= from && x.t <= to + 5 && Number.isFinite(x.foreignCores));
    r.foreignCores = during.length ? during.reduce((a, x) => a + x.foreignCores, 0) / during.length : undefined;
    return r;
  });
  const rows = summaryRows(runs, extra);
  const pooled = (key) => raw.runs.flatMap((r) => r.pair[key]);
  const chartSeries = [
    { name: 'floor (raw MessagePort relay)', samples: pooled('floor') },
    { name: 'tabcast (SharedWorker hub, IndexedDB on)', samples: pooled('tabcast') },
    { name: 'tabcast serve from Chromium pages (fetch + WebSocket)', samples: (raw.servePage ?? []).flatMap((s) => s.serve) },
    { name: 'tabcast serve from Node clients (http + ws)', samples: raw.server.flatMap((s) => s.tabcastServe) },
    { name: 'bridge (tab → worker → serve → worker → tab)', samples: raw.bridge.flatMap((s) => s.bridge) },
  ];
  const svg = latencyCdfSvg(chartSeries, {
    title: 'FHIRcast ImagingStudy-open round trip: floor vs tabcast vs server hub',
    subtitle: `${meta.machine.cores} cores, Node ${meta.machine.node}, ${meta.machine.chromium}; ${meta.config.runs} run(s) pooled; ${meta.date.slice(0, 10)}`,
  });
  const results = { meta, summary: rows, runs, raw, extra };
  const outDir = join(root, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${outName}.json`), JSON.stringify(results, null, 1));
  writeFileSync(join(outDir, outName === 'latest' ? 'latency.svg' : `${outName}.svg`), svg);
  // With --docs the hand-written reading of the numbers (bench/analysis.md) goes into both copies.
  const analysisFile = join(root, 'bench/analysis.md');
  const analysis = flag('--docs') && existsSync(analysisFile) ? readFileSync(analysisFile, 'utf8') : undefined;
  const md = renderMarkdown(results, { analysis }) + (extra.day ? daySection(extra.day, meta) : '');
  writeFileSync(join(outDir, `${outName}.md`), md);
  if (flag('--docs')) {
    writeFileSync(join(root, 'docs/benchmarks.md'), md);
    writeFileSync(join(root, 'docs/latency.svg'), svg);
  }
  const foreign = meta.load.foreignCores;
  console.log(`\ntabcast benchmarks (${meta.config.mode}, ${meta.config.runs} run(s), ${meta.durationSeconds} s; load average ${meta.load.load1.start.toFixed(2)} at the start${foreign ? `; other processes used ${foreign.mean.toFixed(2)} cores on average, ${foreign.max.toFixed(2)} at most` : ''})\n`);
  if (extra.unconnected) console.log(`${unconnectedText(extra.unconnected)}\n`);
  console.log(summaryText(rows));
  if (extra.day) {
    const dayTable = dayMarkdown(extra.day);
    writeFileSync(join(outDir, `${outName}-day.md`), `${dayTable}\n`);
    console.log(`\nday: a new study id on every event (medians; ratio to 1 open context)\n${dayTable}`);
  }
  if (extra.stomp) console.log(`\n${stompSummary(extra.stomp)}`);
  console.log(`\nwrote bench/results/${outName}.json, ${outName}.md, ${outName === 'latest' ? 'latency' : outName}.svg${flag('--docs') ? ', docs/benchmarks.md, docs/latency.svg' : ''}`);
}
