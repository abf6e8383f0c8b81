/**
 * The STOMP channel in the page (channels.md §1–2): the unmodified @stomp/stompjs over
 * `hub.WebSocket`, with no server, next to an STU3 WebSocket app and a typed-API page on one topic.
 */
import { fileURLToPath } from 'node:url';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { MODES, patientOpen, type Mode } from './support.js';

const STOMP_UMD = fileURLToPath(new URL('../../node_modules/@stomp/stompjs/bundles/stomp.umd.js', import.meta.url));

declare global {
  const stomp: any;
  const stu3App: any;
  const stu3Sockets: Record<string, any>;
  const createStompApp: (options: object) => any;
}

/** A tab with tabcast, the STU3 client and a stompjs app (not yet activated) wired to this hub. */
async function openTab(context: BrowserContext, mode: Mode, appName: string, stompOptions: object = {}): Promise<Page> {
  const page = await context.newPage();
  await page.goto('/test-pages/stomp.html');
  await page.addScriptTag({ path: STOMP_UMD });
  await page.evaluate(
    async ({ mode, appName, stompOptions }) => {
      const hubUrl = await window.harness.connect({ mode, appName });
      const hub = window.harness.hub;
      Object.assign(window, {
        stu3App: (window as any).createStu3Client({ hubUrl, fetch: hub.fetch, WebSocket: hub.WebSocket }),
        stu3Sockets: {},
        stomp: createStompApp({ url: `${hubUrl}/websocket`, WebSocket: hub.WebSocket, ...stompOptions }),
      });
    },
    { mode, appName, stompOptions },
  );
  return page;
}

const request = (topic: string, id: string, event: object) => ({ timestamp: new Date().toISOString(), id, event: { 'hub.topic': topic, ...event } });

test('HUB-STOMP-01 HUB-STOMP-03 HUB-STOMP-04 HUB-STOMP-05 HUB-STOMP-07 stompjs runs unmodified against the in-page hub through hub.WebSocket', async ({ context }) => {
  const page = await openTab(context, 'shared-worker', 'STOMP app', { connectHeaders: { 'client-id': 'STOMP app' } });
  const topic = await page.evaluate(() => harness.hub.createTopic());
  await page.evaluate(() => stomp.activate());
  await page.waitForFunction(() => stomp.record.connected !== null);
  expect(await page.evaluate(() => stomp.record.connected)).toMatchObject({ version: '1.2', server: 'tabcast/0.1.0', 'heart-beat': '10000,10000' });
  expect(await page.evaluate(() => stomp.record.protocol)).toBe('v12.stomp');

  const subId = await page.evaluate((t) => stomp.subscribe(`/hub/fhircast/${t}/Patient-open`), topic);
  await page.evaluate((t) => harness.subscribe(t, ['Patient-open']), topic);
  // A SEND with a receipt reaches the typed subscriber and comes back to the STOMP app as a MESSAGE.
  const receipt = await page.evaluate((t) => stomp.send(`/hub/fhircast/${t}/Patient-open`, { context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'pt-1' } }] }), topic);
  expect(receipt['receipt-id']).toMatch(/^r-/);
  await page.waitForFunction(() => stomp.record.messages.length === 1 && harness.events.length === 1);
  const [message, typed] = await page.evaluate(() => [stomp.record.messages[0], harness.events[0]]);
  expect(message.body).toEqual(typed);
  expect(message.headers).toMatchObject({ destination: `/app/fhircast/${topic}/Patient-open`, subscription: subId, 'message-id': typed.id, 'content-type': 'application/json' });

  // The http(s) form of the URL reaches the same channel.
  await page.evaluate(() => {
    const hub = window.harness.hub;
    (window as any).second = createStompApp({ url: `${hub.hubUrl}/websocket`.replace(/^ws/, 'http'), WebSocket: hub.WebSocket });
    (window as any).second.activate();
  });
  await page.waitForFunction(() => (window as any).second.record.connected !== null);

  // DISCONNECT with a receipt, then a normal close.
  await page.evaluate(() => stomp.deactivate());
  await page.waitForFunction(() => stomp.record.closes.length === 1);
  expect(await page.evaluate(() => stomp.record.closes[0].code)).toBe(1000);
});

