// The weight of the built files (issue 17 item 3): each file gzipped on its own (level 9), as a
// browser fetches it; a script counts with the chunks it imports statically (its first load), and
// the files with a budget list their largest source modules through the source maps.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bytesBySource, marginalGzip } from './profile.mjs';

/** The budgets: the script-tag build and the worker's first load (bytes of gzip -9). */
export const WEIGHT_BUDGETS = [
  // 8 KB until the drop-in (fetch/WebSocket routing), the same-site relay link and the leader tab's
  // sealed link joined the one synchronous file (2026-12-05: 10.96 KB; without all three and Comlink
  // it would still be 8.17 KB). The budget now guards against growth beyond those features.
  ['tabcast.iife.js', 11 * 1024],
  ['tabcast-worker.js', 25 * 1024],
  ['tabcast.js', undefined],
  ['tabcast-bridge.js', undefined],
  // Fetched by the worker right after start, not before it: with the first load, what a start fetches.
  ['tabcast-change.js', undefined],
];

/** Weighs the files of `distDir`: [{ file, exists, bytes, gzip, budget, parts, bySource }]. */
export function measureWeight(distDir, { sources = 12 } = {}) {
  const dist = (f) => join(distDir, f);
  const gzText = (text) => gzipSync(Buffer.from(text), { level: 9 }).length;
  const gzFile = (file) => gzipSync(readFileSync(dist(file)), { level: 9 }).length;

  /** The files a script loads before it runs: itself and its static `import … from "./x.js"`, transitively. */
  function firstLoad(file, seen = new Set()) {
    if (seen.has(file) || !existsSync(dist(file))) return seen;
    seen.add(file);
    const code = readFileSync(dist(file), 'utf8');
    for (const m of code.matchAll(/(?:from|import)\s*["']\.\/([\w.-]+\.js)["']/g)) firstLoad(m[1], seen);
    return seen;
  }

  /** The largest source modules of a script's first load: minified bytes and what gzip saves without them. */
  function weightBySource(files) {
    const rows = [];
    for (const f of files) {
      for (const { name, bytes } of bytesBySource(dist(f), dist(`${f}.map`))) {
        if (name === '(unmapped)') continue;
        rows.push({ file: f, name, bytes });
      }
    }
    rows.sort((a, b) => b.bytes - a.bytes);
    return rows.slice(0, sources).map((r) => ({ ...r, gzipMarginal: marginalGzip(dist(r.file), dist(`${r.file}.map`), [r.name], gzText) }));
  }

  return WEIGHT_BUDGETS.map(([file, budget]) => {
    if (!existsSync(dist(file))) return { file, exists: false, budget };
    const files = [...firstLoad(file)];
    const bytes = files.reduce((n, f) => n + readFileSync(dist(f)).length, 0);
    const w = { file: files.join(' + '), exists: true, bytes, gzip: files.reduce((n, f) => n + gzFile(f), 0), budget, parts: files.map((f) => ({ file: f, gzip: gzFile(f) })) };
    if (budget) w.bySource = weightBySource(files);
    return w;
  }).filter((w) => w.budget !== undefined || w.exists);
}

/** The weights as plain text, for `npm run bench -- weight`. */
export function weightText(weights) {
  const kb = (n) => `${(n / 1024).toFixed(2)} KB`;
  const lines = [];
  for (const w of weights) {
    if (!w.exists) {
      lines.push(`${w.file}: missing`);
      continue;
    }
    const verdict = w.budget ? ` (budget ${kb(w.budget)}: ${w.gzip <= w.budget ? 'within' : 'OVER'})` : '';
    lines.push(`${w.file}: ${kb(w.gzip)} gzip -9, ${w.bytes.toLocaleString('en-US')} bytes${verdict}`);
    for (const r of w.bySource ?? []) lines.push(`  ${String(r.bytes).padStart(7)} B  ${kb(r.gzipMarginal).padStart(8)} marginal  ${r.name}`);
  }
  return lines.join('\n');
}
