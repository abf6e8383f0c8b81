// bench/results/latest.md (and docs/benchmarks.md): the whole run in readable form.
import { quantile, spread } from './stats.mjs';
import { across, fanMarkdown, fmt, fmtRatio, perRunMarkdown, range, summaryMarkdown } from './report.mjs';

const kb = (b) => `${(b / 1024).toFixed(2)} KB`;
const mb = (b) => `${(b / 1048576).toFixed(2)} MB`;
const pct = (x) => `${(x * 100).toFixed(1)} %`;

function methodText(meta) {
  const c = meta.config;
  return `- **Pages.** A small static server of the benchmark's own (bench/server.mjs) serves \`/tabcast/*\` from the built \`dist/\` and \`/bench/*\` from bench/pages, with COOP \`same-origin\` + COEP \`require-corp\`, so the pages are cross-origin isolated and \`performance.now()\` has 5 µs steps. Playwright (library API) drives Debian's Chromium with \`--no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run\`. All timing is done in tab A with \`performance.now()\` (the server pass: in node with \`performance.now()\`); no cross-process clocks.
- **Event.** \`ImagingStudy-open\` with full Patient, Encounter and ImagingStudy resources: 2.1 KB as a request, 2.26 KB as the notification frame (bench/pages/payloads.js). The floor relays the notification frame as an object (structured clone), the form a subscriber gets.
- **Floor.** bench/pages/floor-worker.js: a SharedWorker that forwards whatever a \`pub\` port sends to the \`sub\` ports of its group and back, nothing else. Each tab waits for the worker's answer to its hello before it uses the port (stack-notes pitfall 14).
- **tabcast path.** The real client API of \`dist/tabcast.iife.js\`, loaded by a script tag; the real \`dist/tabcast-worker.js\` with IndexedDB persistence on. Tab A publishes to topic T1, tab B is subscribed to T1 and publishes the same event to T2 from its callback, tab A is subscribed to T2. One round trip = publish → notify twice, the same four hops as the floor's A → worker → B → worker → A. Each tabcast sample also waits (untimed) for A's own 202 and for B's echo to be durable before the next sample starts, so no sample runs into the previous one's IndexedDB writes; the 202 time is reported separately.
- **One-way legs.** Both tabs stamp every leg with \`performance.timeOrigin + performance.now()\`: "publish → notification" is A's \`hub.publish()\` call → B's callback (floor: A's \`postMessage\` → B has the deserialized data). Renderers convert their monotonic clocks to epoch time separately and can disagree by a constant (≈ 0.1 ms seen); the floor relay is symmetric, so half the difference of its median legs gives that offset, and every leg of the run is corrected by it.
- **Paced.** The same pair, one event every ${c.paced?.gapMs ?? 20} ms (${c.paced?.warmup ?? 0} warm-up + ${c.paced?.samples ?? 0} samples per path), so each event meets idle threads, as human-driven FHIRcast traffic does.
- **Paired sampling.** Floor and tabcast are set up in the same two tabs, and every iteration measures one floor and one tabcast round trip, alternating which goes first (stack-notes pitfall 14). Ratios are taken per run (median of that run's tabcast samples over the median of the same run's floor samples), then min/median/max over runs.
- **Runs.** ${c.runs} run(s); each run is a fresh browser context (fresh SharedWorkers and IndexedDB) with ${c.pair.warmup} warm-up + ${c.pair.samples} paired round trips, warm-up bursts of ${c.burst.warmup} then one burst of ${c.burst.count.toLocaleString('en-US')} per path (order alternating between runs), fan-out to ${c.fan.sizes.join(', ')} tabs (${c.fan.warmup} warm-up + ${c.fan.samples} paired samples each), and ${c.content.warmup} warm-up + ${c.content.updates} content-sharing updates.
- **Burst.** A sends ${c.burst.count.toLocaleString('en-US')} one-way events as fast as it can (floor: \`postMessage\`; tabcast: \`hub.publish\` without awaiting), B counts them and answers once after the last; rate = count / (first send → that answer). For tabcast also the rate until the last publish promise resolved (every change durable).
- **Fan-out.** ${c.fan.sizes.join(' / ')} subscriber tabs (not A); each acks on its own BroadcastChannel to A, for floor and tabcast alike; a sample ends when the last tab's ack arrives in A.
- **Content sharing.** Tab A opens a DiagnosticReport, then sends ${c.content.updates} \`DiagnosticReport-update\`s one after another, each a transaction Bundle of 20 Observation PUTs with fresh ids (the shared content grows to ${(c.content.updates * 20).toLocaleString('en-US')} resources) and the \`context.versionId\` of the previous update (tab B acks it with the new version). Baseline: the same update frame through the floor relay.
- **Server hub from Chromium pages** (the baseline the ≥ 5× target is about). \`node bin/tabcast.js serve --port 0 --allow-origin <bench origin>\` in its own process, reached as a web app reaches a server hub: two fresh tabs (bench/pages/bench-tab.js \`serveA\`/\`serveB\`) subscribe with a form \`fetch\` POST and a \`WebSocket\`, ack every event with \`{id, status: 200}\`, and publish with a JSON \`fetch\` POST (cross-origin, so CORS as deployed: one preflight, cached for 600 s, inside the warm-up). Same event and echo as the in-page pair, ${c.serve.warmup} warm-up + ${c.serve.samples} round trips per run, each paired with a floor round trip in the same loop. Its own pass after each browser run, in its own tabs (stack-notes pitfall 14: page paths timed right after fetch/WebSocket traffic run slower); its ratio to the in-page hub uses that run's pair-pass median.
- **Server hub from Node clients** (second row, kept for comparison with earlier reports; no browser app talks to a hub this way). The same \`tabcast serve\`; two STU3 clients in the benchmark's node process (subscribe by form POST, \`ws\` WebSocket, ack every event with \`{id, status: 200}\`, publish by JSON POST over a keep-alive \`http.Agent\`); the same echo as in the browser. Run in its own pass after each browser run (stack-notes pitfall 14); its ratio is to that run's in-browser tabcast median.
- **Bridge.** Two browser contexts (two SharedWorkers), each bridging local topics to the same \`tabcast serve\`: tab A (context 1) publishes to T1 → worker 1 → remote R1 → worker 2 → T2 → tab B (context 2), which echoes via T3 → R2 → T4 → tab A. ${c.bridge.warmup} warm-up + ${c.bridge.samples} round trips per run.
- **Cold start.** ${c.cold.count} fresh browser contexts per page, floor and tabcast alternating: the time from navigation start to the tabcast script-tag page's first \`hub.subscribe\` resolved (\`performance.now()\` in the page), versus the floor page's relay answering its hello. The first pair is a discarded warm-up.
- **Weight.** gzip level 9 of each built file on its own, as a browser fetches it; a script counts with the chunks it imports statically (the worker's first load is tabcast-worker.js alone; tabcast-wire.js, tabcast-bridge.js, tabcast-identity.js, tabcast-restore.js and tabcast-seal.js load on demand). Bytes per source module through the source maps.
- **Worker heap.** CDP \`Target.setDiscoverTargets\` → the \`shared_worker\` target of the context → \`Target.attachToTarget\`; \`HeapProfiler.collectGarbage\` twice, then \`Runtime.getHeapUsage\`. ${c.heap.warmup} warm-up events, then checkpoints at a quarter, half and all of ${c.heap.events.toLocaleString('en-US')} events (published in chunks of 250, every 202 awaited, one subscriber tab acking); then ${c.heap.cycles} cycles of opening a tab, subscribing and closing the tab (every other one calls \`hub.close()\` first, the rest just vanish), after two warm-up cycles. The publishing tab's heap is read the same way (page CDP session). "Flat" means the last checkpoint is within max(256 KB, 5 %) of the first. Heap snapshots at the first and last checkpoint give a census of what grew.
- **Profiles.** A separate context, not part of the measured runs: CDP \`Profiler\` (100 µs sampling) on the worker and both tabs during ${c.profile?.pairSamples ?? '–'} round trips, a burst of ${c.profile?.burst ?? '–'} and ${c.profile?.updates ?? '–'} content updates; self time mapped back to source files through dist's source maps.`;
}