test('HUB-STOMP-06 HUB-STOMP-12 in the page, a wrong-destination SEND and garbage get ERROR and a close; nothing is applied', async ({ context }) => {
  const page = await openTab(context, 'shared-worker', 'STOMP app');
  const topic = await page.evaluate(() => harness.hub.createTopic());
  await page.evaluate(() => stomp.activate());
  await page.waitForFunction(() => stomp.record.connected !== null);
  await page.evaluate((t) => void stomp.send(`/hub/fhircast/${t}/ImagingStudy-open`, { context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'x' } }], 'hub.event': 'Patient-open' }), topic);
  await page.waitForFunction(() => stomp.record.errors.length === 1 && stomp.record.closes.length === 1);
  expect(await page.evaluate(() => stomp.record.errors[0].headers)).toMatchObject({ status: '400' });
  expect(await page.evaluate((t) => harness.hub.getContext(t), topic)).toEqual({ 'context.type': '', context: [] });

  // Raw garbage on hub.WebSocket: ERROR, then the close.
  const raw = await page.evaluate(async () => {
    const hub = window.harness.hub;
    const socket = new hub.WebSocket(`${hub.hubUrl}/websocket`, ['v12.stomp']);
    const got: string[] = [];
    socket.onmessage = (e: MessageEvent) => got.push(String(e.data));
    await new Promise((resolve) => (socket.onopen = resolve));
    socket.send('this is not STOMP\n\n\0');
    const close: any = await new Promise((resolve) => (socket.onclose = resolve));
    return { got, code: close.code };
  });
  expect(raw.got[0]).toMatch(/^ERROR\n/);
  expect(raw.code).toBe(1008);
});

for (const mode of MODES) {
  test(`HUB-STOMP-10 HUB-STOMP-08 HUB-PULL-01 HUB-PULL-02 a STOMP app, an STU3 WebSocket app and a typed page on one topic see the same events in the same order; a STOMP NACK gives the STU3 app a SyncError (${mode})`, async ({ context }) => {
    const stompPage = await openTab(context, mode, 'Reporting (STOMP)', { connectHeaders: { 'client-id': 'Reporting (STOMP)' } });
    const stu3Page = await openTab(context, mode, 'Viewer (STU3)');
    const typedPage = await openTab(context, mode, 'Worklist (typed)');
    const topic = await typedPage.evaluate(() => harness.hub.createTopic());

    await stompPage.evaluate(() => stomp.activate());
    await stompPage.waitForFunction(() => stomp.record.connected !== null);
    const subId = await stompPage.evaluate((t) => stomp.subscribe(`/hub/fhircast/${t}/Patient-open`, { ack: 'client-individual', receipt: 'sub' }), topic);
    await stompPage.waitForFunction(() => stomp.record.connected !== null);
    const subscribed = await stu3Page.evaluate((t) => stu3App.requestSubscription({ 'hub.mode': 'subscribe', 'hub.topic': t, 'hub.events': 'Patient-open,SyncError', 'subscriber.name': 'Viewer (STU3)' }), topic);
    await stu3Page.evaluate((url) => (stu3Sockets.v = stu3App.open(url)), subscribed.body['hub.channel.endpoint']);
    await stu3Page.waitForFunction(() => stu3Sockets.v.received.length === 1);
    await typedPage.evaluate((t) => harness.subscribe(t, ['Patient-open'], { name: 'Worklist (typed)' }), topic);

    // Each app's answers: the STOMP app ACKs each MESSAGE, the STU3 app answers 200.
    await stompPage.evaluate(() => {
      (window as any).autoAck = setInterval(() => {
        for (const m of stomp.record.messages) if (!m.answered && !(window as any).holdBack?.includes(m.headers['message-id'])) {
          m.answered = true;
          stomp.ack(m.headers['message-id'], m.headers.subscription);
        }
      }, 5);
    });
    await stu3Page.evaluate(() => {
      (window as any).autoAck = setInterval(() => {
        for (const f of stu3Sockets.v.received) if (f.event?.['hub.event'] === 'Patient-open' && !f.answered) {
          f.answered = true;
          stu3App.ack(stu3Sockets.v, f.id, 200);
        }
      }, 5);
    });

    // Whoever publishes, every app sees the same ids in the same order.
    const ids: string[] = [];
    for (let round = 0; round < 2; round++) {
      const a = `stomp-${round}`;
      await stompPage.evaluate(([t, id]) => stomp.send(`/hub/fhircast/${t}/Patient-open`, { timestamp: new Date().toISOString(), id, event: { context: [{ key: 'patient', resource: { resourceType: 'Patient', id } }] } }), [topic, a] as const);
      const b = `stu3-${round}`;
      expect((await stu3Page.evaluate((n) => stu3App.publish(n), request(topic, b, patientOpen(b)))).status).toBe(202);
      const c = `typed-${round}`;
      expect(await typedPage.evaluate(([t, n]) => harness.publish(t, n), [topic, { ...patientOpen(c), id: c }] as const)).toMatchObject({ status: 202, id: c });
      ids.push(a, b, c);
    }
    await stompPage.waitForFunction((n) => stomp.record.messages.length === n, ids.length);
    await stu3Page.waitForFunction((n) => stu3Sockets.v.received.filter((f: any) => f.event?.['hub.event'] === 'Patient-open').length === n, ids.length);
    await typedPage.waitForFunction((n) => harness.events.length === n, ids.length);
    const seenByStomp = await stompPage.evaluate(() => stomp.record.messages.map((m: any) => m.body.id));
    const seenByStu3 = await stu3Page.evaluate(() => stu3Sockets.v.received.filter((f: any) => f.event?.['hub.event'] === 'Patient-open').map((f: any) => f.id));
    const seenByTyped = await typedPage.evaluate(() => harness.events.map((e: any) => e.id));
    expect(seenByStomp).toEqual(ids);
    expect(seenByStu3).toEqual(ids);
    expect(seenByTyped).toEqual(ids);
    // The same JSON on every channel.
    const lastOverStomp = await stompPage.evaluate(() => stomp.record.messages.at(-1).body);
    expect(await typedPage.evaluate(() => harness.events.at(-1))).toEqual(lastOverStomp);

    // The inspector's view: each subscriber with its channel.
    const channels = await typedPage.evaluate(async (t) => (await harness.hub.inspect()).topics.find((x: any) => x.topic === t).subscribers.map((s: any) => s.channel).sort(), topic);
    expect(channels).toEqual(['stomp', 'stu3', 'typed']);

    // A NACK from the STOMP app: the STU3 app gets the SyncError of HUB-SYNC.
    await stompPage.evaluate(() => ((window as any).holdBack = ['nack-me']));
    expect(await typedPage.evaluate(([t, n]) => harness.publish(t, n), [topic, { ...patientOpen('pt-n'), id: 'nack-me' }] as const)).toMatchObject({ status: 202 });
    await stompPage.waitForFunction(() => stomp.record.messages.some((m: any) => m.body.id === 'nack-me'));
    await stompPage.evaluate((sub) => stomp.nack('nack-me', sub, { status: '409' }), subId);
    await stu3Page.waitForFunction(() => stu3Sockets.v.received.some((f: any) => f.event?.['hub.event'] === 'syncerror'));
    const syncError = await stu3Page.evaluate(() => stu3Sockets.v.received.find((f: any) => f.event?.['hub.event'] === 'syncerror'));
    expect(syncError.event.context[0].resource.issue[0].details.coding).toEqual(
      expect.arrayContaining([
        { system: 'https://fhircast.hl7.org/events/syncerror/eventid', code: 'nack-me' },
        { system: 'https://fhircast.hl7.org/events/syncerror/subscribername', code: 'Reporting (STOMP)' },
      ]),
    );

    // Pull context and the protocol list through hub.fetch.
    const pulled = await stu3Page.evaluate(async (t) => (await harness.hub.fetch(`${harness.hub.hubUrl}/${t}/context`)).json(), topic);
    expect(pulled).toMatchObject({ id: 'nack-me', event: { 'hub.topic': topic, 'hub.event': 'Patient-open' } });
    const protocols = await stu3Page.evaluate(async (t) => (await harness.hub.fetch(`${harness.hub.hubUrl}/${t}/protocols`)).json(), topic);
    expect(protocols.protocols.map((p: any) => p.name)).toEqual(['websocket', 'stomp', 'context']);
    const wellKnown = await stu3Page.evaluate(async () => (await stu3App.discover()).body);
    expect(wellKnown['tabcast.protocols'].map((p: any) => p.name)).toEqual(['websocket', 'stomp', 'context']);
  });
}

