/**
 * Issue #7 in Chromium: the in-browser hub under faults, load and hostile ports. A shared worker
 * terminated mid-burst, a tab crashing while it acks, many subscribers across tabs, a soak of tabs
 * coming and going, and random messages on the worker's raw ports. Sizes follow
 * test/unit/hardening/support/sizes.ts (TABCAST_STRESS=1 for the full run of scripts/stress.mjs).
 */
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import fc from 'fast-check';
import { budget, KILL_BURST, LOAD_EVENTS, LOAD_SUBSCRIBERS, recordStats, runs, SOAK_MS, SOAK_SUBSCRIBERS, STRESS } from '../unit/hardening/support/sizes.js';
import { killSharedWorker, MODES, openApp, patientOpen, sharedWorkerTargets, steadyAppAndRawPage, subscribersOf, uniqueWorkerUrl } from './support.js';

declare global {
  interface Window {
    burst: { results: Array<{ i: number; status?: number; error?: unknown }>; done: boolean };
    got: Record<string, string[]>;
    pub: { sent: number; answered: number; stop: boolean; failures: unknown[] };
    /** Resolves once `test()` holds; re-checked whenever the page records something (see installUntil). */
    until(test: () => boolean): Promise<void>;
    changed(): void;
  }
}

/**
 * Waits in pages are driven by the page's own events, never by polling: hidden tabs get no
 * animation frames and throttled timers, so `waitForFunction` may not look again for a long time.
 * Every place that records something calls `window.changed()`; harness.events is hooked too.
 */
async function installUntil(page: Page): Promise<void> {
  await page.evaluate(() => {
    if (typeof window.until === 'function') return;
    const waiters = new Set<() => void>();
    window.changed = () => {
      for (const check of [...waiters]) check();
    };
    window.until = (test) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!test()) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    const events = harness.events;
    const push = events.push.bind(events);
    events.push = (...items: unknown[]) => {
      const n = push(...items);
      window.changed();
      return n;
    };
  });
}

/** Waits for a page-side promise, failing after `ms` with `what` (a node timer: pages may be throttled). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a stalled publisher page and a fresh tab see, to tell a stuck page from a stuck worker. */
async function explainStall(context: BrowserContext, publisher: Page, topic: string, workerUrl: string, consoleLines: string[]): Promise<string> {
  const state = await within(publisher.evaluate(() => ({ ...window.pub, failures: window.pub.failures.slice(-3) })), 10_000, 'the publisher page').catch((e: Error) => e.message);
  const probe = await context.newPage();
  let fresh: unknown;
  try {
    await probe.goto('/test-pages/app.html');
    fresh = await within(
      probe.evaluate(async ([t, url]) => {
        await harness.connect({ mode: 'shared-worker', appName: 'Probe', workerUrl: url });
        const started = performance.now();
        const answer = await harness.publish(t, { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'probe' } }] });
        const snapshot = await harness.hub.inspect();
        const mine = snapshot.topics.find((x: { topic: string }) => x.topic === t);
        return { answer, ms: performance.now() - started, storage: snapshot.storage, subscribers: mine?.subscribers.length, pending: mine?.subscribers.map((s: { pending: number }) => s.pending) };
      }, [topic, workerUrl] as const),
      15_000,
      'a fresh tab',
    );
  } catch (error) {
    fresh = String(error);
  } finally {
    await probe.close();
  }
  return JSON.stringify({ publisher: state, freshTab: fresh, publisherConsole: consoleLines.slice(-10) });
}

/** Opens an app tab with `window.until` installed. */
async function openTab(context: BrowserContext, mode: (typeof MODES)[number], name: string, options: object = {}): Promise<Page> {
  const page = await openApp(context, mode, name, options);
  await installUntil(page);
  return page;
}

/** Pace of the soak's publisher: about 50 context changes a second, far above what people cause. */
const SOAK_GAP_MS = 20;

