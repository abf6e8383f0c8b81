/**
 * Issue 16, the same-site relay: two origins of one site (a.tabcast.test and b.tabcast.test, both
 * mapped to 127.0.0.1 with --host-resolver-rules) share the hub of a.tabcast.test through its relay
 * page; an origin the relay does not list is refused with a HubError 403 naming it, and an embed
 * under another site (partitioned storage) fails saying so instead of starting a second hub.
 */
import { expect, test, type BrowserContext } from '@playwright/test';
import { killSharedWorker, patientOpen, uniqueWorkerUrl } from './support.js';

const port = Number(process.env.TABCAST_E2E_PORT ?? 4317);
const A = `http://a.tabcast.test:${port}`;
const B = `http://b.tabcast.test:${port}`;
const ELSEWHERE = `http://c.elsewhere.test:${port}`;
/** Not in the list of origins treated as secure: plain http, as a misconfigured deploy would be. */
const INSECURE = `http://d.tabcast.test:${port}`;
const base = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      ...base,
      '--host-resolver-rules=MAP a.tabcast.test 127.0.0.1, MAP b.tabcast.test 127.0.0.1, MAP c.elsewhere.test 127.0.0.1, MAP d.tabcast.test 127.0.0.1',
      // http on these names is for the test only; a relay needs a secure context (Web Locks), as https gives.
      `--unsafely-treat-insecure-origin-as-secure=${A},${B},${ELSEWHERE}`,
    ],
  },
});

/** Serves a relay page on a.tabcast.test listing `allowed`, as the hub origin's operator would write it. */
async function serveRelayPage(context: BrowserContext, path: string, allowed: string[], origin = A, workerUrl?: string): Promise<string> {
  const worker = workerUrl ? ` data-worker-url="${workerUrl}"` : '';
  const body = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body><script src="/tabcast/tabcast-relay.js" data-allow-origins="${allowed.join(' ')}"${worker}></script></body></html>`;
  await context.route(`${origin}${path}`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body }));
  return `${origin}${path}`;
}

async function appOn(context: BrowserContext, origin: string) {
  const page = await context.newPage();
  await page.goto(`${origin}/test-pages/app.html`);
  return page;
}

/** connect() in the page; resolves with its hub URL or with the error's parts. */
const tryConnect = async (options: object) => {
  try {
    return { hubUrl: await window.harness.connect(options) };
  } catch (error: any) {
    return { error: { isHubError: error instanceof Tabcast.HubError, status: error.status, message: error.message } };
  }
};

test('I16 relay: an app on b.tabcast.test reaches the hub of a.tabcast.test through its relay; both share a topic both ways, and the standard API works over it', async ({ context }) => {
  const relayUrl = await serveRelayPage(context, '/relay.html', [B]);
  const a = await appOn(context, A);
  await a.evaluate(() => window.harness.connect({ appName: 'on-a' }));
  const b = await appOn(context, B);
  const connected = await b.evaluate((url) => window.harness.connect({ appName: 'on-b', relayUrl: url }).then((hubUrl) => ({ hubUrl })), relayUrl);
  expect(connected.hubUrl).toBe(`${B}/fhircast/hub`);

  const topic = await a.evaluate(() => window.harness.hub.createTopic());
  await a.evaluate((t) => window.harness.subscribe(t, ['Patient-open'], { name: 'on-a' }), topic);
  await b.evaluate((t) => window.harness.subscribe(t, ['Patient-open'], { name: 'on-b' }), topic);

  // observe() through the relay: b follows the hub's activity log
  await b.evaluate(() => {
    (window as any).logs = [];
    window.harness.hub.observe((entry: unknown) => (window as any).logs.push(entry));
  });
  expect(await b.evaluate(({ t, e }) => window.harness.publish(t, e), { t: topic, e: patientOpen('from-b') })).toMatchObject({ status: 202 });
  await a.waitForFunction(() => window.harness.events.some((n) => n.event.context[0].resource.id === 'from-b'));
  await a.evaluate(({ t, e }) => window.harness.publish(t, e), { t: topic, e: patientOpen('from-a') });
  await b.waitForFunction(() => window.harness.events.some((n) => n.event.context[0].resource.id === 'from-a'));
  await b.waitForFunction(() => JSON.stringify((window as any).logs).includes('Patient-open'));

  // the standard API of the relayed hub: get current context over hub.fetch
  const current = await b.evaluate(async (t) => (await window.harness.hub.fetch(`${window.harness.hub.hubUrl}/${t}`)).json(), topic);
  expect(JSON.stringify(current)).toContain('from-a');
  // one hub: a's inspector sees b's subscriber
  const snapshot = await a.evaluate(() => window.harness.hub.inspect());
  expect(JSON.stringify(snapshot)).toContain('on-b');
  // the relay holds b's liveness lock on a's origin: when b goes, the hub sees it go
  await b.close();
  await expect.poll(async () => JSON.stringify(await a.evaluate(() => window.harness.hub.inspect()))).not.toContain('on-b');
});

test('I16 relay: an origin the relay does not list is refused within 5 s with a HubError 403 naming that exact origin', async ({ context }) => {
  const relayUrl = await serveRelayPage(context, '/relay-closed.html', [`http://x.tabcast.test:${port}`]);
  const b = await appOn(context, B);
  const started = Date.now();
  const result = await b.evaluate(tryConnect, { relayUrl });
  expect(Date.now() - started).toBeLessThan(5000);
  expect(result.error, JSON.stringify(result)).toMatchObject({ isHubError: true, status: 403 });
  expect(result.error!.message).toContain(B);
  expect(result.error!.message).toContain('not allowed');
});

