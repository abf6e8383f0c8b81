/**
 * Issue 16, drop-in mode: unmodified STU3 clients written against the global fetch and WebSocket
 * reach the in-page hub at a hub URL where no server runs; every other URL still reaches the network.
 */
import { expect, test } from '@playwright/test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openApp } from './support.js';

declare global {
  interface Window {
    early: Promise<{ status?: number; body?: any; error?: string }>;
    ohifStyle: {
      frames: any[];
      subscribe(hubUrl: string, topic: string, events: string[]): Promise<{ status: number; endpoint: string; isWebSocket: boolean }>;
      publish(hubUrl: string, topic: string, event: string, context: object[]): Promise<number>;
      events(): string[];
    };
  }
}

const FOREIGN_HUB = 'https://hub.local/fhircast/hub';

test('I16 drop-in by script tag: fetch is patched before the app\u2019s first line; .well-known is answered with no server (HUB-DISC)', async ({ page }) => {
  await page.goto('/test-pages/drop-in.html');
  const early = await page.evaluate(() => window.early);
  expect(early.error).toBeUndefined();
  expect(early.status).toBe(200);
  expect(early.body.eventsSupported ?? early.body).toBeTruthy();
});

test('I16 OHIF-style client on the drop-in URL: form subscribe with hub.callback and hub.lease, publish to hub.url/{topic}, no acks; a typed-API page shares the topic (HUB-TOLERANT-01, -03, -04)', async ({ context }) => {
  const typed = await openApp(context, 'auto', 'typed');
  const topic = await typed.evaluate(() => window.harness.hub.createTopic());
  await typed.evaluate((t) => window.harness.subscribe(t, ['Patient-open', 'ImagingStudy-open']), topic);
  const ohif = await context.newPage();
  await ohif.goto('/test-pages/drop-in.html');
  const subscribed = await ohif.evaluate(({ hub, t }) => window.ohifStyle.subscribe(hub, t, ['Patient-open']), { hub: FOREIGN_HUB, t: topic });
  expect(subscribed.status).toBe(202);
  expect(subscribed.endpoint.startsWith('wss://hub.local/fhircast/hub/')).toBe(true);
  expect(subscribed.isWebSocket).toBe(true); // instanceof WebSocket holds for the hub's sockets too

  const status = await ohif.evaluate(({ hub, t }) => window.ohifStyle.publish(hub, t, 'Patient-open', [{ key: 'patient', resource: { resourceType: 'Patient', id: 'ohif-1' } }]), { hub: FOREIGN_HUB, t: topic });
  expect(status).toBe(202);
  await typed.waitForFunction(() => window.harness.events.some((n) => n.event.context[0].resource.id === 'ohif-1'));

  await typed.evaluate((t) => window.harness.publish(t, { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'typed-2' } }] }), topic);
  await ohif.waitForFunction(() => window.ohifStyle.frames.some((f) => f.event?.context?.[0]?.resource?.id === 'typed-2'));
  expect(await ohif.evaluate(() => window.ohifStyle.events())).toEqual(['Patient-open', 'Patient-open']);
  // get current context through the drop-in fetch, as a plain client reads it
  const current = await ohif.evaluate(async ({ hub, t }) => (await fetch(`${hub}/${t}`)).json(), { hub: FOREIGN_HUB, t: topic });
  expect(JSON.stringify(current)).toContain('typed-2');
});

