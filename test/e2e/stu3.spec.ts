import { expect, test, type BrowserContext } from '@playwright/test';
import { entry, MODES, patientOpen, reportOpen, reportUpdate, type Mode } from './support.js';

interface SocketRecord {
  received: any[];
  closedWith: { code: number; reason: string; wasClean: boolean } | null;
  opened: boolean;
}
declare global {
  const client: {
    discover(): Promise<any>;
    requestSubscription(params: Record<string, string>): Promise<any>;
    publish(notification: object): Promise<any>;
    getContext(topic: string): Promise<any>;
    open(endpoint: string): SocketRecord;
    ack(record: SocketRecord, id: string, status: number | string): void;
  };
  const sockets: Record<string, SocketRecord>;
}

/** A tab running the plain STU3 client, given this hub's fetch and WebSocket. */
async function openStu3Tab(context: BrowserContext, mode: Mode, appName: string) {
  const page = await context.newPage();
  await page.goto('/test-pages/stu3.html');
  await page.evaluate(async (options) => {
    const hubUrl = await window.harness.connect(options);
    const hub = window.harness.hub;
    Object.assign(window, { client: (window as any).createStu3Client({ hubUrl, fetch: hub.fetch, WebSocket: hub.WebSocket }), sockets: {} });
  }, { mode, appName });
  return page;
}

const notification = (topic: string, id: string, event: object) => ({ timestamp: new Date().toISOString(), id, event: { 'hub.topic': topic, ...event } });