/** Heap in use by the shared worker after a full collection, in MB (CDP into the worker target). */
async function workerHeapMb(browser: Browser, urlPart: string): Promise<number> {
  const [targetId] = await sharedWorkerTargets(browser, urlPart);
  if (!targetId) throw new Error('no shared worker to measure');
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: false });
    let next = 0;
    const waiting = new Map<number, (m: any) => void>();
    cdp.on('Target.receivedMessageFromTarget', (e) => {
      if (e.sessionId !== sessionId) return;
      const m = JSON.parse(e.message);
      waiting.get(m.id)?.(m);
    });
    const call = (method: string) =>
      new Promise<any>((resolve) => {
        const id = ++next;
        waiting.set(id, resolve);
        void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params: {} }) });
      });
    await call('HeapProfiler.enable');
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const usage = await call('Runtime.getHeapUsage');
    await cdp.send('Target.detachFromTarget', { sessionId });
    return usage.result.usedSize / 2 ** 20;
  } finally {
    await cdp.detach();
  }
}

/** Subscribes `names` on a page, each recording the ids it gets in window.got[name]. */
async function recordingSubscribers(page: Page, topic: string, names: string[]): Promise<void> {
  await page.evaluate(
    async ([t, list]) => {
      window.got ??= {};
      for (const name of list) {
        window.got[name] = [];
        await harness.hub.subscribe({ topic: t, events: ['Patient-open'], subscriberName: name }, (n: any) => {
          window.got[name]!.push(n.id);
          window.changed();
        });
      }
    },
    [topic, names] as const,
  );
}

/**
 * Starts publishing Patient-open `ev-<n>` on a page, one at a time, until window.pub.stop or
 * `limit`. `gapMs` > 0 paces it: the hub has no flow control, so an unpaced publisher on a busy
 * 2-core machine can outrun ten subscriber tabs by tens of seconds (they catch up; nothing is lost).
 */
async function startPublisher(page: Page, topic: string, limit = Number.MAX_SAFE_INTEGER, gapMs = 0): Promise<void> {
  await page.evaluate(
    ([t, max, gap]) => {
      window.pub = { sent: 0, answered: -1, stop: false, failures: [] };
      void (async () => {
        while (!window.pub.stop && window.pub.sent < max) {
          const seq = window.pub.sent++;
          try {
            const r = await harness.hub.publish(t, { 'hub.event': 'Patient-open', id: `ev-${seq}`, context: [{ key: 'patient', resource: { resourceType: 'Patient', id: `pt-${seq % 50}` } }] });
            if (r.status !== 202) window.pub.failures.push(r);
          } catch (error: any) {
            window.pub.failures.push({ status: error.status, message: error.message });
          }
          window.pub.answered = seq;
          window.changed();
          if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
        }
      })();
    },
    [topic, limit, gapMs] as const,
  );
}