function profileMarkdown(profile) {
  if (!profile) return '_Not profiled in this run (`--no-profile` or `--quick`)._';
  const out = [];
  const per = (phase) => {
    const r = profile[phase]?.result ?? {};
    return r.samples ? { n: r.samples * 2, unit: 'publish → notify legs (two per round trip)' } : r.updates ? { n: r.updates, unit: 'updates' } : r.count ? { n: r.count, unit: 'events' } : undefined;
  };
  out.push('Self time per module in each thread while the phase ran (100 µs sampling; `(idle)` is time the thread waited). `(postMessage)`, `(put)`, `(transaction)` are native calls: structured clone of a message, IndexedDB put and transaction; a message\'s deserialization is charged to the first function that reads `event.data`.');
  out.push('');
  for (const [phase, p] of Object.entries(profile)) {
    const unit = per(phase);
    out.push(`### ${phase} (${(p.wallMs / 1000).toFixed(2)} s wall${unit ? `, ${unit.n} ${unit.unit}` : ''})`);
    out.push('');
    out.push('| where | ' + Object.keys(p.profiles).map((w) => `${w}: self time`).join(' | ') + ' |');
    out.push('| --- | ' + Object.keys(p.profiles).map(() => '---').join(' | ') + ' |');
    const names = new Set();
    for (const prof of Object.values(p.profiles)) prof.modules.slice(0, 8).forEach((m) => names.add(m.name));
    for (const name of names) {
      const cells = Object.values(p.profiles).map((prof) => {
        const m = prof.modules.find((x) => x.name === name);
        return m ? `${m.ms.toFixed(0)} ms (${pct(m.share)})` : '';
      });
      out.push(`| ${name} | ${cells.join(' | ')} |`);
    }
    out.push(`| total sampled | ${Object.values(p.profiles).map((prof) => `${prof.totalMs.toFixed(0)} ms`).join(' | ')} |`);
    if (unit) {
      const busy = Object.values(p.profiles).map((prof) => {
        const idle = prof.modules.find((m) => m.name === '(idle)')?.ms ?? 0;
        return `${(((prof.totalMs - idle) / unit.n) * 1000).toFixed(0)} µs`;
      });
      out.push(`| **busy per ${unit.unit.split(' ')[0] === 'publish' ? 'leg' : unit.unit.replace(/s$/, '')}** | ${busy.join(' | ')} |`);
    }
    out.push('');
    const w = p.profiles.worker ?? p.profiles['floor worker'];
    if (w) {
      out.push(`<details><summary>${p.profiles.worker ? 'worker' : 'floor worker'}: top functions by self time</summary>`);
      out.push('');
      out.push('| function (source line) | self time | share |');
      out.push('| --- | --- | --- |');
      for (const f of w.functions.slice(0, 15)) out.push(`| \`${f.name.replace(/\|/g, '\\|').replace(/`/g, "'")}\` | ${f.ms.toFixed(1)} ms | ${pct(f.share)} |`);
      out.push('');
      out.push('</details>');
      out.push('');
    }
  }
  return out.join('\n');
}