for (const mode of MODES) {
  test(`HUB-DISC-01 HUB-SUB-01 HUB-SUB-07 HUB-NOTIFY-01 HUB-ACK-01 HUB-SYNC-01 HUB-SYNC-04 HUB-GET-01 HUB-CONTENT-04 HUB-CONTENT-09 HUB-SUB-13 HUB-SUB-14 HUB-SUB-15 an unmodified STU3 client runs a full session over hub.fetch and hub.WebSocket (${mode})`, async ({ context, baseURL }) => {
    const reporting = await openStu3Tab(context, mode, 'Reporting');
    const viewer = await openStu3Tab(context, mode, 'Viewer');
    const topic = await reporting.evaluate(() => harness.hub.createTopic());
    const hubUrl = `${baseURL}/fhircast/hub`;

    const discovery = await reporting.evaluate(() => client.discover());
    expect(discovery).toMatchObject({ status: 200, type: 'application/json', body: { websocketSupport: true, eventsSupported: expect.arrayContaining(['Patient-open', 'DiagnosticReport-update']) } });

    // Subscribe with the form POST; the endpoint is a ws: URL under hub.url's origin.
    const reportingEvents = 'Patient-open,DiagnosticReport-open,DiagnosticReport-update,SyncError';
    const subscribed = await reporting.evaluate(
      ([t, events]) => client.requestSubscription({ 'hub.mode': 'subscribe', 'hub.topic': t, 'hub.events': events, 'subscriber.name': 'Reporting' }),
      [topic, reportingEvents] as const,
    );
    expect(subscribed).toMatchObject({ status: 202, type: 'application/json' });
    const endpoint: string = subscribed.body['hub.channel.endpoint'];
    expect(endpoint.startsWith(hubUrl.replace(/^http:/, 'ws:') + '/')).toBe(true);
    await reporting.evaluate((url) => (sockets.r = client.open(url)), endpoint);
    await reporting.waitForFunction(() => sockets.r!.received.length === 1);
    expect(await reporting.evaluate(() => sockets.r!.received[0])).toEqual({ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': reportingEvents, 'hub.lease_seconds': 7200 });

    const viewerSub = await viewer.evaluate((t) => client.requestSubscription({ 'hub.mode': 'subscribe', 'hub.topic': t, 'hub.events': 'Patient-open', 'subscriber.name': 'Viewer' }), topic);
    await viewer.evaluate((url) => (sockets.v = client.open(url)), viewerSub.body['hub.channel.endpoint']);
    await viewer.evaluate((t) => harness.subscribe(t, ['Patient-open']), topic); // a typed subscriber beside it
    await viewer.waitForFunction(() => sockets.v!.received.length === 1);

    // Publish, notification to both kinds of subscriber (the same JSON), acks: 200 and a refusal.
    const open = notification(topic, 'ev-1', patientOpen('pt-7'));
    expect(await reporting.evaluate((n) => client.publish(n), open)).toMatchObject({ status: 202, body: { id: 'ev-1' } });
    await reporting.waitForFunction(() => sockets.r!.received.some((f) => f.id === 'ev-1'));
    await viewer.waitForFunction(() => sockets.v!.received.some((f) => f.id === 'ev-1') && harness.events.length === 1);
    const overSocket = await viewer.evaluate(() => sockets.v!.received.find((f) => f.id === 'ev-1'));
    expect(overSocket).toMatchObject({ id: 'ev-1', timestamp: open.timestamp, event: { 'hub.topic': topic, 'hub.event': 'Patient-open', context: [entry('patient', 'Patient', 'pt-7')] } });
    expect(await viewer.evaluate(() => harness.events[0])).toEqual(overSocket);
    await reporting.evaluate(() => client.ack(sockets.r!, 'ev-1', 200));
    await viewer.evaluate(() => client.ack(sockets.v!, 'ev-1', 409));
    await reporting.waitForFunction(() => sockets.r!.received.some((f) => f.event?.['hub.event'] === 'syncerror'));
    const syncError = await reporting.evaluate(() => sockets.r!.received.find((f) => f.event?.['hub.event'] === 'syncerror'));
    expect(syncError.event.context[0].resource.issue[0].details.coding).toEqual(
      expect.arrayContaining([
        { system: 'https://fhircast.hl7.org/events/syncerror/eventid', code: 'ev-1' },
        { system: 'https://fhircast.hl7.org/events/syncerror/subscribername', code: 'Viewer' },
      ]),
    );

    const current = await viewer.evaluate((t) => client.getContext(t), topic);
    expect(current).toMatchObject({ status: 200, body: { 'context.type': 'Patient', context: [entry('patient', 'Patient', 'pt-7'), { key: 'content' }] } });

    // Content sharing: open, update with versionId → priorVersionId, then a stale update → 409.
    expect((await reporting.evaluate((n) => client.publish(n), notification(topic, 'ev-2', reportOpen('dr-1', 'pt-7')))).status).toBe(202);
    await reporting.waitForFunction(() => sockets.r!.received.some((f) => f.id === 'ev-2'));
    const openVersion = await reporting.evaluate(() => sockets.r!.received.find((f) => f.id === 'ev-2').event['context.versionId']);
    await reporting.evaluate(() => client.ack(sockets.r!, 'ev-2', '200'));
    expect((await reporting.evaluate((n) => client.publish(n), notification(topic, 'ev-3', reportUpdate('dr-1', openVersion, 'obs-1')))).status).toBe(202);
    await reporting.waitForFunction(() => sockets.r!.received.some((f) => f.id === 'ev-3'));
    const update = await reporting.evaluate(() => sockets.r!.received.find((f) => f.id === 'ev-3').event);
    expect(update['context.priorVersionId']).toBe(openVersion);
    expect(update['context.versionId']).toEqual(expect.any(String));
    expect(update['context.versionId']).not.toBe(openVersion);
    await reporting.evaluate(() => client.ack(sockets.r!, 'ev-3', 200));
    const stale = await reporting.evaluate((n) => client.publish(n), notification(topic, 'ev-4', reportUpdate('dr-1', openVersion, 'obs-2')));
    expect(stale).toMatchObject({ status: 409, type: 'application/fhir+json', body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'conflict' }] } });

    // Unsubscribe: 202 with the same endpoint, then a denial and a normal close on the socket.
    const unsubscribed = await reporting.evaluate(([t, e]) => client.requestSubscription({ 'hub.mode': 'unsubscribe', 'hub.topic': t, 'hub.channel.endpoint': e }), [topic, endpoint] as const);
    expect(unsubscribed).toMatchObject({ status: 202, body: { 'hub.channel.endpoint': endpoint } });
    await reporting.waitForFunction(() => sockets.r!.closedWith !== null);
    expect(await reporting.evaluate(() => sockets.r!.received.at(-1))).toMatchObject({ 'hub.mode': 'denied', 'hub.topic': topic, 'hub.events': reportingEvents });
    expect(await reporting.evaluate(() => sockets.r!.closedWith)).toMatchObject({ code: 1000, wasClean: true });
    const gone = await reporting.evaluate((url) => {
      const record = client.open(url);
      (sockets as Record<string, unknown>).gone = record;
      return url;
    }, endpoint);
    expect(gone).toBe(endpoint);
    await reporting.waitForFunction(() => (sockets as any).gone.closedWith !== null);
    expect(await reporting.evaluate(() => (sockets as any).gone)).toMatchObject({ opened: false, errors: 1, closedWith: { code: 1006, wasClean: false } });
  });
}
