/**
 * A worker started from a URL with a query (data-worker-url=…?v=2; the e2e tests' unique URLs) keeps
 * serving after its on-demand chunks load: they import the entry by its plain URL, a second copy of
 * the module, which must not start a second host (found while merging the STOMP door, issue 13).
 */
import { expect, test } from '@playwright/test';
import { uniqueWorkerUrl } from './support.js';

test('a worker started with a query in its URL still accepts new pages after hub.fetch loaded its wire chunk', async ({ context }, info) => {
  const workerUrl = uniqueWorkerUrl(info.testId);
  const first = await context.newPage();
  await first.goto('/test-pages/app.html');
  await first.evaluate((w) => window.harness.connect({ mode: 'shared-worker', workerUrl: w }), workerUrl);
  expect(await first.evaluate(async () => (await window.harness.hub.fetch(`${window.harness.hub.hubUrl}/t-1/protocols`)).status)).toBe(200);
  const second = await context.newPage();
  await second.goto('/test-pages/app.html');
  await second.evaluate((w) => window.harness.connect({ mode: 'shared-worker', workerUrl: w }), workerUrl);
  const topic = await second.evaluate(() => window.harness.hub.createTopic());
  expect(typeof topic).toBe('string');
});
