// `npm test`: finds Chromium and redis-server, builds, then runs every suite (vitest node, vitest browser, Playwright e2e)
// and ends with one line `N passed, N failed`. Exit code is non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findChromium } from './find-chromium.mjs';
import { findRedisServer } from './find-redis.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv.slice(2); // e.g. `npm test -- unit e2e`
const want = (suite) => only.length === 0 || only.includes(suite);
const env = { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' };
mkdirSync(`${root}/reports`, { recursive: true });

if (want('browser') || want('e2e')) env.CHROMIUM_PATH = findChromium();
// The cluster tests (test/unit/cluster) start their own redis-server.
if (want('unit')) env.REDIS_SERVER = findRedisServer();

function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...env, ...extraEnv } });
  return r.status ?? 1;
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const problems = [];

if (run('npm', ['run', '--silent', 'build']) !== 0) {
  console.log('\nbuild failed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

function vitest(project) {
  const out = `${root}/reports/vitest-${project}.json`;
  const code = run('npx', ['vitest', 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile=${out}`]);
  if (!existsSync(out)) {
    problems.push(`vitest ${project}: no report (exit ${code})`);
    totals.failed += 1;
    return;
  }
  const r = JSON.parse(readFileSync(out, 'utf8'));
  totals.passed += r.numPassedTests;
  totals.failed += r.numFailedTests;
  totals.skipped += r.numPendingTests + r.numTodoTests;
  if (code !== 0 && r.numFailedTests === 0) {
    problems.push(`vitest ${project} exited ${code} (a suite failed to load or an error escaped a test)`);
    totals.failed += 1;
  }
}

if (want('unit')) vitest('unit');
if (want('browser')) vitest('browser');

if (want('e2e')) {
  const out = `${root}/reports/playwright.json`;
  const code = run('npx', ['playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: out });
  if (!existsSync(out)) {
    problems.push(`playwright: no report (exit ${code})`);
    totals.failed += 1;
  } else {
    const s = JSON.parse(readFileSync(out, 'utf8')).stats;
    totals.passed += s.expected + (s.flaky ?? 0);
    totals.failed += s.unexpected;
    totals.skipped += s.skipped;
    if (code !== 0 && s.unexpected === 0) {
      problems.push(`playwright exited ${code}`);
      totals.failed += 1;
    }
  }
}

for (const p of problems) console.log(`problem: ${p}`);
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