/** The whole report. */
export function renderMarkdown({ meta, summary, runs, extra, raw }, { analysis } = {}) {
  const m = meta.machine;
  const L = [];
  L.push('# tabcast benchmarks');
  L.push('');
  L.push(`Generated by \`npm run bench${meta.mode === 'quick' ? ' -- --quick' : ''}\` on ${meta.date.slice(0, 16).replace('T', ' ')} UTC: ${meta.mode} run, ${meta.config.runs} run(s), ${meta.durationSeconds} s.`);
  L.push('');
  const f = meta.load.foreignCores;
  L.push(`Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; ${m.chromium}. dist/ built ${meta.dist?.builtAt ?? '(missing)'}.`);
  L.push('');
  L.push(`Load: 1-minute load average ${meta.load.load1.start.toFixed(2)} at the start, at most ${meta.load.load1.max.toFixed(2)} during the run (that includes the benchmark's own Chromium processes).${f ? ` CPU used by processes other than the benchmark's: ${f.mean.toFixed(2)} cores on average, ${f.max.toFixed(2)} at most (sampled every 5 s from /proc). The machine is shared with other engineers' test runs.` : ''}`);
  L.push('');
  L.push('## Summary');
  L.push('');
  L.push('Every figure is the median over runs of the per-run value, with the range over runs in brackets; the baseline is measured in the same run (paired), and the ratio is figure / baseline per run. Round trips are A → hub → B → hub → A (two publish → notify legs).');
  L.push('');
  L.push(summaryMarkdown(summary));
  L.push('');
  const targets = summary.filter((r) => r.met !== undefined);
  if (targets.length) {
    L.push(`Targets met: ${targets.filter((r) => r.met).length} of ${targets.length}.${targets.some((r) => !r.met) ? ' Missed: ' + targets.filter((r) => !r.met).map((r) => r.label).join('; ') + '.' : ''}`);
    L.push('');
  }
  L.push('![Round-trip CDF: floor, tabcast, server hub, bridge](latency.svg)');
  L.push('');
  if (analysis) {
    L.push(analysis.trim());
    L.push('');
  }
  L.push('## Method');
  L.push('');
  L.push(methodText(meta));
  L.push('');
  L.push('## Round trip and burst, per run');
  L.push('');
  L.push(perRunMarkdown(runs));
  L.push('');
  const fan = fanMarkdown(runs);
  if (fan) {
    L.push('## Fan-out: time until the last subscribing tab has the event');
    L.push('');
    L.push(fan);
    L.push('');
  }
  if (runs[0]?.content?.tabcast) {
    L.push('## Content sharing');
    L.push('');
    L.push('| figure | median of runs (min–max) |');
    L.push('| --- | --- |');
    const row = (label, path) => L.push(`| ${label} | ${range(across(runs, path), 'ms')} ms |`);
    row('per update, until B has it', 'content.tabcast.median');
    row('per update, until B has it, p95', 'content.tabcast.p95');
    row('per update, until the 202 (durable)', 'content.accepted.median');
    row('first 10 updates, until B has it', 'content.first10');
    row('last 10 updates (content ≈ 2,000 resources), until B has it', 'content.last10');
    row('first 10 updates, until the 202', 'content.acceptedFirst10');
    row('last 10 updates, until the 202', 'content.acceptedLast10');
    row('floor: the same update frame through the raw relay', 'content.floor.median');
    L.push('');
  }
  if (runs[0]?.serve) {
    L.push('## Server hub and bridge');
    L.push('');
    L.push('| path | median | p95 | p99 | ratio to in-browser tabcast (median) |');
    L.push('| --- | --- | --- | --- | --- |');
    const r3 = (label, key, ratioKey) => {
      if (!runs[0][key]) return;
      L.push(`| ${label} | ${range(across(runs, `${key}.median`), 'ms')} ms | ${range(across(runs, `${key}.p95`), 'ms')} ms | ${range(across(runs, `${key}.p99`), 'ms')} ms | ${ratioKey ? fmtRatio(across(runs, ratioKey).median) : ''} |`);
    };
    r3('in-browser tabcast (for reference)', 'tabcast');
    r3('tabcast serve from Chromium pages (fetch + WebSocket, CORS)', 'pageServe', 'pageServeRatio');
    r3('  floor round trips sampled in the same pass', 'pageServeFloor');
    r3('tabcast serve from pages: one fetch POST → 202', 'pageServeAccepted');
    r3('tabcast serve from Node clients (http + ws), loopback', 'serve', 'serveRatio');
    r3('tabcast serve from Node clients: one POST → 202', 'serveAccepted');
    r3('bridge: tab → worker → serve → worker → tab', 'bridge', 'bridgeRatio');
    L.push('');
  }
  const cold = extra.cold;
  if (cold) {
    L.push('## Cold start');
    L.push('');
    L.push('| page | median | min | max | n |');
    L.push('| --- | --- | --- | --- | --- |');
    const row = (label, xs) => {
      if (!xs?.length) return;
      const s = spread(xs);
      L.push(`| ${label} | ${fmt(s.median)} ms | ${fmt(s.min)} ms | ${fmt(s.max)} ms | ${xs.length} |`);
    };
    row('floor: navigation start → relay worker answered', cold.floor);
    row('tabcast: navigation start → `Tabcast.connect()` resolved', cold.tabcastConnected);
    row('tabcast: navigation start → first `hub.subscribe` resolved', cold.tabcast);
    row('floor: `page.goto` → done, wall clock', cold.floorWall);
    row('tabcast: `page.goto` → subscribed, wall clock', cold.tabcastWall);
    L.push('');
  }
  if (extra.weight?.length) {
    L.push('## Weight');
    L.push('');
    L.push('Each file gzipped on its own (level 9), as a browser fetches it; a script counts with the chunks it imports statically (its first load). The worker\'s other chunks load with `import()`: `tabcast-change.js` (the context-change parser and zod) right after start, while the hub already answers (a change that comes first waits for it); `tabcast-wire.js` on the first `hub.fetch`/`hub.WebSocket`, `tabcast-bridge.js` on the first `hub.bridge()`, `tabcast-stomp.js` with either, `tabcast-identity.js` for GetTopic, `tabcast-restore.js` when IndexedDB holds records, `tabcast-seal.js` on the first leader-tab client.');
    L.push('');
    L.push('| file | bytes | gzip -9 | budget | within |');
    L.push('| --- | --- | --- | --- | --- |');
    for (const w of extra.weight) {
      if (!w.exists) L.push(`| ${w.file} | missing | | ${w.budget ? kb(w.budget) : ''} | |`);
      else L.push(`| ${w.file} | ${w.bytes.toLocaleString('en-US')} | ${kb(w.gzip)}${w.parts?.length > 1 ? ` (${w.parts.map((p) => `${p.file} ${kb(p.gzip)}`).join(', ')})` : ''} | ${w.budget ? kb(w.budget) : '–'} | ${w.budget ? (w.gzip <= w.budget ? 'yes' : '**no**') : ''} |`);
    }
    L.push('');
    for (const w of extra.weight.filter((x) => x.bySource?.length)) {
      L.push(`<details><summary>${w.file}: largest source modules</summary>`);
      L.push('');
      L.push('Minified bytes per source module (through the source map), and the gzip bytes the file would lose without that module\'s text (its marginal cost; the rows do not add up exactly, gzip shares context).');
      L.push('');
      L.push('| module | in | minified bytes | marginal gzip |');
      L.push('| --- | --- | --- | --- |');
      for (const r of w.bySource) L.push(`| ${r.name} | ${r.file} | ${r.bytes.toLocaleString('en-US')} | ${kb(r.gzipMarginal)} |`);
      L.push('');
      L.push('</details>');
      L.push('');
    }
  }
  const heap = extra.heap;
  if (heap) {
    L.push('## Worker heap');
    L.push('');
    L.push('| checkpoint | used JS heap | change since the first checkpoint |');
    L.push('| --- | --- | --- |');
    for (const [who, series] of [['worker', heap.events], ['worker', heap.cycles], ['publishing tab A', heap.tabA ?? []]]) {
      for (const c of series) L.push(`| ${who}: ${c.at} | ${mb(c.usedSize)} | ${c === series[0] ? '' : `${c.usedSize >= series[0].usedSize ? '+' : ''}${kb(c.usedSize - series[0].usedSize)}`} |`);
    }
    L.push('');
    const growth = [
      ['worker, over the events', heap.growthEvents?.worker],
      ['publishing tab A, over the events', heap.growthEvents?.tabA],
      ['worker, over the tab cycles', heap.growthCycles?.worker],
    ].filter(([, rows]) => rows?.length);
    if (growth.length) {
      L.push('What grew (heap snapshots before and after, objects still alive after GC, largest growth first):');
      L.push('');
      L.push('| where | kind of object | more objects | more bytes (shallow) |');
      L.push('| --- | --- | --- | --- |');
      for (const [where, rows] of growth) for (const r of rows.slice(0, 5)) L.push(`| ${where} | \`${r.name.replace(/\|/g, '\\|').slice(0, 60)}\` | ${r.count.toLocaleString('en-US')} | ${kb(r.size)} |`);
      L.push('');
    }
    L.push(`Events: ${heap.flat.events ? 'flat' : '**grows**'} (${(heap.perThousandEvents / 1024).toFixed(1)} KB per 1,000 events; subscriber received ${heap.delivered.toLocaleString('en-US')} of ${heap.expectedDelivered.toLocaleString('en-US')}). Tab cycles: ${heap.flat.cycles ? 'flat' : '**grows**'} (${(heap.perCycle / 1024).toFixed(1)} KB per cycle). Publishing tab: ${heap.flat.tabA ? 'flat' : '**grows**'} (${((heap.tabAPerThousandEvents ?? 0) / 1024).toFixed(1)} KB per 1,000 publishes).`);
    L.push('');
  }
  L.push('## Where the time goes (CPU profiles)');
  L.push('');
  L.push(profileMarkdown(extra.profile));
  L.push('');
  const pooledFloor = raw.runs.flatMap((r) => r.pair.floor);
  const pooledTc = raw.runs.flatMap((r) => r.pair.tabcast);
  L.push('## Pooled round-trip distribution');
  L.push('');
  L.push('| path | n | p50 | p90 | p95 | p99 | p99.9 | max |');
  L.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const pooledRow = (label, xs) => {
    if (!xs.length) return;
    L.push(`| ${label} | ${xs.length} | ${[0.5, 0.9, 0.95, 0.99, 0.999].map((q) => fmt(quantile(xs, q))).join(' | ')} | ${fmt(Math.max(...xs))} |`);
  };
  pooledRow('floor', pooledFloor);
  pooledRow('tabcast', pooledTc);
  pooledRow('tabcast serve from Chromium pages', (raw.servePage ?? []).flatMap((s) => s.serve));
  pooledRow('tabcast serve from Node clients', raw.server.flatMap((s) => s.tabcastServe));
  pooledRow('bridge', raw.bridge.flatMap((s) => s.bridge));
  L.push('');
  L.push('Raw samples: bench/results/latest.json (`raw`). Reproduce with `npm run bench` (full, a few minutes) or `npm run bench -- --quick` (smoke run).');
  L.push('');
  return L.join('\n');
}
