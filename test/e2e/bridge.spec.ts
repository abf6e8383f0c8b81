import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { MODES, openApp, patientOpen } from './support.js';

const binary = fileURLToPath(new URL('../../bin/tabcast.js', import.meta.url));

/** Starts `tabcast serve` on a free port, as the remote hub; resolves with its hub.url. */
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

for (const mode of MODES) {
  test(`hub.bridge() relays a topic to a remote hub; its handle follows the status until stop() (${mode})`, async ({ context, baseURL }) => {
    const remote = await startRemoteHub(baseURL!);
    try {
      const page = await openApp(context, mode, 'Bridged app');
      const topic = await page.evaluate(() => harness.hub.createTopic());
      await page.evaluate((t) => harness.subscribe(t, ['Patient-open']), topic);
      await page.evaluate(
        async ([t, remoteHubUrl]) => {
          const handle = await harness.hub.bridge({ topic: t, remoteHubUrl, events: ['Patient-open'] });
          const states: string[] = [];
          handle.onStatus((status: { state: string }) => states.push(status.state));
          Object.assign(window, { bridgeHandle: handle, bridgeStates: states });
        },
        [topic, remote.hubUrl] as const,
      );
      await page.waitForFunction(() => (window as any).bridgeHandle.status.state === 'connected');

      // Local → remote: the remote hub's current context follows.
      await page.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-local')] as const);
      await expect.poll(async () => (await (await fetch(`${remote.hubUrl}/${topic}`)).json()).context?.[0]?.resource?.id).toBe('pt-local');
      await page.waitForFunction(() => (window as any).bridgeHandle.status.eventsOut >= 1);

      // Remote → local: a change made at the remote reaches this page's subscriber.
      const remoteChange = { timestamp: new Date().toISOString(), id: 'from-remote', event: { 'hub.topic': topic, ...patientOpen('pt-remote') } };
      const posted = await fetch(remote.hubUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(remoteChange) });
      expect(posted.status).toBe(202);
      await page.waitForFunction(() => harness.events.some((n) => n.event.context[0].resource.id === 'pt-remote'));
      await page.waitForFunction(() => (window as any).bridgeHandle.status.eventsIn >= 1);

      await page.evaluate(() => (window as any).bridgeHandle.stop());
      expect(await page.evaluate(() => (window as any).bridgeHandle.status.state)).toBe('stopped');
      expect(await page.evaluate(() => (window as any).bridgeStates)).toContain('connected');
    } finally {
      remote.process.kill();
    }
  });
}
