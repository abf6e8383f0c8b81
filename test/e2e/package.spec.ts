/**
 * Issue 16, the npm package: `npm pack`, install the tarball into a fresh project, build that project
 * with Vite using only the import lines README.md documents, and run the page in Chromium (connect,
 * subscribe, publish); the same project imports `tabcast/server` in node and starts a hub.
 */
import { expect, test } from '@playwright/test';
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const repo = fileURLToPath(new URL('../..', import.meta.url));
test.describe.configure({ mode: 'serial' });

/** The app's code: exactly the lines README.md's "Bundlers" section shows. */
const MAIN_JS = `import { connect } from 'tabcast';

const hub = await connect({ workerUrl: new URL('tabcast/worker', import.meta.url).href });
const topic = await hub.createTopic();
const seen = [];
await hub.subscribe({ topic, events: ['Patient-open'] }, (notification) => void seen.push(notification));
const answer = await hub.publish(topic, { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p-packaged' } }] });
window.result = { answer, topic, seen };
`;

let work = '';
let app = '';

test.beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tabcast-pack-'));
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: repo, encoding: 'utf8' }).trim().split('\n').at(-1)!;
  app = join(work, 'app');
  mkdirSync(join(app, 'node_modules', 'tabcast'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packaged-app', private: true, type: 'module', dependencies: { tabcast: `file:../${packed}` } }));
  // Installing means unpacking the tarball as npm does, and its `dependencies` linked from this repo's
  // node_modules (the same versions): tests reach only loopback, never the registry.
  execFileSync('tar', ['xzf', join(work, packed), '-C', join(app, 'node_modules', 'tabcast'), '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(app, 'node_modules', 'tabcast', 'package.json'), 'utf8'));
  for (const name of Object.keys(manifest.dependencies ?? {})) symlinkSync(join(repo, 'node_modules', name), join(app, 'node_modules', name), 'dir');
  writeFileSync(join(app, 'index.html'), '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body><script type="module" src="./main.js"></script></body></html>');
  writeFileSync(join(app, 'main.js'), MAIN_JS);
  await build({ root: app, configFile: false, logLevel: 'warn', publicDir: false, build: { outDir: 'dist', target: 'es2022', minify: false } });
});

test.afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('I16 package: the tarball holds only the whitelisted files, and its exports map names files that exist', () => {
  const manifest = JSON.parse(readFileSync(join(app, 'node_modules', 'tabcast', 'package.json'), 'utf8'));
  for (const target of Object.values<any>(manifest.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values<string>(t)))) {
    expect(statSync(join(app, 'node_modules', 'tabcast', target)).isFile(), target).toBe(true);
  }
  const listed = execFileSync('find', ['.', '-type', 'f'], { cwd: join(app, 'node_modules', 'tabcast'), encoding: 'utf8' });
  expect(listed).not.toMatch(/\.\/(src|test|scripts|worker|demo)\//);
  expect(listed).toContain('./CHANGELOG.md');
  // ./worker is ONE self-contained module: no import of a sibling chunk
  expect(readFileSync(join(app, 'node_modules', 'tabcast', manifest.exports['./worker']), 'utf8')).not.toMatch(/import\(?\s*["']\.\//);
});

test('I16 package: a Vite build of a fresh project using only the documented lines connects, subscribes and publishes in Chromium', async ({ page }) => {
  const dist = join(app, 'dist');
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };
  const server = http.createServer((req, res) => {
    const path = join(dist, new URL(req.url ?? '/', 'http://x').pathname.replace(/\/$/, '/index.html'));
    try {
      if (!path.startsWith(dist) || !statSync(path).isFile()) throw new Error('missing');
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => (window as any).result?.seen.length === 1);
    const result = await page.evaluate(() => (window as any).result);
    expect(result.answer.status).toBe(202);
    expect(result.seen[0].event['hub.event']).toBe('Patient-open');
    expect(result.seen[0].event.context[0].resource.id).toBe('p-packaged');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('I16 package: node imports tabcast/server without side effects and starts a hub with startServer()', () => {
  const quiet = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('tabcast/server'); console.log(typeof m.startServer);"], { cwd: app, encoding: 'utf8', timeout: 10_000 });
  expect(quiet.stderr).toBe('');
  expect(quiet.stdout.trim()).toBe('function'); // and the process ended by itself: nothing listens on import
  const script = `import { startServer } from 'tabcast/server';
const server = await startServer({ port: 0 });
const response = await fetch(server.url + '/.well-known/fhircast-configuration');
console.log(JSON.stringify({ url: server.url, status: response.status }));
await server.close();`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8', timeout: 10_000 });
  expect(run.stderr).toBe('');
  const { url, status } = JSON.parse(run.stdout.trim());
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fhircast\/hub$/);
  expect(status).toBe(200);
});
