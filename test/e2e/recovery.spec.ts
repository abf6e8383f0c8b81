import { expect, test, type Page } from '@playwright/test';
import { HOST_PROTOCOL } from '../../src/link/messages.js';
import { isLeaderTab, killSharedWorker, openApp, patientOpen, sharedWorkerTargets, subscribersOf, twoSubscribedTabs, uniqueWorkerUrl } from './support.js';

/** After a hub restart: both tabs subscribed again (same callbacks), a change flows, the context survived. */
async function expectRecovered(publisher: Page, receiver: Page, topic: string, contextBefore: unknown) {
  await expect.poll(async () => (await subscribersOf(publisher, topic)).filter((s) => s.connected).length, { timeout: 10_000 }).toBe(2);
  expect(await publisher.evaluate((t) => harness.hub.getContext(t), topic)).toEqual(contextBefore);
  const next = await publisher.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-after')] as const);
  expect(next.status).toBe(202);
  await receiver.waitForFunction((id) => harness.events.some((n) => n.id === id), next.id);
}

test('HUB-PERSIST-04 clients recover by themselves when the shared worker is terminated', async ({ context, browser }, info) => {
  const workerUrl = uniqueWorkerUrl(info.testId);
  const { a, b, topic } = await twoSubscribedTabs(context, workerUrl);
  await b.waitForFunction(() => harness.events.length === 1);
  const contextBefore = await a.evaluate((t) => harness.hub.getContext(t), topic);

  expect(await killSharedWorker(browser, info.testId)).toBe(1);

  await expectRecovered(a, b, topic, contextBefore);
  await expectRecovered(b, a, topic, await b.evaluate((t) => harness.hub.getContext(t), topic));
});

test('clients recover when a page of a newer tabcast retires the running worker', async ({ context, browser }, info) => {
  const workerUrl = uniqueWorkerUrl(info.testId);
  const { a, b, topic } = await twoSubscribedTabs(context, workerUrl);
  const contextBefore = await a.evaluate((t) => harness.hub.getContext(t), topic);
  const [oldWorker] = await sharedWorkerTargets(browser, info.testId);

  // A page from a later deploy speaks the next protocol: its hello makes the old host retire.
  const newer = await context.newPage();
  await newer.goto('/test-pages/app.html');
  const answer = await newer.evaluate(async ([url, protocol]) => {
    const worker = new SharedWorker(url, { type: 'module', name: 'tabcast' });
    const { port2 } = new MessageChannel();
    const reply = (id: string) => new Promise<any>((resolve) => worker.port.addEventListener('message', (e) => e.data.id === id && resolve(e.data.value)));
    worker.port.start();
    const call = (id: string, path: string, args: unknown[], transfer: Transferable[] = []) => {
      worker.port.postMessage({ id, type: 'APPLY', path: [path], argumentList: args.map((value) => ({ type: 'RAW', value })) }, transfer);
      return reply(id);
    };
    const welcome = await call('1', 'hello', [{ protocol, hubUrl: `${location.origin}/fhircast/hub`, events: port2 }], [port2]);
    return { welcome, retire: await call('2', 'retire', []) };
  }, [workerUrl, HOST_PROTOCOL + 1] as const);
  expect(answer.welcome).toMatchObject({ ok: true, value: { protocol: HOST_PROTOCOL } });
  expect(answer.retire).toEqual({ ok: true });
  await newer.close();

  await expect.poll(async () => (await sharedWorkerTargets(browser, info.testId)).some((id) => id !== oldWorker)).toBe(true);
  await expectRecovered(a, b, topic, contextBefore);
});

test('HUB-PERSIST-04 leader-tab mode hands the hub over when the leader tab closes, with no context lost', async ({ context }) => {
  const leader = await openApp(context, 'leader-tab', 'Leader');
  const b = await openApp(context, 'leader-tab', 'B');
  const c = await openApp(context, 'leader-tab', 'C');
  expect(await isLeaderTab(leader)).toBe(true);
  expect(await isLeaderTab(b)).toBe(false);
  const topic = await b.evaluate(() => harness.hub.createTopic());
  for (const page of [b, c]) await page.evaluate((t) => harness.subscribe(t, ['Patient-open']), topic);
  await b.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-before')] as const);
  await c.waitForFunction(() => harness.events.length === 1);
  const contextBefore = await b.evaluate((t) => harness.hub.getContext(t), topic);

  await leader.close();

  await expect.poll(async () => (await isLeaderTab(b)) || (await isLeaderTab(c))).toBe(true);
  await expectRecovered(b, c, topic, contextBefore);
  await expectRecovered(c, b, topic, await c.evaluate((t) => harness.hub.getContext(t), topic));
});
