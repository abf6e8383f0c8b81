// From raw samples to figures: per-run statistics, min/median/max across runs, ratios to the
// baseline of the same run, the summary table and the Markdown report.
import { quantile, ratio, spread, summarize } from './stats.mjs';

const med = (xs) => quantile(xs, 0.5);

/** Per-run figures from one browser run, one server run (node clients), one bridge run and one page → serve run. */
export function perRun(run, server, bridge, servePage) {
  const r = { run: run.run };
  const p = run.pair;
  r.floor = summarize(p.floor);
  r.floorOneWay = summarize(p.floorOneWay);
  if (p.tabcastOneWay?.length) {
    r.tabcastOneWay = summarize(p.tabcastOneWay);
    r.oneWayRatio = ratio(r.tabcastOneWay.median, r.floorOneWay?.median);
    r.oneWayRatioP99 = ratio(r.tabcastOneWay.p99, r.floorOneWay?.p99);
  }
  if (p.tabcast?.length) {
    r.tabcast = summarize(p.tabcast);
    r.tabcastAccepted = summarize(p.tabcastAccepted);
    r.ratioMedian = ratio(r.tabcast.median, r.floor.median);
    r.ratioP95 = ratio(r.tabcast.p95, r.floor.p95);
    r.ratioP99 = ratio(r.tabcast.p99, r.floor.p99);
  }
  if (run.paced?.tabcastOneWay?.length) {
    r.pacedFloorOneWay = summarize(run.paced.floorOneWay);
    r.pacedOneWay = summarize(run.paced.tabcastOneWay);
    r.pacedOneWayRatio = ratio(r.pacedOneWay.median, r.pacedFloorOneWay?.median);
    r.pacedFloor = summarize(run.paced.floor);
    r.pacedTabcast = summarize(run.paced.tabcast);
    r.pacedRatio = ratio(r.pacedTabcast.median, r.pacedFloor?.median);
  }
  const rate = (b, ms) => (b ? (b.count / ms) * 1000 : NaN);
  if (run.burst?.floor) {
    r.burstFloor = rate(run.burst.floor, run.burst.floor.ms);
  }
  if (run.burst?.tabcast) {
    r.burstTabcast = rate(run.burst.tabcast, run.burst.tabcast.ms);
    r.burstTabcastDurable = rate(run.burst.tabcast, run.burst.tabcast.acceptedMs);
    r.burstRatio = ratio(r.burstTabcast, r.burstFloor);
    r.burstDurableRatio = ratio(r.burstTabcastDurable, r.burstFloor);
  }
  r.fan = {};
  for (const [n, f] of Object.entries(run.fan ?? {})) {
    const x = { floor: summarize(f.floor) };
    if (f.tabcast?.length) {
      x.tabcast = summarize(f.tabcast);
      x.ratio = ratio(x.tabcast.median, x.floor.median);
    }
    r.fan[n] = x;
  }
  if (run.content) {
    const c = run.content;
    r.content = { floor: summarize(c.floor) };
    if (c.tabcast?.length) {
      r.content.tabcast = summarize(c.tabcast);
      r.content.accepted = summarize(c.tabcastAccepted);
      r.content.ratio = ratio(r.content.tabcast.median, r.content.floor.median);
      r.content.first10 = med(c.tabcast.slice(0, 10));
      r.content.last10 = med(c.tabcast.slice(-10));
      r.content.acceptedFirst10 = med(c.tabcastAccepted.slice(0, 10));
      r.content.acceptedLast10 = med(c.tabcastAccepted.slice(-10));
    }
  }
  if (server?.tabcastServe?.length) {
    r.serve = summarize(server.tabcastServe);
    r.serveAccepted = summarize(server.tabcastServeAccepted);
    r.serveRatio = ratio(r.serve.median, r.tabcast?.median);
    r.serveOneWay = summarize(server.tabcastServeOneWay);
    r.serveOneWayRatio = ratio(r.serveOneWay?.median, r.tabcastOneWay?.median);
    r.serveFloorRatio = ratio(r.serveOneWay?.median, r.floorOneWay?.median);
  }
  if (servePage?.serve?.length) {
    // tabcast serve from Chromium pages: paired with the floor in its own pass, compared with the in-page hub of this run
    r.pageServe = summarize(servePage.serve);
    r.pageServeAccepted = summarize(servePage.serveAccepted);
    r.pageServeFloor = summarize(servePage.floor);
    r.pageServeOneWay = summarize(servePage.serveOneWay);
    r.pageServeRatio = ratio(r.pageServe.median, r.tabcast?.median);
    r.pageServeOneWayRatio = ratio(r.pageServeOneWay?.median, r.tabcastOneWay?.median);
    r.pageServeFloorRatio = ratio(r.pageServe.median, r.pageServeFloor.median);
  }
  if (bridge?.bridge?.length) {
    r.bridge = summarize(bridge.bridge);
    r.bridgeRatio = ratio(r.bridge.median, r.tabcast?.median);
  }
  return r;
}

