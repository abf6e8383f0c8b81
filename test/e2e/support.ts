/** Shared helpers of the e2e specs: opening app tabs, FHIRcast fixtures, and the shared worker via CDP. */
import type { Browser, BrowserContext, Page } from '@playwright/test';

/** Both doors; every behaviour spec runs under each. */
export const MODES = ['shared-worker', 'leader-tab'] as const;
export type Mode = (typeof MODES)[number];

/** The harness the test pages define (test/e2e/pages/harness.js), as seen from page.evaluate. */
export interface Harness {
  hub: any;
  events: any[];
  frames: Record<string, any[]>;
  subs: any[];
  connect(options: object): Promise<string>;
  subscribe(topic: string, events: string[], options?: { name?: string; answer?: number | 'throw' }): Promise<{ endpoint: string; events: string; leaseSeconds: number }>;
  eventNames(): string[];
  publish(topic: string, request: object): Promise<any>;
}
declare global {
  interface Window {
    harness: Harness;
    Tabcast: any;
  }
  // The page's global, for code inside page.evaluate.
  const harness: Harness;
  const Tabcast: any;
}

/** Opens the script-tag app page in a new tab and connects it. */
export async function openApp(context: BrowserContext, mode: Mode | 'auto', appName = 'app', connectOptions: object = {}): Promise<Page> {
  const page = await context.newPage();
  await page.goto('/test-pages/app.html');
  await page.evaluate((options) => window.harness.connect(options), { mode, appName, ...connectOptions });
  return page;
}

/** A context entry holding a resource. */
export const entry = (key: string, resourceType: string, id: string, extra: object = {}) => ({ key, resource: { resourceType, id, ...extra } });
export const patientOpen = (id: string) => ({ 'hub.event': 'Patient-open', context: [entry('patient', 'Patient', id)] });
export const reportOpen = (reportId: string, patientId: string) => ({
  'hub.event': 'DiagnosticReport-open',
  context: [entry('report', 'DiagnosticReport', reportId, { status: 'preliminary' }), entry('patient', 'Patient', patientId)],
});
/** A DiagnosticReport-update adding one Observation, based on `versionId`. */
export const reportUpdate = (reportId: string, versionId: string, observationId: string) => ({
  'hub.event': 'DiagnosticReport-update',
  'context.versionId': versionId,
  context: [
    { key: 'report', reference: { reference: `DiagnosticReport/${reportId}` } },
    {
      key: 'updates',
      resource: {
        resourceType: 'Bundle',
        id: `b-${observationId}`,
        type: 'transaction',
        entry: [{ request: { method: 'PUT', url: `Observation/${observationId}` }, resource: { resourceType: 'Observation', id: observationId, status: 'preliminary', code: { text: 'lesion size' } } }],
      },
    },
  ],
});

/** The CDP ids of this browser's shared workers whose URL contains `urlPart`. */
export async function sharedWorkerTargets(browser: Browser, urlPart: string): Promise<string[]> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    return targetInfos.filter((t) => t.type === 'shared_worker' && t.url.includes(urlPart)).map((t) => t.targetId);
  } finally {
    await cdp.detach();
  }
}

/** Terminates the shared worker(s) whose URL contains `urlPart`, as a crash would. Returns how many. */
export async function killSharedWorker(browser: Browser, urlPart: string): Promise<number> {
  const ids = await sharedWorkerTargets(browser, urlPart);
  const cdp = await browser.newBrowserCDPSession();
  try {
    for (const targetId of ids) await cdp.send('Target.closeTarget', { targetId });
  } finally {
    await cdp.detach();
  }
  return ids.length;
}

/** A worker URL unique to one test, so CDP can tell its shared worker from any other. */
export const uniqueWorkerUrl = (tag: string) => `/tabcast/tabcast-worker.js?test=${encodeURIComponent(tag)}`;

/** True when `page` loaded the host code as a module, i.e. it runs the hub as the leader tab. */
export function isLeaderTab(page: Page): Promise<boolean> {
  return page.evaluate(() => performance.getEntriesByType('resource').some((r) => r.name.includes('tabcast-worker.js')));
}

/** Subscribers of `topic` as the hub's inspector shows them. */
export async function subscribersOf(page: Page, topic: string): Promise<{ name: string; connected: boolean }[]> {
  const snapshot = await page.evaluate(() => harness.hub.inspect());
  return snapshot.topics.find((t: { topic: string }) => t.topic === topic)?.subscribers ?? [];
}

/**
 * A shared-worker app holding a topic with one Patient-open, and a second, bare page of the same
 * origin (for raw messages to the worker). `before` is the topic's context, to compare afterwards.
 */
export async function steadyAppAndRawPage(context: BrowserContext, workerUrl: string): Promise<{ app: Page; rogue: Page; topic: string; before: unknown }> {
  const app = await openApp(context, 'shared-worker', 'Steady', { workerUrl });
  const topic = await app.evaluate(() => harness.hub.createTopic());
  await app.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-1')] as const);
  const before = await app.evaluate((t) => harness.hub.getContext(t), topic);
  const rogue = await context.newPage();
  await rogue.goto('/test-pages/app.html');
  return { app, rogue, topic, before };
}

/** Tabs A and B on one shared worker, both subscribed to Patient-open on a topic that A opened a patient on. */
export async function twoSubscribedTabs(context: BrowserContext, workerUrl: string): Promise<{ a: Page; b: Page; topic: string }> {
  const a = await openApp(context, 'shared-worker', 'A', { workerUrl });
  const b = await openApp(context, 'shared-worker', 'B', { workerUrl });
  const topic = await a.evaluate(() => harness.hub.createTopic());
  for (const page of [a, b]) await page.evaluate((t) => harness.subscribe(t, ['Patient-open']), topic);
  await a.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-before')] as const);
  return { a, b, topic };
}
