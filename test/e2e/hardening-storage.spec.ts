/**
 * Issue #7 in Chromium: IndexedDB writes failing under the real idb-storage adapter. The hub runs
 * in the leader tab here, so the test can make that tab's IndexedDB fail the way browsers do: a
 * put that throws QuotaExceededError, or a transaction aborted before it commits. The rule: a
 * publisher gets 202 only for a durable change, else a 503 that says why; the hub keeps serving
 * from memory, inspect() says so, and after a restart every 202'd change is there.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { recordStats, STRESS } from '../unit/hardening/support/sizes.js';
import { patientOpen } from './support.js';

type Fault = 'none' | 'quota' | 'abort';

/** Opens a tab whose IndexedDB fails on demand (window.storageFault), and makes it the leader. */
async function leaderWithFaults(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto('/test-pages/app.html');
  await page.evaluate(() => {
    const w = window as unknown as { storageFault: Fault };
    w.storageFault = 'none';
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (w.storageFault === 'quota') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      const request = put.apply(this, args);
      // The commit fails after the put was queued, as when the disk fills up during the transaction.
      if (w.storageFault === 'abort') queueMicrotask(() => this.transaction.abort());
      return request;
    };
  });
  await page.evaluate(() => harness.connect({ mode: 'leader-tab', appName: 'Leader' }));
  return page;
}

test('HUB-PERSIST-05 IndexedDB writes failing (quota, aborted transaction): 202 only when durable, else 503; the hub serves on and every 202 survives a restart', async ({ context }) => {
  const publishes = STRESS ? 600 : 60;
  test.setTimeout(60_000 + publishes * 200);
  const page = await leaderWithFaults(context);
  const plan: Fault[] = Array.from({ length: publishes }, (_, i) => (['none', 'none', 'quota', 'none', 'abort'] as const)[(i * 7 + (i >> 3)) % 5]!);
  const outcomes: Array<{ i: number; fault: Fault; status: number; diagnostics?: string; storageOk: boolean; current?: string }> = [];
  for (let i = 0; i < publishes; i++) {
    await page.evaluate((f) => ((window as unknown as { storageFault: Fault }).storageFault = f), plan[i]!);
    const topic = `faulty-${i % 20}`;
    const answer = await page.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen(`pt-${i}`)] as const);
    const seen = await page.evaluate(async (t) => ({ storage: (await harness.hub.inspect()).storage, current: (await harness.hub.getContext(t)).context[0]?.resource?.id }), topic);
    outcomes.push({ i, fault: plan[i]!, status: answer.status ?? answer.error?.status, diagnostics: answer.error?.outcome?.issue?.[0]?.diagnostics, storageOk: seen.storage.ok, current: seen.current });
  }
  for (const o of outcomes) {
    // The hub keeps serving from memory: the change is current whether or not it was stored.
    expect(o.current, `publish ${o.i}`).toBe(`pt-${o.i}`);
    if (o.fault === 'none') {
      expect(o.status, `publish ${o.i} with a healthy IndexedDB`).toBe(202);
      expect(o.storageOk).toBe(true);
    } else {
      expect(o.status, `publish ${o.i} with ${o.fault}`).toBe(503);
      expect(o.diagnostics).toMatch(/could not be stored durably/);
      if (o.fault === 'quota') expect(o.diagnostics).toMatch(/QuotaExceededError/);
      expect(o.storageOk, 'inspect() says storage is failing').toBe(false);
    }
  }
  // A restart: the leader tab goes, a new one reads IndexedDB. The last 202'd change of every topic is there.
  await page.close();
  const next = await context.newPage();
  await next.goto('/test-pages/app.html');
  await next.evaluate(() => harness.connect({ mode: 'leader-tab', appName: 'Next' }));
  const lastAccepted = new Map<string, number>();
  for (const o of outcomes) if (o.status === 202) lastAccepted.set(`faulty-${o.i % 20}`, o.i);
  const lost: string[] = [];
  for (const [topic, index] of lastAccepted) {
    const ctx = await next.evaluate((t) => harness.hub.getContext(t), topic);
    const current = ctx.context[0]?.resource?.id as string;
    // The hub rewrites a failed batch with the next one, so storage may hold a change applied (and
    // answered 503) after the last 202: that is the store catching up, not a loss.
    const acceptable = outcomes.filter((o) => o.i >= index && `faulty-${o.i % 20}` === topic).map((o) => `pt-${o.i}`);
    if (!acceptable.includes(current)) lost.push(`${topic}: pt-${index} was answered 202, found ${current}`);
  }
  expect(lost, '202 answered for changes that did not survive the restart').toStrictEqual([]);
  expect((await next.evaluate(([t, r]) => harness.publish(t, r), ['faulty-0', patientOpen('pt-after')] as const)).status).toBe(202);
  recordStats('browser', 'IndexedDB writes failing in the leader tab (QuotaExceededError, aborted transaction)', {
    publishes,
    'faults injected': outcomes.filter((o) => o.fault !== 'none').length,
    '503 answers': outcomes.filter((o) => o.status === 503).length,
    'topics checked after restart': lastAccepted.size,
    lost: lost.length,
  });
});