test('HUB-PERSIST-05 a shared worker terminated mid-burst: every publish settles, and every one answered 202 is there after the restart', async ({ context, browser }, info) => {
  test.setTimeout(budget(KILL_BURST * 60));
  const workerUrl = uniqueWorkerUrl(info.testId);
  const page = await openTab(context, 'shared-worker', 'Burst', { workerUrl });
  await page.evaluate((n) => {
    window.burst = { results: [], done: false };
    void (async () => {
      for (let i = 0; i < n; i++) {
        try {
          const r = await harness.hub.publish(`kill-${i}`, { 'hub.event': 'Patient-open', id: `ev-${i}`, context: [{ key: 'patient', resource: { resourceType: 'Patient', id: `pt-${i}` } }] });
          window.burst.results.push({ i, status: r.status });
        } catch (error: any) {
          window.burst.results.push({ i, error: error.status ?? String(error) });
        }
        window.changed();
      }
      window.burst.done = true;
      window.changed();
    })();
  }, KILL_BURST);
  const killAt = Math.floor(KILL_BURST / 3);
  await within(page.evaluate((k) => window.until(() => window.burst.results.length >= k), killAt), 60_000, `${killAt} answers`);
  expect(await killSharedWorker(browser, info.testId)).toBe(1);
  // Every publish settles: a 202, or an error the app can act on; none hangs.
  await within(page.evaluate(() => window.until(() => window.burst.done)), 60_000, 'every publish of the burst to settle');
  const results = await page.evaluate(() => window.burst.results);
  expect(results).toHaveLength(KILL_BURST);
  const accepted = results.filter((r) => r.status === 202);
  expect(accepted.length).toBeGreaterThan(killAt - 1);
  // The restarted worker reads IndexedDB: every 202'd change is there.
  const currents = await page.evaluate(async (ids) => {
    const out: Array<string | undefined> = [];
    for (const i of ids) out.push((await harness.hub.getContext(`kill-${i}`)).context[0]?.resource?.id);
    return out;
  }, accepted.map((r) => r.i));
  const lost = accepted.filter((r, k) => currents[k] !== `pt-${r.i}`).map((r) => r.i);
  expect(lost, 'changes answered 202 but missing after the restart').toStrictEqual([]);
  recordStats('browser', 'shared worker terminated mid-burst', { publishes: KILL_BURST, '202': accepted.length, errors: results.length - accepted.length, lost: lost.length });
});

