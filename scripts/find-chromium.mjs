// Finds a Chromium for the browser tests: CHROMIUM_PATH, Debian's /usr/bin/chromium, Playwright's cache.
// When none is found and we are root with apt, installs Debian's; else explains the one command to run.
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function fromPlaywrightCache() {
  const dir = process.env.PLAYWRIGHT_BROWSERS_PATH ?? join(homedir(), '.cache', 'ms-playwright');
  if (!existsSync(dir)) return undefined;
  for (const name of readdirSync(dir).filter((n) => n.startsWith('chromium')).sort().reverse()) {
    for (const sub of ['chrome-linux/chrome', 'chrome-linux64/chrome', 'chrome-linux/headless_shell', 'chrome-headless-shell-linux64/chrome-headless-shell']) {
      const p = join(dir, name, sub);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

/** Returns the path of a usable Chromium, installing Debian's when possible; exits with advice otherwise. */
export function findChromium() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', fromPlaywrightCache()];
  for (const c of candidates) if (c && existsSync(c)) return c;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (isRoot && hasApt) {
    console.log('Chromium not found: installing Debian\'s chromium (apt-get, about 30 s)…');
    const r = spawnSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'], { stdio: 'inherit' });
    if (r.status === 0 && existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  }
  console.error('No Chromium found for the browser tests. Install it with:\n\n  sudo apt-get update && sudo apt-get install -y chromium\n\nor set CHROMIUM_PATH to a Chromium executable.');
  process.exit(2);
}
