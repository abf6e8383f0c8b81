/** HUB-BOUND and stored-record validation in the real SharedWorker (and leader tab) over IndexedDB. */
import { expect, test, type Page } from '@playwright/test';
import { MODES, openApp, reportOpen, uniqueWorkerUrl } from './support.js';

const studyOpen = (id: string) => ({
  'hub.event': 'ImagingStudy-open',
  context: [
    { key: 'study', resource: { resourceType: 'ImagingStudy', id, status: 'available', subject: { reference: 'Patient/p-1' } } },
    { key: 'patient', resource: { resourceType: 'Patient', id: 'p-1' } },
  ],
});

/** Keys of the hub's IndexedDB store, read from the page (same origin as the worker). */
function storedKeys(page: Page): Promise<string[]> {
  return page.evaluate(
    () =>
      new Promise<string[]>((resolve, reject) => {
        const open = indexedDB.open('tabcast');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const request = open.result.transaction('hub', 'readonly').objectStore('hub').getAllKeys();
          request.onsuccess = () => {
            open.result.close();
            resolve(request.result.map(String));
          };
          request.onerror = () => reject(request.error);
        };
      }),
  );
}

for (const mode of MODES) {
  test(`HUB-BOUND-07 HUB-BOUND-03 HUB-BOUND-02 the worker's bounds are in inspect(); the 101st open forgets the oldest, and IndexedDB holds one record per open context (${mode})`, async ({ context }, info) => {
    const page = await openApp(context, mode, 'Viewer', { workerUrl: uniqueWorkerUrl(info.testId) });
    const topic = await page.evaluate(() => harness.hub.createTopic());
    const first = await page.evaluate(() => harness.hub.inspect());
    expect(first.bounds).toEqual({ maxOpenContexts: 100, maxContentBytes: 4_194_304, maxTopics: 10_000, idleTopicMs: 86_400_000, connectTimeoutMs: 60_000 });
    expect(first.forgotten).toEqual({ contexts: 0, topics: 0, subscriptions: 0 });
    const statuses = await page.evaluate(
      async ([t, opens]) => {
        const out: number[] = [];
        for (const open of opens) out.push((await harness.publish(t, open)).status);
        return out;
      },
      [topic, Array.from({ length: 101 }, (_, i) => studyOpen(`st-${i}`))] as const,
    );
    expect(statuses.every((s) => s === 202)).toBe(true);
    const after = await page.evaluate(() => harness.hub.inspect());
    const open = after.topics.find((t: { topic: string }) => t.topic === topic).open.map((o: { id: string }) => o.id);
    expect(open).toHaveLength(100);
    expect(open).not.toContain('st-0');
    expect(after.forgotten.contexts).toBe(1);
    expect((await page.evaluate((t) => harness.hub.getContext(t), topic)).context[0].resource.id).toBe('st-100');
    const keys = await storedKeys(page);
    const prefix = `ctx/${topic}/`;
    expect(keys.filter((k) => k.startsWith(prefix))).toHaveLength(100);
    expect(keys).toContain(`topic/${topic}`);
    expect(keys).not.toContain(`${prefix}ImagingStudy/st-0`);
  });

  test(`HUB-BOUND-04 an update past 4 MiB of content gets 413 from the worker, and nothing is applied (${mode})`, async ({ context }, info) => {
    const page = await openApp(context, mode, 'Reporting', { workerUrl: uniqueWorkerUrl(info.testId) });
    const topic = await page.evaluate(() => harness.hub.createTopic());
    expect((await page.evaluate(([t, r]) => harness.publish(t, r), [topic, reportOpen('dr-1', 'p-1')] as const)).status).toBe(202);
    const before = await page.evaluate((t) => harness.hub.getContext(t), topic);
    const result = await page.evaluate(
      ([t, v]) =>
        harness.publish(t, {
          'hub.event': 'DiagnosticReport-update',
          'context.versionId': v,
          context: [
            { key: 'report', reference: { reference: 'DiagnosticReport/dr-1' } },
            { key: 'updates', resource: { resourceType: 'Bundle', id: 'big', type: 'transaction', entry: [{ request: { method: 'PUT', url: 'Binary/b-1' }, resource: { resourceType: 'Binary', id: 'b-1', data: 'A'.repeat(4 * 1024 * 1024) } }] } },
          ],
        }),
      [topic, before['context.versionId']] as const,
    );
    expect(result.error).toMatchObject({ isHubError: true, status: 413 });
    expect(await page.evaluate((t) => harness.hub.getContext(t), topic)).toEqual(before);
  });
}