test('I16 relay: embedded under another site (storage partitioned), connect fails saying so instead of starting a second hub', async ({ context }) => {
  const relayUrl = await serveRelayPage(context, '/relay-open.html', [B, ELSEWHERE]);
  const page = await appOn(context, ELSEWHERE);
  const result = await page.evaluate(tryConnect, { relayUrl });
  expect(result.error, JSON.stringify(result)).toMatchObject({ isHubError: true, status: 403 });
  expect(result.error!.message).toContain('partitions');
  expect(result.error!.message).toContain(ELSEWHERE);
});

test('I16 relay: an app page, or a relay page, that is not a secure context is told that a relay needs one (Web Locks)', async ({ context }) => {
  const relayUrl = await serveRelayPage(context, '/relay-insecure.html', [INSECURE]);
  const page = await appOn(context, INSECURE);
  const result = await page.evaluate(tryConnect, { relayUrl });
  expect(result.error?.message).toContain('secure context');

  const insecureRelay = await serveRelayPage(context, '/relay.html', [B], INSECURE);
  const b = await appOn(context, B);
  // The browser does not load an http relay into a secure page (mixed content), so the relay never answers.
  const refused = await b.evaluate(tryConnect, { relayUrl: insecureRelay });
  expect(refused.error).toMatchObject({ isHubError: true, status: 504 });
  expect(refused.error!.message).toContain(insecureRelay);
  expect(refused.error!.message).toContain('secure context');
});

test('I16 relay + drop-in: install({ hubUrl, relayUrl }) on b.tabcast.test routes an OHIF-style client to the hub of a.tabcast.test', async ({ context }) => {
  const relayUrl = await serveRelayPage(context, '/relay.html', [B]);
  const a = await appOn(context, A);
  await a.evaluate(() => window.harness.connect({ appName: 'on-a' }));
  const topic = await a.evaluate(() => window.harness.hub.createTopic());
  await a.evaluate((t) => window.harness.subscribe(t, ['Patient-open']), topic);
  const b = await context.newPage();
  await b.goto(`${B}/test-pages/install.html`);
  const hub = 'https://hub.local/fhircast/hub';
  await b.evaluate(({ url, hubUrl }) => void Tabcast.install({ hubUrl, relayUrl: url }), { url: relayUrl, hubUrl: hub });
  const subscribed = await b.evaluate(({ hubUrl, t }) => (window as any).ohifStyle.subscribe(hubUrl, t, ['Patient-open']), { hubUrl: hub, t: topic });
  expect(subscribed.status).toBe(202);
  await a.evaluate(({ t, e }) => window.harness.publish(t, e), { t: topic, e: patientOpen('to-b-drop-in') });
  await b.waitForFunction(() => (window as any).ohifStyle.events().includes('Patient-open'));
  await b.evaluate(({ hubUrl, t }) => (window as any).ohifStyle.publish(hubUrl, t, 'Patient-open', [{ key: 'patient', resource: { resourceType: 'Patient', id: 'from-b-drop-in' } }]), { hubUrl: hub, t: topic });
  await a.waitForFunction(() => window.harness.events.some((n) => n.event.context[0].resource.id === 'from-b-drop-in'));
});

test('I16 relay: when the hub origin\u2019s worker dies, the relayed page reconnects through the relay and its subscription goes on', async ({ context, browser }) => {
  const workerUrl = uniqueWorkerUrl(test.info().testId);
  const relayUrl = await serveRelayPage(context, '/relay-restart.html', [B], A, workerUrl);
  const a = await appOn(context, A);
  await a.evaluate((url) => window.harness.connect({ appName: 'on-a', workerUrl: url }), workerUrl);
  const b = await appOn(context, B);
  await b.evaluate((url) => window.harness.connect({ appName: 'on-b', relayUrl: url }), relayUrl);
  const topic = await a.evaluate(() => window.harness.hub.createTopic());
  await b.evaluate((t) => window.harness.subscribe(t, ['Patient-open'], { name: 'on-b' }), topic);

  expect(await killSharedWorker(browser, test.info().testId)).toBe(1);
  // A publish made before tab A has noticed the dead worker fails with host-gone; the app sends it again, as a real one would.
  await a.waitForFunction(async ({ t, e }) => (await window.harness.publish(t, e)).status === 202, { t: topic, e: patientOpen('after-restart') });
  await b.waitForFunction(() => window.harness.events.some((n) => n.event.context[0].resource.id === 'after-restart'));
});
