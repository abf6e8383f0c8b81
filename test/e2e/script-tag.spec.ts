import { expect, test } from '@playwright/test';
import { openApp, patientOpen, sharedWorkerTargets } from './support.js';

test('a plain <script> tag defines Tabcast and its worker defaults to the sibling tabcast-worker.js', async ({ context, baseURL }) => {
  const page = await openApp(context, 'leader-tab'); // the leader imports the worker URL, so resource timing shows it
  expect(await page.evaluate(() => [typeof Tabcast.connect, typeof Tabcast.HubError, Object.keys(Tabcast).sort()])).toEqual(['function', 'function', ['HubError', 'connect', 'install', 'uninstall']]);
  const loaded = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name).filter((n) => n.includes('tabcast-worker')));
  expect(loaded).toEqual([`${baseURL}/tabcast/tabcast-worker.js`]);
  const topic = await page.evaluate(() => harness.hub.createTopic());
  expect((await page.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-1')] as const)).status).toBe(202);
});

test('the ES module build works the same', async ({ context, baseURL }) => {
  const page = await context.newPage();
  await page.goto('/test-pages/esm.html');
  await page.waitForFunction(() => (window as any).tabcastLoaded === true);
  await page.evaluate(() => harness.connect({ mode: 'leader-tab' }));
  const loaded = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name).filter((n) => n.includes('tabcast-worker')));
  expect(loaded).toEqual([`${baseURL}/tabcast/tabcast-worker.js`]);
  const topic = await page.evaluate(() => harness.hub.createTopic());
  const refused = await page.evaluate((t) => harness.publish(t, { 'hub.event': 'Patient-open', context: [] }), topic);
  expect(refused.error).toMatchObject({ isHubError: true, name: 'HubError', status: 400 });
});

test('data-worker-url on the script tag chooses the worker', async ({ context, browser }) => {
  const page = await context.newPage();
  await page.goto('/test-pages/worker-attribute.html');
  await page.evaluate(() => harness.connect({ mode: 'shared-worker' }));
  expect(await sharedWorkerTargets(browser, 'from=data-attribute')).toHaveLength(1);
});

test('a worker URL on another origin fails with a message that says why and what to do', async ({ context, baseURL }) => {
  const port = new URL(baseURL!).port;
  const otherOrigin = `http://localhost:${port}`;
  await context.route('**/test-pages/cross-origin.html', (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><link rel="icon" href="data:,"><script src="/tabcast/tabcast.iife.js" data-worker-url="${otherOrigin}/tabcast/tabcast-worker.js"></script>`,
    }),
  );
  const page = await context.newPage();
  await page.goto('/test-pages/cross-origin.html');
  const fromAttribute = await page.evaluate(() => Tabcast.connect().then(() => 'connected', (e: Error) => e.message));
  const fromOption = await page.evaluate((url) => Tabcast.connect({ workerUrl: url }).then(() => 'connected', (e: Error) => e.message), `${otherOrigin}/tabcast/tabcast-worker.js`);
  for (const message of [fromAttribute, fromOption]) {
    expect(message).toContain(`${otherOrigin}/tabcast/tabcast-worker.js is on another origin than this page (${baseURL})`);
    expect(message).toContain('A SharedWorker can only be started from the page\u2019s own origin');
    expect(message).toContain(`Serve tabcast-worker.js from ${baseURL}`);
    expect(message).toContain('hub.bridge()');
  }
});

test('a worker URL that serves nothing fails with a clear message', async ({ context }) => {
  const page = await context.newPage();
  await page.goto('/test-pages/app.html');
  const message = await page.evaluate(() => Tabcast.connect({ mode: 'shared-worker', workerUrl: '/tabcast/no-such-worker.js' }).then(() => 'connected', (e: Error) => e.message));
  expect(message).toContain('/tabcast/no-such-worker.js did not start');
});