for (const mode of MODES) {
  test(`HUB-SYNC-08 a tab that crashes while acking a burst: one SyncError for the others, who lose no event, and the hub serves on (${mode})`, async ({ context }) => {
    const events = STRESS ? 2000 : 150;
    test.setTimeout(budget(events * 30));
    const watcher = await openTab(context, mode, 'Watcher');
    const victim = await openTab(context, mode, 'Victim');
    const topic = await watcher.evaluate(() => harness.hub.createTopic());
    await watcher.evaluate((t) => harness.subscribe(t, ['Patient-open', 'SyncError'], { name: 'Watcher' }), topic);
    await victim.evaluate((t) => harness.subscribe(t, ['Patient-open'], { name: 'Victim' }), topic);
    await startPublisher(watcher, topic, events);
    await within(victim.evaluate((n) => window.until(() => harness.events.length >= n), Math.floor(events / 4)), 60_000, 'the victim to be busy acking');
    const crashed = victim.waitForEvent('crash');
    const cdp = await context.newCDPSession(victim);
    void cdp.send('Page.crash').catch(() => undefined);
    await crashed;
    await within(watcher.evaluate((n) => window.until(() => window.pub.answered === n - 1), events), 60_000, 'the burst');
    expect(await watcher.evaluate(() => window.pub.failures)).toStrictEqual([]);
    await within(watcher.evaluate((n) => window.until(() => harness.events.filter((e) => e.event['hub.event'] === 'Patient-open').length >= n), events), 60_000, 'every event at the watcher');
    await within(watcher.evaluate(() => window.until(() => harness.eventNames().includes('syncerror'))), 30_000, 'the SyncError');
    const seen = await watcher.evaluate(() => ({ opens: harness.events.filter((e) => e.event['hub.event'] === 'Patient-open').map((e) => e.id), errors: harness.events.filter((e) => e.event['hub.event'] === 'syncerror') }));
    expect(seen.opens, 'every event, once, in order').toStrictEqual(Array.from({ length: events }, (_, i) => `ev-${i}`));
    expect(seen.errors).toHaveLength(1);
    expect(seen.errors[0].event.context[0].resource.issue[0].diagnostics).toContain('Victim');
    await expect.poll(async () => (await subscribersOf(watcher, topic)).map((s) => s.name)).toEqual(['Watcher']);
    expect((await watcher.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-after')] as const)).status).toBe(202);
  });
}

test(`HUB-NOTIFY-09 in-browser load: ${LOAD_SUBSCRIBERS} subscribers across tabs, ${LOAD_EVENTS} events: none lost or duplicated, same order, nothing left behind`, async ({ context, browser }, info) => {
  test.setTimeout(budget(LOAD_EVENTS * LOAD_SUBSCRIBERS * 0.6 + 10_000));
  const workerUrl = uniqueWorkerUrl(info.testId);
  const tabs = Math.min(5, LOAD_SUBSCRIBERS);
  const perTab = Math.ceil(LOAD_SUBSCRIBERS / tabs);
  const publisher = await openTab(context, 'shared-worker', 'Publisher', { workerUrl });
  const topic = await publisher.evaluate(() => harness.hub.createTopic());
  const pages: Page[] = [];
  for (let t = 0; t < tabs; t++) {
    const page = await openTab(context, 'shared-worker', `Tab ${t}`, { workerUrl });
    await recordingSubscribers(page, topic, Array.from({ length: perTab }, (_, s) => `t${t}s${s}`));
    pages.push(page);
  }
  const started = Date.now();
  await startPublisher(publisher, topic, LOAD_EVENTS);
  await within(publisher.evaluate((n) => window.until(() => window.pub.answered >= n / 10), LOAD_EVENTS), 120_000, 'the first tenth of the events');
  const heapEarly = await workerHeapMb(browser, info.testId);
  await within(publisher.evaluate((n) => window.until(() => window.pub.answered === n - 1), LOAD_EVENTS), budget(LOAD_EVENTS * LOAD_SUBSCRIBERS * 0.5), 'every event answered');
  expect(await publisher.evaluate(() => window.pub.failures)).toStrictEqual([]);
  const expected = Array.from({ length: LOAD_EVENTS }, (_, i) => `ev-${i}`);
  for (const page of pages) {
    await within(page.evaluate((n) => window.until(() => Object.values(window.got).every((ids) => ids.length >= n)), LOAD_EVENTS), 120_000, 'every event at every subscriber of a tab');
    const got = await page.evaluate(() => window.got);
    for (const [name, ids] of Object.entries(got)) expect(ids, `${name}: every event once, in order`).toStrictEqual(expected);
  }
  const seconds = (Date.now() - started) / 1000;
  const heapEnd = await workerHeapMb(browser, info.testId);
  expect((await subscribersOf(publisher, topic)).length).toBe(tabs * perTab);
  for (const page of pages) await page.evaluate(() => harness.hub.close());
  await expect.poll(async () => (await subscribersOf(publisher, topic)).length).toBe(0);
  expect(heapEnd - heapEarly, `worker heap ${heapEarly.toFixed(1)} → ${heapEnd.toFixed(1)} MB`).toBeLessThan(16);
  recordStats('browser', `${tabs * perTab} subscribers in ${tabs} tabs × ${LOAD_EVENTS} events (SharedWorker)`, {
    'notifications delivered': tabs * perTab * LOAD_EVENTS,
    seconds: seconds.toFixed(1),
    'events/s': (LOAD_EVENTS / seconds).toFixed(0),
    'worker heap growth MB': (heapEnd - heapEarly).toFixed(1),
  });
});

test(`HUB-SYNC-08 HUB-TOLERANT-07 in-browser soak ${SOAK_MS / 1000} s: tabs come, go and crash while events flow; each gets every event of its stay`, async ({ context, browser }, info) => {
  test.setTimeout(budget(SOAK_MS + 60_000));
  const workerUrl = uniqueWorkerUrl(info.testId);
  const publisher = await openTab(context, 'shared-worker', 'Publisher', { workerUrl });
  const publisherConsole: string[] = [];
  publisher.on('console', (m) => publisherConsole.push(`${m.type()}: ${m.text()}`));
  const topic = await publisher.evaluate(() => harness.hub.createTopic());
  // The hub's own log of endings, to explain a missing event if one goes missing.
  await publisher.evaluate(() => {
    (window as unknown as { endings: unknown[] }).endings = [];
    harness.hub.observe((entry: { type: string }) => {
      if (entry.type === 'denied' || entry.type === 'syncerror' || entry.type === 'close') (window as unknown as { endings: unknown[] }).endings.push(entry);
    });
  });
  await startPublisher(publisher, topic, Number.MAX_SAFE_INTEGER, SOAK_GAP_MS);
  const started = Date.now();
  let sessions = 0;
  let drops = 0;
  let checked = 0;
  let heapEarly = 0;
  const deadline = started + SOAK_MS;
  const slot = async (k: number) => {
    for (let round = 0; Date.now() < deadline; round++) {
      sessions++;
      const name = `soak-${k}-${round}`;
      const page = await context.newPage();
      const consoleLines: string[] = [];
      page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
      await page.goto('/test-pages/app.html');
      await page.evaluate((options) => window.harness.connect(options), { mode: 'shared-worker', appName: name, workerUrl });
      await installUntil(page);
      await recordingSubscribers(page, topic, [name]);
      const first = await publisher.evaluate(() => window.pub.sent);
      const stay = 5 + Math.floor(Math.random() * 30);
      const progressed = await within(publisher.evaluate((n) => window.until(() => window.pub.answered >= n), first + stay), 60_000, `event ${first + stay} answered`).then(
        () => true,
        () => false,
      );
      if (!progressed) throw new Error(`the publisher stalled: ${await explainStall(context, publisher, topic, workerUrl, publisherConsole)}`);
      const last = await publisher.evaluate(() => window.pub.answered);
      if (Math.random() < 0.3) {
        drops++;
        await page.close(); // no hub.close(): the worker learns it from the freed lock
        continue;
      }
      // Every event of the stay arrives (a miss times out here), then a normal goodbye.
      const arrived = await within(page.evaluate(([who, n]) => window.until(() => window.got[who]!.includes(`ev-${n}`)), [name, last] as const), 30_000, `ev-${last} at ${name}`).then(
        () => true,
        () => false,
      );
      if (!arrived) {
        const got = await page.evaluate((who) => window.got[who]!, name);
        const missing = [];
        for (let s = first; s <= last && missing.length < 20; s++) if (!got.includes(`ev-${s}`)) missing.push(s);
        const tail = { count: got.length, head: got.slice(0, 3), tail: got.slice(-3), missing, console: consoleLines.slice(-10) };
        const mine = (await subscribersOf(publisher, topic)).filter((s) => s.name === name);
        const endings = await publisher.evaluate((who) => (window as unknown as { endings: Array<{ subscriber?: string }> }).endings.filter((e) => e.subscriber === who), name);
        throw new Error(`${name} never got ev-${last} (stay ev-${first}..ev-${last}); last ids ${JSON.stringify(tail)}; hub sees ${JSON.stringify(mine)}; hub log ${JSON.stringify(endings).slice(0, 1500)}`);
      }
      const ids = await page.evaluate((who) => window.got[who]!, name);
      const seqs = ids.map((id) => Number(id.slice(3)));
      expect(new Set(seqs).size, 'no duplicates').toBe(seqs.length);
      expect([...seqs].sort((a, b) => a - b)).toStrictEqual(seqs);
      for (let s = first; s <= last; s++) expect(seqs.includes(s), `event ${s} of the stay`).toBe(true);
      checked += seqs.length;
      await page.evaluate(() => harness.hub.close());
      await page.close();
      if (heapEarly === 0 && Date.now() - started > SOAK_MS / 10) heapEarly = await workerHeapMb(browser, info.testId);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SOAK_SUBSCRIBERS, 10) }, (_, k) => slot(k)));
  await publisher.evaluate(() => (window.pub.stop = true));
  expect(await publisher.evaluate(() => window.pub.failures)).toStrictEqual([]);
  await expect.poll(async () => (await subscribersOf(publisher, topic)).length, { timeout: 20_000 }).toBe(0);
  const heapEnd = await workerHeapMb(browser, info.testId);
  if (heapEarly > 0) expect(heapEnd - heapEarly, `worker heap ${heapEarly.toFixed(1)} → ${heapEnd.toFixed(1)} MB`).toBeLessThan(16);
  recordStats('browser', `soak ${SOAK_MS / 1000} s, ${Math.min(SOAK_SUBSCRIBERS, 10)} tab slots (SharedWorker)`, {
    'events published': await publisher.evaluate(() => window.pub.sent),
    'tab sessions': sessions,
    'tabs closed without goodbye': drops,
    'notifications checked': checked,
    'worker heap growth MB': heapEarly > 0 ? (heapEnd - heapEarly).toFixed(1) : 'n/a',
  });
});

