// The bridge from Chromium: two tabs share one SharedWorker, whose bridge relays a topic to a real
// `tabcast serve` process. The tab that made the bridge closes; the bridge stays. The process is
// killed (SIGKILL) and started again on the same port with the same data file; the bridge recovers
// and sends what was published meanwhile. (bridge.spec.ts covers the page API in both modes.)
import { test, expect, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApp } from './support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
test.skip(!existsSync(`${root}/dist/tabcast-server.js`), 'tabcast serve is not built (npm run build)');

const REMOTE_TOPIC = 'T-remote-e2e';
const processes: ChildProcess[] = [];
let dir = '';

test.beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tabcast-bridge-e2e-'));
});

test.afterEach(() => {
  for (const p of processes.splice(0)) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `tabcast serve` with a data file and resolves with its hub.url once it listens. */
async function serve(port: number, origin: string): Promise<{ hubUrl: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [`${root}/bin/tabcast.js`, 'serve', '--port', String(port), '--data', join(dir, 'remote.json'), '--allow-origin', origin], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  processes.push(proc);
  const hubUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /FHIRcast hub listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`tabcast serve exited with ${code}`)));
  });
  return { hubUrl, proc };
}

/** A context change as a remote application POSTs it. */
const remotePatientOpen = (pid: string, id: string) => ({
  id,
  timestamp: new Date().toISOString(),
  event: { 'hub.topic': REMOTE_TOPIC, 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: pid } }] },
});

/** The page API's publish body: the event's members plus an id. */
const pagePatientOpen = (pid: string, id: string) => ({ id, 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: pid } }] });

async function remotePost(hubUrl: string, body: unknown): Promise<number> {
  const res = await fetch(hubUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.status;
}

async function remoteCurrentPatient(hubUrl: string): Promise<string | undefined> {
  const body = (await (await fetch(`${hubUrl}/${REMOTE_TOPIC}`)).json()) as { context: Array<{ key: string; resource?: { id: string } }> };
  return body.context.find((e) => e.key === 'patient')?.resource?.id;
}

const bridgeState = (page: Page) => page.evaluate(() => (window as any).br.status.state as string);
/** Ids of the context changes a tab received (a tab that closes without hub.close() also causes a SyncError). */
const eventIds = (page: Page) => page.evaluate(() => window.harness.events.filter((n: any) => n.event['hub.event'] !== 'syncerror').map((n: any) => n.id as string));

test('two tabs share one bridge to tabcast serve; it outlives the tab that made it and recovers from a killed remote', async ({ context, baseURL }) => {
  // The bridge's default backoff (500 ms doubling, jittered) runs while the process restarts.
  test.setTimeout(90_000);
  const origin = new URL(baseURL!).origin;
  let remote = await serve(0, origin);
  const port = Number(new URL(remote.hubUrl).port);
  const topic = `T-local-${Date.now()}`;
  const config = { topic, remoteHubUrl: remote.hubUrl, remoteTopic: REMOTE_TOPIC };

  const [a, b] = [await openApp(context, 'shared-worker', 'tab-a'), await openApp(context, 'shared-worker', 'tab-b')];
  for (const page of [a, b]) {
    await page.evaluate((t) => window.harness.subscribe(t, ['*'], { name: 'app' }), topic);
    await page.evaluate(async (c) => ((window as any).br = await window.harness.hub.bridge(c)), config);
  }
  await expect.poll(() => bridgeState(a), { timeout: 10_000 }).toBe('connected');
  expect(await bridgeState(b)).toBe('connected');

  // remote → both tabs, once each
  expect(await remotePost(remote.hubUrl, remotePatientOpen('p-r1', 'remote-1'))).toBe(202);
  for (const page of [a, b]) await expect.poll(() => eventIds(page)).toEqual(['remote-1']);

  // a tab → the remote
  expect(await b.evaluate(([t, req]) => window.harness.publish(t, req), [topic, pagePatientOpen('p-l1', 'local-1')] as const)).toMatchObject({ status: 202 });
  await expect.poll(() => remoteCurrentPatient(remote.hubUrl)).toBe('p-l1');

  // the tab that made the bridge goes; the bridge stays
  await a.close();
  expect(await remotePost(remote.hubUrl, remotePatientOpen('p-r2', 'remote-2'))).toBe(202);
  await expect.poll(() => eventIds(b)).toEqual(['remote-1', 'local-1', 'remote-2']);

  // the remote dies; a publish made meanwhile waits in the bridge's queue
  remote.proc.kill('SIGKILL');
  await expect.poll(() => bridgeState(b), { timeout: 10_000 }).toBe('reconnecting');
  expect(await b.evaluate(([t, req]) => window.harness.publish(t, req), [topic, pagePatientOpen('p-l2', 'local-2')] as const)).toMatchObject({ status: 202 });
  remote = await serve(port, origin);
  await expect.poll(() => bridgeState(b), { timeout: 60_000 }).toBe('connected');
  await expect.poll(() => remoteCurrentPatient(remote.hubUrl)).toBe('p-l2');
  expect(await eventIds(b)).toEqual(['remote-1', 'local-1', 'remote-2', 'local-2']);
  const status = await b.evaluate(() => (window as any).br.status);
  // out: the two publishes, and the local hub's SyncError about tab A (SyncErrors are relayed like any event)
  expect(status).toMatchObject({ eventsIn: 2, eventsOut: 3 });

  await b.evaluate(() => (window as any).br.stop());
  expect(await bridgeState(b)).toBe('stopped');
});
