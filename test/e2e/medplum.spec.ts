/**
 * Issue 16, drop-in mode with Medplum: a page bundling the unmodified @medplum/core 5.2.13, with
 * `fhircastHubUrl` set to the drop-in URL, subscribes, publishes and reads the current context
 * with no server running; a page on tabcast's typed API sees the same events.
 */
import { expect, test } from '@playwright/test';
import { build } from 'vite';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApp } from './support.js';

const HUB = 'https://hub.local/fhircast/STU3';
const root = fileURLToPath(new URL('../..', import.meta.url));
const BUNDLE = 'test/e2e/pages/.built/medplum-app.js';

test.describe.configure({ mode: 'serial' });

/** True when the bundle is newer than its entry and the installed @medplum/core (then it is reused). */
function bundleIsCurrent(): boolean {
  const mtime = (path: string) => statSync(join(root, path)).mtimeMs;
  try {
    return mtime(BUNDLE) > Math.max(mtime('test/e2e/pages/medplum-app.ts'), mtime('node_modules/@medplum/core/package.json'));
  } catch {
    return false;
  }
}

test.beforeAll(async () => {
  if (bundleIsCurrent()) return;
  // The page's bundle, as an app's own build would make it (no minification, for speed).
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    build: {
      outDir: 'test/e2e/pages/.built',
      emptyOutDir: true,
      minify: false,
      target: 'es2022',
      lib: { entry: 'test/e2e/pages/medplum-app.ts', formats: ['es'], fileName: () => 'medplum-app.js' },
    },
  });
});

test('I16 Medplum: MedplumClient on the drop-in URL subscribes, publishes and reads the current context with no server; a typed-API page sees the same events (HUB-SUB-01, HUB-GET)', async ({ context }) => {
  const typed = await openApp(context, 'auto', 'typed');
  const topic = await typed.evaluate(() => window.harness.hub.createTopic());
  await typed.evaluate((t) => window.harness.subscribe(t, ['Patient-open']), topic);

  const medplum = await context.newPage();
  await medplum.goto('/test-pages/medplum.html');
  await medplum.waitForFunction(() => (window as any).medplumApp !== undefined);
  const endpoint = await medplum.evaluate(({ hub, t }) => (window as any).medplumApp.subscribe(hub, t, ['Patient-open']), { hub: HUB, t: topic });
  expect(endpoint.startsWith('wss://hub.local/fhircast/STU3/')).toBe(true);

  await medplum.evaluate(({ hub, t }) => (window as any).medplumApp.publish(hub, t, 'from-medplum'), { hub: HUB, t: topic });
  await typed.waitForFunction(() => window.harness.events.some((n) => n.event.context[0].resource.id === 'from-medplum'));

  await typed.evaluate((t) => window.harness.publish(t, { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'from-typed' } }] }), topic);
  await medplum.waitForFunction(() => (window as any).medplumApp.received.some((n: any) => n.event.context[0].resource.id === 'from-typed'));
  const names = await medplum.evaluate(() => (window as any).medplumApp.received.map((n: any) => n.event.context[0].resource.id));
  expect(names).toEqual(['from-medplum', 'from-typed']);

  const current = await medplum.evaluate(({ hub, t }) => (window as any).medplumApp.getContext(hub, t), { hub: HUB, t: topic });
  expect(JSON.stringify(current)).toContain('from-typed');
  expect(JSON.stringify(current)).not.toContain('from-medplum');
});
