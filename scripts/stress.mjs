// `npm run test:stress`: the hardening suite of issue #7 at full size (TABCAST_STRESS=1): the node
// suite (test/unit/hardening through test/stress/vitest.config.ts), then the Chromium specs
// (test/e2e/hardening*.spec.ts, after `npm run build`), then a summary of what was tried and what
// happened, for docs/reliability.md.
//
//   node scripts/stress.mjs                          everything (about 35 minutes on 2 cores)
//   node scripts/stress.mjs --no-browser             only the node suite
//   node scripts/stress.mjs load                     only node files whose path contains "load" (no browser)
//   TABCAST_SOAK_MS=60000 node scripts/stress.mjs    any size knob of test/unit/hardening/support/sizes.ts
//
// Writes reports/stress.json (vitest), reports/stress-stats.jsonl (one line per record) and
// reports/stress-summary.md; exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findChromium } from './find-chromium.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));
const browser = !args.includes('--no-browser') && filters.length === 0;
mkdirSync(`${root}/reports`, { recursive: true });
const stats = `${root}/reports/stress-stats.jsonl`;
const report = `${root}/reports/stress.json`;
rmSync(stats, { force: true });
rmSync(report, { force: true });

const env = { ...process.env, TABCAST_STRESS: '1', TABCAST_STATS_FILE: stats, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' };
const started = Date.now();
const vitest = spawnSync('npx', ['vitest', 'run', '--config', 'test/stress/vitest.config.ts', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...filters], {
  cwd: root,
  stdio: 'inherit',
  env,
});
let failed = vitest.status !== 0;

let e2e;
if (browser) {
  const built = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit', env });
  if (built.status !== 0) {
    failed = true;
  } else {
    // A port of its own, and a fresh static server (CI=1), so a developer's running e2e server is left alone.
    const e2eEnv = { ...env, CI: '1', CHROMIUM_PATH: findChromium(), TABCAST_E2E_PORT: process.env.TABCAST_E2E_PORT ?? '4391' };
    e2e = spawnSync('npx', ['playwright', 'test', 'test/e2e/hardening', '--reporter=list', '--workers=1'], { cwd: root, stdio: 'inherit', env: e2eEnv });
    failed ||= e2e.status !== 0;
  }
}

const lines = [];
lines.push(`# Stress run ${new Date().toISOString()}`, '');
lines.push(`Wall time: ${((Date.now() - started) / 60_000).toFixed(1)} min. Node ${process.version}.`, '');
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  lines.push(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped (expected failures of reported bugs count as passed).`, '');
  for (const file of r.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status === 'failed') lines.push(`- FAILED: ${t.fullName}`);
    }
  }
} else {
  lines.push('vitest wrote no report.');
  failed = true;
}
if (e2e) lines.push('', `Chromium hardening specs: exit ${e2e.status}.`);
lines.push('', '| area | what | figures |', '| --- | --- | --- |');
if (existsSync(stats)) {
  for (const line of readFileSync(stats, 'utf8').split('\n').filter(Boolean)) {
    const { area, what, ...figures } = JSON.parse(line);
    lines.push(`| ${area} | ${what} | ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join(', ')} |`);
  }
}
const summary = lines.join('\n');
writeFileSync(`${root}/reports/stress-summary.md`, `${summary}\n`);
console.log(`\n${summary}`);
process.exit(failed ? 1 : 0);