const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
const across = (runs, path) => spread(runs.map((r) => get(r, path)));

/** Summary rows: each figure with its baseline of the same run and the ratio, min/median/max across runs. */
export function summaryRows(runs, extra) {
  const rows = [];
  const add = (row) => rows.push(row);
  const lat = (label, path, basePath, baseName, ratioPath, target, lowerIsBetter = true) => {
    const value = across(runs, path);
    if (!value.runs) return;
    const r = ratioPath ? across(runs, ratioPath) : undefined;
    add({ label, unit: 'ms', value, baseline: basePath ? across(runs, basePath) : undefined, baselineName: baseName, ratio: r, target, met: target ? target.check(r ?? value) : undefined, lowerIsBetter });
  };
  const within = (limit, stretch) => ({ text: `≤ ${limit}×${stretch ? ` (stretch ${stretch}×)` : ''}`, check: (r) => r.median <= limit });
  const atLeast = (limit) => ({ text: `≥ ${limit}×`, check: (r) => r.median >= limit });

  lat('floor: raw relay one-way A → B, median', 'floorOneWay.median');
  lat('floor: raw relay one-way, p95', 'floorOneWay.p95');
  lat('floor: raw relay one-way, p99', 'floorOneWay.p99');
  lat('tabcast publish (A) → notification (B), median', 'tabcastOneWay.median', 'floorOneWay.median', 'floor', 'oneWayRatio', within(1.5, 1.25));
  lat('tabcast publish → notification, p95', 'tabcastOneWay.p95', 'floorOneWay.p95', 'floor');
  lat('tabcast publish → notification, p99', 'tabcastOneWay.p99', 'floorOneWay.p99', 'floor', 'oneWayRatioP99');
  lat('floor: raw relay round trip, median', 'floor.median');
  lat('floor: raw relay round trip, p95', 'floor.p95');
  lat('floor: raw relay round trip, p99', 'floor.p99');
  lat('tabcast round trip (publish → notify, twice), median', 'tabcast.median', 'floor.median', 'floor', 'ratioMedian', within(1.5, 1.25));
  lat('tabcast round trip, p95', 'tabcast.p95', 'floor.p95', 'floor', 'ratioP95');
  lat('tabcast round trip, p99', 'tabcast.p99', 'floor.p99', 'floor', 'ratioP99');
  lat('tabcast publish → 202 (durable), median', 'tabcastAccepted.median', 'floor.median', 'floor', undefined);
  lat('paced (one event per 20 ms): publish → notification, median', 'pacedOneWay.median', 'pacedFloorOneWay.median', 'floor, paced', 'pacedOneWayRatio', within(1.5, 1.25));
  lat('paced: round trip, median', 'pacedTabcast.median', 'pacedFloor.median', 'floor, paced', 'pacedRatio', within(1.5, 1.25));
  const burst = (label, path, ratioPath, target) => {
    const value = across(runs, path);
    if (!value.runs) return;
    const r = ratioPath ? across(runs, ratioPath) : undefined;
    add({ label, unit: 'msgs/s', value, baseline: ratioPath ? across(runs, 'burstFloor') : undefined, baselineName: ratioPath ? 'floor' : undefined, ratio: r, target, met: target ? target.check(r) : undefined, lowerIsBetter: false });
  };
  burst(`floor burst of ${(extra.burstCount ?? 5000).toLocaleString('en-US')}`, 'burstFloor');
  burst('tabcast burst (last notification in B)', 'burstTabcast', 'burstRatio', atLeast(0.5));
  burst('tabcast burst (last 202, all durable)', 'burstTabcastDurable', 'burstDurableRatio');
  for (const n of Object.keys(runs[0]?.fan ?? {})) {
    lat(`fan-out to ${n} tab${n === '1' ? '' : 's'}: last tab has it, median`, `fan.${n}.tabcast.median`, `fan.${n}.floor.median`, 'floor', `fan.${n}.ratio`);
  }
  lat('content sharing: per DiagnosticReport-update (B has it), median', 'content.tabcast.median', 'content.floor.median', 'floor', 'content.ratio');
  lat('content sharing: per update → 202 (durable), median', 'content.accepted.median', 'content.floor.median', 'floor');
  lat('server hub from Chromium pages (tabcast serve; fetch + WebSocket, CORS): round trip, median', 'pageServe.median', 'tabcast.median', 'tabcast in-browser', 'pageServeRatio', atLeast(5));
  lat('  the same: publish → notification, median', 'pageServeOneWay.median', 'tabcastOneWay.median', 'tabcast in-browser', 'pageServeOneWayRatio', atLeast(5));
  lat('  the same round trip over the floor sampled with it (own pass)', 'pageServe.median', 'pageServeFloor.median', 'floor, serve pass', 'pageServeFloorRatio');
  lat('  the same: publish → 202, median', 'pageServeAccepted.median', 'tabcastAccepted.median', 'tabcast in-browser');
  lat('server hub from Node clients (tabcast serve, http + ws in node): publish → notification, median', 'serveOneWay.median', 'tabcastOneWay.median', 'tabcast in-browser', 'serveOneWayRatio');
  lat('  the same, over the floor (the most any in-browser hub could reach)', 'serveOneWay.median', 'floorOneWay.median', 'floor', 'serveFloorRatio');
  lat('server hub from Node clients: round trip, median', 'serve.median', 'tabcast.median', 'tabcast in-browser', 'serveRatio');
  lat('server hub from Node clients: round trip, p99', 'serve.p99', 'tabcast.p99', 'tabcast in-browser');
  lat('bridge round trip, median', 'bridge.median', 'tabcast.median', 'tabcast in-browser', 'bridgeRatio');
  if (extra.cold?.tabcast?.length) {
    const v = spread(extra.cold.tabcast);
    const base = spread(extra.cold.floor);
    add({ label: `cold start: page load → first subscription confirmed (${extra.cold.tabcast.length} fresh contexts)`, unit: 'ms', value: v, baseline: base, baselineName: 'floor page → relay hello', ratio: { min: NaN, median: ratio(v.median, base.median), max: NaN, runs: 1 }, lowerIsBetter: true, single: true });
  } else if (extra.cold?.floor?.length) {
    add({ label: 'cold start: floor page → relay hello', unit: 'ms', value: spread(extra.cold.floor), single: true });
  }
  for (const w of extra.weight ?? []) {
    if (!w.exists || !w.budget) continue;
    add({ label: `weight: ${w.file}${w.parts?.length > 1 ? ' (first load)' : ''} (gzip -9)`, unit: 'KB', value: { min: w.gzip / 1024, median: w.gzip / 1024, max: w.gzip / 1024, runs: 1 }, baseline: { median: w.budget / 1024 }, baselineName: 'budget', ratio: { median: w.gzip / w.budget }, target: { text: `≤ ${w.budget / 1024} KB` }, met: w.gzip <= w.budget, single: true });
  }
  if (extra.heap?.events?.length) {
    for (const [label, series, flatText] of [
      [`worker heap after ${extra.heap.events.at(-1).at}`, extra.heap.events, 'flat'],
      [`worker heap after ${extra.heap.cycles.at(-1)?.count ?? 0} tab subscribe/close cycles`, extra.heap.cycles, 'flat'],
      [`publishing tab's heap after ${extra.heap.events.at(-1).at}`, extra.heap.tabA, 'flat'],
    ]) {
      if (!series?.length) continue;
      const first = series[0];
      const last = series[series.length - 1];
      const grow = last.usedSize - first.usedSize;
      add({
        label,
        unit: 'MB',
        value: { median: last.usedSize / 1048576, runs: 1 },
        baseline: { median: first.usedSize / 1048576 },
        baselineName: `heap at ${first.at}`,
        ratio: { median: last.usedSize / first.usedSize },
        target: { text: flatText },
        met: extra.heap.flat?.[label.startsWith('publishing') ? 'tabA' : label.includes('events') ? 'events' : 'cycles'],
        single: true,
        note: `${grow >= 0 ? '+' : ''}${(grow / 1024).toFixed(0)} KB`,
      });
    }
  }
  return rows;
}

