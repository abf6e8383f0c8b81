/**
 * Bridge dialect `stomp` from the page (issue 13): the worker's bridge speaks STOMP 1.2 to a real
 * `tabcast serve` at `{hub.url}/websocket` with the browser's own WebSocket, and events go both ways.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { openApp, patientOpen } from './support.js';

const binary = fileURLToPath(new URL('../../bin/tabcast.js', import.meta.url));
const serverBuilt = existsSync(fileURLToPath(new URL('../../dist/tabcast-server.js', import.meta.url)));

test.skip(!serverBuilt, 'tabcast serve is not built (dist/tabcast-server.js)');

function startRemoteHub(allowOrigin: string): Promise<{ hubUrl: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [binary, 'serve', '--port', '0', '--allow-origin', allowOrigin], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /FHIRcast hub listening on (\S+)/.exec(output);
      if (match) resolve({ hubUrl: match[1]!, process: child });
    });
    child.once('exit', (code) => reject(new Error(`tabcast serve exited with ${code}: ${output}`)));
  });
}

test('HUB-STOMP-05 HUB-STOMP-04 hub.bridge({dialect: "stomp"}) relays a topic over the remote STOMP channel, both ways', async ({ context, baseURL }) => {
  const remote = await startRemoteHub(baseURL!);
  try {
    const page = await openApp(context, 'shared-worker', 'Bridged app');
    const topic = await page.evaluate(() => harness.hub.createTopic());
    await page.evaluate((t) => harness.subscribe(t, ['Patient-open']), topic);
    await page.evaluate(
      async ([t, remoteHubUrl]) => {
        const handle = await harness.hub.bridge({ topic: t, remoteHubUrl, events: ['Patient-open'], dialect: 'stomp' });
        Object.assign(window, { bridgeHandle: handle });
      },
      [topic, remote.hubUrl] as const,
    );
    await page.waitForFunction(() => (window as any).bridgeHandle.status.state === 'connected');

    await page.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-local')] as const);
    await expect.poll(async () => (await (await fetch(`${remote.hubUrl}/${topic}/context`)).json()).event?.context?.[0]?.resource?.id).toBe('pt-local');

    const remoteChange = { timestamp: new Date().toISOString(), id: 'from-remote', event: { 'hub.topic': topic, ...patientOpen('pt-remote') } };
    const posted = await fetch(remote.hubUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(remoteChange) });
    expect(posted.status).toBe(202);
    await page.waitForFunction(() => harness.events.some((n) => n.id === 'from-remote'));
    await page.waitForFunction(() => (window as any).bridgeHandle.status.eventsIn >= 1 && (window as any).bridgeHandle.status.eventsOut >= 1);
    await page.evaluate(() => (window as any).bridgeHandle.stop());
    expect(await page.evaluate(() => (window as any).bridgeHandle.status.state)).toBe('stopped');
  } finally {
    remote.process.kill();
  }
});