/** A real server on loopback that records every request and upgrade it sees (CORS open for the test page). */
async function recordingServer() {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'access-control-allow-origin': '*', 'content-type': 'application/json' }).end('{"from":"network"}');
  });
  server.on('upgrade', (req, socket) => {
    seen.push(`UPGRADE ${req.url}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { seen, origin, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test('I16 untouched URLs: the same host on other paths (/fhircast/hubbub, /other) and other sockets reach the network; the hub URL, its .well-known and endpoints never do; uninstall restores the originals and open sockets stay open', async ({ context }) => {
  const network = await recordingServer();
  try {
    const page = await context.newPage();
    await page.goto('/test-pages/install.html');
    const hubUrl = `${network.origin}/fhircast/hub`;
    const routed = await page.evaluate(async (hub) => {
      const originals = { fetch: window.fetch, WebSocket: window.WebSocket };
      (window as any).originals = originals;
      const returned = Tabcast.install({ hubUrl: hub });
      const patched = window.fetch !== originals.fetch && window.WebSocket !== originals.WebSocket;
      const wellKnown = await (await fetch(`${hub}/.well-known/fhircast-configuration`)).json();
      const viaRequest = (await fetch(new Request(`${hub}/.well-known/fhircast-configuration`))).status;
      const hubbub = await (await fetch(hub.replace('/hub', '/hubbub'))).json();
      const other = await (await fetch(new URL('/other?x=1', hub))).json();
      await new Promise<void>((resolve) => {
        const socket = new WebSocket(hub.replace('http:', 'ws:').replace('/fhircast/hub', '/other-socket'));
        socket.onclose = () => resolve();
      });
      return { patched, typedApi: typeof returned.publish, wellKnown, viaRequest, hubbub, other };
    }, hubUrl);
    expect(routed.patched).toBe(true);
    expect(routed.typedApi).toBe('function');
    expect(routed.wellKnown.from).toBeUndefined();
    expect(routed.viaRequest).toBe(200);
    expect(routed.hubbub).toEqual({ from: 'network' });
    expect(routed.other).toEqual({ from: 'network' });
    expect(network.seen).toEqual(['GET /fhircast/hubbub', 'GET /other?x=1', 'UPGRADE /other-socket']);

    // A subscriber socket opened while installed stays open after uninstall.
    const typed = await openApp(context, 'auto', 'typed');
    const topic = await typed.evaluate(() => window.harness.hub.createTopic());
    await page.evaluate(({ hub, t }) => window.ohifStyle.subscribe(hub, t, ['Patient-open']), { hub: hubUrl, t: topic });
    const restored = await page.evaluate(async (hub) => {
      Tabcast.uninstall();
      const originals = (window as any).originals;
      const same = window.fetch === originals.fetch && window.WebSocket === originals.WebSocket;
      const wellKnown = await (await fetch(`${hub}/.well-known/fhircast-configuration`)).json();
      return { same, wellKnown };
    }, hubUrl);
    expect(restored.same).toBe(true);
    expect(restored.wellKnown).toEqual({ from: 'network' });
    expect(network.seen.at(-1)).toBe('GET /fhircast/hub/.well-known/fhircast-configuration');
    expect(network.seen.filter((line) => line.includes('/fhircast/hub/') || line.includes('UPGRADE /fhircast'))).toHaveLength(1);
    await typed.evaluate((t) => window.harness.publish(t, { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'after-uninstall' } }] }), topic);
    await page.waitForFunction(() => window.ohifStyle.frames.some((f) => f.event?.context?.[0]?.resource?.id === 'after-uninstall'));
  } finally {
    await network.close();
  }
});

test('I16 without tabcast the same OHIF-style client works against a real hub at its URL (tabcast serve)', async ({ page }) => {
  // The built `tabcast/server` entry (npm run build); typed from its source, so tsc needs no dist/.
  const built = new URL('../../dist/tabcast-node.js', import.meta.url).href;
  const { startServer } = (await import(built)) as typeof import('../../src/server/index.js');
  const base = new URL(test.info().project.use.baseURL!);
  const server = await startServer({ port: 0, allowOrigins: [base.origin] });
  try {
    await page.goto('/test-pages/plain.html'); // the app alone, no tabcast
    const topic = 'real-hub-topic';
    const subscribed = await page.evaluate(({ hub, t }) => window.ohifStyle.subscribe(hub, t, ['Patient-open']), { hub: server.url, t: topic });
    expect(subscribed.status).toBe(202);
    expect(await page.evaluate(({ hub, t }) => window.ohifStyle.publish(hub, t, 'Patient-open', [{ key: 'patient', resource: { resourceType: 'Patient', id: 'real-1' } }]), { hub: server.url, t: topic })).toBe(202);
    await page.waitForFunction(() => window.ohifStyle.events().includes('Patient-open'));
    expect(await page.evaluate(() => typeof (window as any).Tabcast)).toBe('undefined');
  } finally {
    await server.close();
  }
});

test('I16 bad arguments in the page: connect() rejects with HubError 400 (never throws), install() without hubUrl throws HubError 400 and patches nothing', async ({ page }) => {
  await page.goto('/test-pages/install.html');
  const result = await page.evaluate(async () => {
    const parts = (error: any) => ({ isHubError: error instanceof Tabcast.HubError, status: error?.status, message: String(error?.message) });
    let threw = false;
    let connecting: Promise<unknown> | undefined;
    try {
      connecting = Tabcast.connect({ mode: 'bogus' });
    } catch {
      threw = true;
    }
    const rejected = await connecting!.then(() => undefined, parts);
    const badHubUrl = await Tabcast.connect({ hubUrl: 42 }).then(() => undefined, parts);
    const fetchBefore = window.fetch;
    let install: unknown;
    try {
      Tabcast.install({});
    } catch (error) {
      install = parts(error);
    }
    return { threw, rejected, badHubUrl, install, untouched: window.fetch === fetchBefore };
  });
  expect(result.threw).toBe(false);
  expect(result.rejected).toMatchObject({ isHubError: true, status: 400 });
  expect(result.rejected!.message).toContain('bogus');
  expect(result.badHubUrl).toMatchObject({ isHubError: true, status: 400 });
  expect(result.install).toMatchObject({ isHubError: true, status: 400 });
  expect(result.untouched).toBe(true);
});
