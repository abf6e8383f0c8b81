// hub.bridge({dialect: '2019', getTopic}) from a page, against a real `tabcast serve --users FILE`
// process (HUB-ENV-03): the remote topic comes from GetTopic, events flow both ways, and the
// secret never shows in what the page can see of the bridge.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { MODES, openApp, patientOpen } from './support.js';

const binary = fileURLToPath(new URL('../../bin/tabcast.js', import.meta.url));
const SECRET = 'e2e-2019-app-secret';

function startRemoteHub(allowOrigin: string, usersFile: string): Promise<{ hubUrl: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [binary, 'serve', '--port', '0', '--allow-origin', allowOrigin, '--users', usersFile], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  test(`HUB-ENV-03 hub.bridge() with dialect 2019 and getTopic relays both ways with tabcast serve --users (${mode})`, async ({ context, baseURL }) => {
    const dir = mkdtempSync(join(tmpdir(), 'tabcast-e2e-2019-'));
    const usersFile = join(dir, 'users.json');
    writeFileSync(usersFile, JSON.stringify({ secret: SECRET, groups: [['radiologist', 'radiologist-ris']] }));
    const remote = await startRemoteHub(baseURL!, usersFile);
    try {
      const remoteTopic = ((await (await fetch(`${remote.hubUrl}/gettopic?username=radiologist-ris&secret=${SECRET}`)).json()) as any)['hub.topic'];
      const page = await openApp(context, mode, 'Bridged 2019 app');
      const topic = await page.evaluate(() => harness.hub.createTopic());
      await page.evaluate((t) => harness.subscribe(t, ['Patient-open']), topic);
      await page.evaluate(
        async ([t, remoteHubUrl, secret]) => {
          const handle = await harness.hub.bridge({ topic: t, remoteHubUrl, dialect: '2019', getTopic: { username: 'radiologist', secret }, events: ['Patient-open'] });
          Object.assign(window, { bridgeHandle: handle });
        },
        [topic, remote.hubUrl, SECRET] as const,
      );
      await page.waitForFunction(() => (window as any).bridgeHandle.status.state === 'connected', undefined, { timeout: 15_000 });

      const bearer = { authorization: `Bearer ${SECRET}` };
      await page.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-local')] as const);
      await expect.poll(async () => (await (await fetch(`${remote.hubUrl}/${remoteTopic}`, { headers: bearer })).json()).context?.[0]?.resource?.id).toBe('pt-local');

      const remoteChange = { timestamp: new Date().toISOString(), id: 'from-2019-remote', event: { 'hub.topic': remoteTopic, ...patientOpen('pt-remote') } };
      const posted = await fetch(remote.hubUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer }, body: JSON.stringify(remoteChange) });
      expect(posted.status).toBe(202);
      await page.waitForFunction(() => harness.events.some((n) => n.event.context[0].resource.id === 'pt-remote'));
      expect(await page.evaluate(() => harness.events.filter((n) => n.id === 'from-2019-remote').length)).toBe(1);
      expect(JSON.stringify(await page.evaluate(() => (window as any).bridgeHandle.status))).not.toContain(SECRET);
      await page.evaluate(() => (window as any).bridgeHandle.stop());
    } finally {
      remote.process.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