const fmt = (x, unit) => {
  if (!Number.isFinite(x)) return '–';
  if (unit === 'msgs/s') return Math.round(x).toLocaleString('en-US');
  if (unit === 'KB' || unit === 'MB') return x.toFixed(2);
  return x < 10 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1);
};
const fmtRatio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');
const range = (s, unit) => (s.single || !Number.isFinite(s.min) || s.runs <= 1 ? fmt(s.median, unit) : `${fmt(s.median, unit)} (${fmt(s.min, unit)}–${fmt(s.max, unit)})`);

/** The summary table as Markdown: figure, value, baseline, ratio, target. */
export function summaryMarkdown(rows) {
  const lines = ['| figure | value: median of runs (min–max) | baseline, same run | ratio (min–max) | target | met |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    const value = `${range({ ...r.value, single: r.single }, r.unit)} ${r.unit}${r.note ? ` (${r.note})` : ''}`;
    const base = r.baseline ? `${r.baselineName}: ${range({ ...r.baseline, single: r.single }, r.unit)} ${r.unit}` : '';
    const rat = r.ratio ? (r.single || r.ratio.runs <= 1 || !Number.isFinite(r.ratio.min) ? fmtRatio(r.ratio.median) : `${fmtRatio(r.ratio.median)} (${fmtRatio(r.ratio.min)}–${fmtRatio(r.ratio.max)})`) : '';
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
    lines.push(`| ${r.label} | ${value} | ${base} | ${rat} | ${r.target?.text ?? ''} | ${met} |`);
  }
  return lines.join('\n');
}