test('HUB-SEC-09 random messages on a raw connection to the shared worker never stop the hub or change its state', async ({ context }, info) => {
  test.setTimeout(budget(runs(0.25).numRuns * 300 + 10_000));
  const workerUrl = uniqueWorkerUrl(info.testId);
  const { app, rogue, topic, before } = await steadyAppAndRawPage(context, workerUrl);
  const json: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 });
  const controlMessage: fc.Arbitrary<unknown> = fc.oneof(
    json,
    fc.record({ id: fc.oneof(fc.string(), fc.integer()), type: fc.constantFrom('APPLY', 'GET', 'SET', 'RELEASE', 'ENDPOINT'), path: fc.oneof(fc.array(fc.constantFrom('publish', 'subscribe', 'getContext', 'fetch', 'bridge', 'retire', 'bye', 'constructor', '__proto__')), json), argumentList: fc.oneof(fc.array(fc.record({ type: fc.constant('RAW'), value: json }), { maxLength: 3 }), json) }, { requiredKeys: [] }),
  );
  const eventMessage: fc.Arbitrary<unknown> = fc.oneof(json, fc.record({ t: fc.constantFrom('ack', 'ws-open', 'ws-frame', 'ws-close', 'x'), id: fc.oneof(fc.string(), fc.integer()), sub: fc.string(), status: fc.oneof(fc.integer(), fc.string()), url: fc.string(), data: fc.string(), code: fc.integer() }, { requiredKeys: ['t'] }));
  let messages = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(controlMessage, { maxLength: 6 }), fc.array(eventMessage, { maxLength: 6 }), async (control, events) => {
      messages += control.length + events.length;
      const answer = await rogue.evaluate(
        async ([url, c, e]) => {
          const worker = new SharedWorker(url, { type: 'module', name: 'tabcast' });
          const port = worker.port;
          const replies = new Map<string, (v: any) => void>();
          port.addEventListener('message', (m) => typeof m.data?.id === 'string' && replies.get(m.data.id)?.(m.data));
          port.start();
          const call = (id: string, path: string, args: unknown[], transfer: Transferable[] = []) =>
            new Promise<any>((resolve) => {
              replies.set(id, resolve);
              port.postMessage({ id, type: 'APPLY', path: [path], argumentList: args.map((value) => ({ type: 'RAW', value })) }, transfer);
            });
          const channel = new MessageChannel();
          const hello = await call('hello', 'hello', [{ protocol: 1, hubUrl: `${location.origin}/fhircast/hub`, events: channel.port2 }], [channel.port2]);
          for (const m of c) port.postMessage(m);
          for (const m of e) channel.port1.postMessage(m);
          // A real call after the garbage: the session still answers.
          const created = await call('after', 'createTopic', []);
          channel.port1.close();
          port.close();
          return { hello: hello.value?.ok, after: created.value };
        },
        [workerUrl, control, events] as const,
      );
      expect(answer.hello).toBe(true);
      expect(answer.after.ok).toBe(true);
    }),
    runs(0.25),
  );
  expect(await app.evaluate((t) => harness.hub.getContext(t), topic)).toEqual(before);
  expect((await app.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-2')] as const)).status).toBe(202);
  recordStats('browser', 'random messages on raw SharedWorker ports', { messages });
});
