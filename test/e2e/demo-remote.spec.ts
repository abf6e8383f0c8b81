// The demo's remote path, offline: `tabcast serve` on a free port, the inspector bridges the demo
// session to it, and events travel both ways (as `npm run demo -- --with-remote` sets it up).
import { test, expect, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The first connect of a browser context starts the SharedWorker and opens IndexedDB: allow for a busy machine. */
const CONNECT_MS = 15_000;

const root = fileURLToPath(new URL('../..', import.meta.url));
const serverBuilt = existsSync(`${root}/dist/tabcast-server.js`) && existsSync(`${root}/bin/tabcast.js`);

let remote: ChildProcess | undefined;
let hubUrl = '';

test.skip(!serverBuilt, 'tabcast serve is not built (dist/tabcast-server.js)');

test.beforeAll(async () => {
  const origin = new URL(String(test.info().project.use.baseURL)).origin;
  remote = spawn(process.execPath, [`${root}/bin/tabcast.js`, 'serve', '--port', '0', '--allow-origin', origin], { stdio: ['ignore', 'pipe', 'inherit'] });
  hubUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    remote!.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /FHIRcast hub listening on (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    remote!.once('exit', (code) => reject(new Error(`tabcast serve exited with ${code}`)));
  });
});

test.afterAll(() => {
  remote?.kill('SIGTERM');
});

function watch(page: Page, errors: string[]): Page {
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  return page;
}

test('the inspector bridges the session to tabcast serve; events flow both ways', async ({ context }) => {
  const errors: string[] = [];
  const launcher = watch(await context.newPage(), errors);
  await launcher.goto(`/?remote=${encodeURIComponent(hubUrl)}`);
  await expect(launcher.locator('#remote')).toHaveText(hubUrl);
  await expect(launcher.locator('#status')).toHaveText(/^Session /, { timeout: CONNECT_MS });
  const inspectorHref = (await launcher.locator('#link-inspector').getAttribute('href'))!;
  expect(inspectorHref).toContain('remote=');
  const topic = new URL(inspectorHref, 'http://x').searchParams.get('topic')!;

  const inspector = watch(await context.newPage(), errors);
  await inspector.goto(inspectorHref);
  await expect(inspector.locator('#bridge-url')).toHaveValue(hubUrl);
  await expect(inspector.locator('#bridge-state')).toHaveText('connected', { timeout: 15_000 });

  const worklist = watch(await context.newPage(), errors);
  await worklist.goto((await launcher.locator('#link-worklist').getAttribute('href'))!);
  await expect(worklist.locator('#status')).toHaveText('Connected', { timeout: CONNECT_MS });

  // Remote → local: another system posts a Patient-open to the remote hub; the worklist follows.
  const bundle = JSON.parse(readFileSync(`${root}/demo/data/radiology-worklist.json`, 'utf8'));
  const patient = bundle.entry.map((e: { resource: { resourceType: string } }) => e.resource).find((r: { resourceType: string; id: string }) => r.resourceType === 'Patient' && r.id === 'pt-400239');
  const response = await fetch(hubUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ timestamp: new Date().toISOString(), id: `remote-${Date.now()}`, event: { 'hub.topic': topic, 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: patient }] } }),
  });
  expect(response.status).toBe(202);
  await expect(worklist.locator('#banner')).toContainText('RAMAN, Priya S');

  // Local → remote: the worklist opens a study; the remote hub's current context follows.
  await worklist.getByRole('button', { name: 'Open study A24100776' }).click();
  await expect.poll(async () => (await (await fetch(`${hubUrl}/${encodeURIComponent(topic)}`)).json())['context.type'], { timeout: 10_000 }).toBe('ImagingStudy');
  await expect(inspector.locator('#bridge-status')).toContainText(/Events in \/ out\s*[1-9]\d* \/ [1-9]/);

  // Stopping the bridge from the inspector ends it for everyone.
  await inspector.getByRole('button', { name: 'Stop bridge' }).click();
  await expect(inspector.locator('#bridge-state')).toHaveText('stopped');
  expect(errors).toEqual([]);
});