/** A plain-text version of the summary for the terminal. */
export function summaryText(rows) {
  const table = rows.map((r) => [
    r.label.length > 62 ? `${r.label.slice(0, 61)}…` : r.label,
    `${range({ ...r.value, single: r.single }, r.unit)} ${r.unit}`,
    r.ratio ? fmtRatio(r.ratio.median) : '',
    r.target?.text ?? '',
    r.met === undefined ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const head = ['figure', 'value (median of runs, min–max)', 'ratio', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...table.map(line)].join('\n');
}

/** Per-run table of the main figures, so the spread across runs is visible. */
export function perRunMarkdown(runs) {
  const lines = [
    '| run | floor median / p95 / p99 (ms) | tabcast median / p95 / p99 (ms) | ratio (median) | one-way floor / tabcast (ms) | floor burst (msgs/s) | tabcast burst notify / durable (msgs/s) | server from pages median (ms) | server from node median (ms) | bridge median (ms) | other processes (cores) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of runs) {
    const three = (s) => (s ? `${fmt(s.median)} / ${fmt(s.p95)} / ${fmt(s.p99)}` : '–');
    lines.push(
      `| ${r.run + 1} | ${three(r.floor)} | ${three(r.tabcast)} | ${fmtRatio(r.ratioMedian)} | ${fmt(r.floorOneWay?.median)} / ${fmt(r.tabcastOneWay?.median)} | ${fmt(r.burstFloor, 'msgs/s')} | ${fmt(r.burstTabcast, 'msgs/s')} / ${fmt(r.burstTabcastDurable, 'msgs/s')} | ${fmt(r.pageServe?.median)} | ${fmt(r.serve?.median)} | ${fmt(r.bridge?.median)} | ${Number.isFinite(r.foreignCores) ? r.foreignCores.toFixed(2) : '–'} |`,
    );
  }
  return lines.join('\n');
}

/** Fan-out and content-sharing details per size. */
export function fanMarkdown(runs) {
  const sizes = Object.keys(runs[0]?.fan ?? {});
  if (!sizes.length) return '';
  const lines = ['| subscribing tabs | floor median (ms) | tabcast median (ms) | tabcast p95 (ms) | ratio (median) |', '| --- | --- | --- | --- | --- |'];
  for (const n of sizes) {
    const s = (p) => range(across(runs, p), 'ms');
    lines.push(`| ${n} | ${s(`fan.${n}.floor.median`)} | ${s(`fan.${n}.tabcast.median`)} | ${s(`fan.${n}.tabcast.p95`)} | ${fmtRatio(across(runs, `fan.${n}.ratio`).median)} |`);
  }
  return lines.join('\n');
}

export { fmt, fmtRatio, range, across };