test('L2 HUB-SEC-15 a malformed record in IndexedDB is left out by the worker and reported in inspect().storage; the hub serves the rest', async ({ context }, info) => {
  const page = await context.newPage();
  await page.goto('/test-pages/app.html');
  // The store as a previous hub left it, plus one record that is not a context record.
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('tabcast');
        open.onupgradeneeded = () => open.result.createObjectStore('hub');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('hub', 'readwrite');
          const store = tx.objectStore('hub');
          store.put({ topic: 'T-l2', createdAt: 1, seq: 1, current: 'Patient/p-ok' }, 'topic/T-l2');
          store.put(
            { topic: 'T-l2', anchorType: 'Patient', anchorId: 'p-ok', versionId: 'v-1', seq: 1, contentBundleId: 'b-1', derived: [], notification: { timestamp: '2026-01-01T00:00:00Z', id: 'ev-ok', event: { 'hub.topic': 'T-l2', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p-ok' } }] } } },
            'ctx/T-l2/Patient/p-ok',
          );
          store.put({ topic: 'T-l2', anchorType: 'Patient', anchorId: 'p-bad', versionId: 42 }, 'ctx/T-l2/Patient/p-bad');
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
  );
  await page.evaluate((options) => window.harness.connect(options), { mode: 'shared-worker', appName: 'Inspector', workerUrl: uniqueWorkerUrl(info.testId) });
  const snapshot = await page.evaluate(() => harness.hub.inspect());
  expect(snapshot.storage.ok).toBe(true);
  expect(snapshot.storage.malformed).toEqual([{ key: 'ctx/T-l2/Patient/p-bad', reason: expect.stringContaining('versionId') }]);
  expect((await page.evaluate(() => harness.hub.getContext('T-l2'))).context[0].resource.id).toBe('p-ok');
});

test('HUB-BOUND-05 the worker holds at most 10,000 topics: one more gets 503 with a reason, and existing topics keep working', async ({ context }, info) => {
  test.setTimeout(120_000);
  const page = await openApp(context, 'shared-worker', 'Topics', { workerUrl: uniqueWorkerUrl(info.testId) });
  const made = await page.evaluate(async () => {
    let n = 0;
    let first = '';
    while (n < 10_000) {
      const batch = await Promise.all(Array.from({ length: Math.min(500, 10_000 - n) }, () => harness.hub.createTopic()));
      first ||= batch[0];
      n += batch.length;
    }
    return { n, first };
  });
  expect(made.n).toBe(10_000);
  const refused = await page.evaluate(() => harness.hub.createTopic().then(() => undefined, (e: { status: number; message: string }) => ({ status: e.status, message: e.message })));
  expect(refused).toMatchObject({ status: 503, message: expect.stringContaining('10000 topics') });
  expect((await page.evaluate(([t, r]) => harness.publish(t, r), [made.first, studyOpen('st-1')] as const)).status).toBe(202);
});

// The worker's connect deadline is the DESIGN.md constant (60 s), so this test lives through it in real
// time; it awaits the hub's own log entry for the ending instead of sleeping.
test('HUB-BOUND-06 in the real SharedWorker, a subscription whose WebSocket never opens ends after 60 s and its endpoint is then refused with 404', async ({ context }, info) => {
  test.setTimeout(120_000);
  const page = await openApp(context, 'shared-worker', 'Viewer', { workerUrl: uniqueWorkerUrl(info.testId) });
  const outcome = await page.evaluate(async () => {
    const hub = harness.hub;
    const topic = await hub.createTopic();
    const ended = new Promise<{ at: number; detail?: string }>((resolve) => {
      const stop = hub.observe((e: { type: string; subscriber?: string; at: number; detail?: string }) => {
        if (e.type === 'denied' && e.subscriber === 'Never connects') {
          stop();
          resolve(e);
        }
      });
    });
    const subscribedAt = Date.now();
    const body = new URLSearchParams({
      'hub.mode': 'subscribe',
      'hub.topic': topic,
      'hub.events': 'Patient-open',
      'hub.channel.type': 'websocket',
      'hub.lease_seconds': '3600',
      'subscriber.name': 'Never connects',
    });
    const res = await hub.fetch(new Request(hub.hubUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }));
    const endpoint: string = (await res.json())['hub.channel.endpoint'];
    const probe = (url: string) => hub.fetch(new Request(url.replace(/^ws/, 'http'))).then((r: Response) => r.status);
    const before = await probe(endpoint);
    const entry = await ended;
    return { subscribeStatus: res.status, before, after: await probe(endpoint), waitedMs: entry.at - subscribedAt, detail: entry.detail, forgotten: (await hub.inspect()).forgotten };
  });
  expect(outcome.subscribeStatus).toBe(202);
  expect(outcome.before).toBe(426); // the endpoint exists (it speaks WebSocket only) while the deadline runs
  expect(outcome.waitedMs).toBeGreaterThanOrEqual(59_990);
  expect(outcome.detail).toContain('no connection');
  expect(outcome.after).toBe(404);
  expect(outcome.forgotten.subscriptions).toBe(1);
});