test('HUB-STOMP-10 HUB-PULL-02 the demo: reporting over STOMP (?channel=stomp) next to typed apps, and the inspector\'s channel column', async ({ context }) => {
  const errors: string[] = [];
  const launcher = await context.newPage();
  launcher.on('pageerror', (e) => errors.push(String(e)));
  await launcher.goto('/');
  await expect(launcher.locator('#status')).toHaveText(/^Session /, { timeout: 15_000 });
  const stompHref = (await launcher.locator('#link-reporting-stomp').getAttribute('href'))!;
  const inspectorHref = (await launcher.locator('#link-inspector').getAttribute('href'))!;
  const worklistHref = (await launcher.locator('#link-worklist').getAttribute('href'))!;
  expect(stompHref).toMatch(/channel=stomp&topic=/);
  const reporting = await context.newPage();
  reporting.on('pageerror', (e) => errors.push(String(e)));
  await reporting.goto(stompHref);
  await expect(reporting.locator('#status')).toHaveText('Connected', { timeout: 15_000 });
  const worklist = await context.newPage();
  await worklist.goto(worklistHref);
  const inspector = await context.newPage();
  await inspector.goto(inspectorHref);
  const row = inspector.locator('#subscribers tbody tr', { hasText: 'Reporting (STOMP)' });
  await expect(row).toContainText('STOMP', { timeout: 15_000 });
  await expect(inspector.locator('#subscribers tbody tr', { hasText: 'Worklist' })).toContainText('typed');
  // A context change reaches the STOMP app, which ACKs it (the inspector's last-ack column says 200).
  const topic = new URL(stompHref, 'http://x').searchParams.get('topic')!;
  await launcher.evaluate(async (t) => {
    const hub = await (window as any).Tabcast.connect({ appName: 'Test publisher' });
    await hub.publish(t, { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'pt-demo' } }] });
  }, topic);
  await expect(row).toContainText('200', { timeout: 15_000 });
  expect(errors).toEqual([]);
});
