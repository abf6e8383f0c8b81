// Compares library builds: runs `scripts/bench.mjs --lib DIR` for each build in turn, round after
// round (A B C, A B C, …, so drift hits every build alike), and prints each build's per-run ratios
// to the floor measured in the same run.
//
//   node bench/compare.mjs --rounds 3 --only pair,burst /tmp/x/base /tmp/x/patched …
//
// Each DIR is a checkout with dist/ (and bin/ for the server sections) built. Results:
// bench/results/compare-<name>-<round>.json and a summary table on stdout.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantile } from './lib/stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const take = (name, fallback) => {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const [value] = argv.splice(i, 2).slice(1);
  return value;
};
const rounds = Number(take('--rounds', 3));
const only = take('--only', 'pair,paced,burst');
const runsPerRound = take('--runs', '1');
const quick = argv.includes('--quick') ? (argv.splice(argv.indexOf('--quick'), 1), ['--quick']) : [];
const libs = argv.map((d) => resolve(d));
if (libs.length === 0) {
  console.error('usage: node bench/compare.mjs [--rounds N] [--only pair,burst] [--runs N] [--quick] DIR…');
  process.exit(2);
}

const FIGURES = [
  ['publish → notify one-way median / floor', (r) => r.oneWayRatio],
  ['tabcast one-way median (ms)', (r) => r.tabcastOneWay?.median],
  ['paced one-way median / floor', (r) => r.pacedOneWayRatio],
  ['paced one-way median (ms)', (r) => r.pacedOneWay?.median],
  ['round trip median / floor', (r) => r.ratioMedian],
  ['round trip p95 / floor', (r) => r.ratioP95],
  ['tabcast round trip median (ms)', (r) => r.tabcast?.median],
  ['publish → 202 median (ms)', (r) => r.tabcastAccepted?.median],
  ['burst notify / floor', (r) => r.burstRatio],
  ['burst durable / floor', (r) => r.burstDurableRatio],
  ['fan-out 20 / floor', (r) => r.fan?.['20']?.ratio],
  ['content update / floor', (r) => r.content?.ratio],
  ['content update → 202 (ms)', (r) => r.content?.accepted?.median],
  ['server median / tabcast', (r) => r.serveRatio],
  ['other processes during the run (cores)', (r) => r.foreignCores],
];

const collected = new Map(libs.map((l) => [l, []]));
for (let round = 0; round < rounds; round++) {
  for (const lib of libs) {
    const name = `compare-${basename(lib)}-${round + 1}`;
    console.error(`round ${round + 1}/${rounds}: ${lib}`);
    const r = spawnSync(process.execPath, [join(root, 'scripts/bench.mjs'), ...quick, '--lib', lib, '--only', only, '--runs', runsPerRound, '--no-profile', '--out', name], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 10 * 60_000, killSignal: 'SIGKILL' });
    if (r.status !== 0) {
      console.error(`  failed (exit ${r.status})`);
      continue;
    }
    const result = JSON.parse(readFileSync(join(root, 'bench/results', `${name}.json`), 'utf8'));
    collected.get(lib).push(...result.runs);
  }
}

const fmt = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
console.log(`\n| figure | ${libs.map((l) => basename(l)).join(' | ')} |`);
console.log(`| --- | ${libs.map(() => '---').join(' | ')} |`);
for (const [label, pick] of FIGURES) {
  const cells = libs.map((l) => {
    const xs = collected.get(l).map(pick).filter(Number.isFinite);
    if (!xs.length) return '–';
    return `${fmt(quantile(xs, 0.5))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
  });
  if (cells.every((c) => c === '–')) continue;
  console.log(`| ${label} | ${cells.join(' | ')} |`);
}
console.log(`\nmedian (min–max) over ${rounds} round(s) × ${runsPerRound} run(s) per build`);
