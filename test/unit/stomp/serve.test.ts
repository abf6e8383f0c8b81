/**
 * HUB-STOMP against `tabcast serve` (startServer on a free loopback port) with the unmodified
 * @stomp/stompjs client over `ws` as webSocketFactory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../support/harness.js';
import { DIST_MISSING, HubProcess } from '../server/support.js';
import { RawStomp, StompApp, cleanup, nextLog, httpPublish, patientOpen, serve, studyOpen, stu3Subscriber, topicName } from './support.js';

afterEach(cleanup);

const dest = (prefix: 'hub' | 'app', topic: string, event: string) => `/${prefix}/fhircast/${encodeURIComponent(topic)}/${encodeURIComponent(event)}`;

describe('HUB-STOMP-01 CONNECT', () => {
  it('HUB-STOMP-01 stompjs connects to {hub.url}/websocket and gets CONNECTED version 1.2 with server, session and heart-beat', async () => {
    const { stompUrl } = await serve();
    const app = new StompApp(stompUrl);
    const connected = await app.connected;
    expect(connected.headers.version).toBe('1.2');
    expect(connected.headers.server).toBe('tabcast/0.1.0');
    expect(connected.headers.session).toMatch(/^[\w-]{8,}$/);
    expect(connected.headers['heart-beat']).toBe('10000,10000');
    expect(app.client.connectedVersion).toBe('1.2');
  });

  it('HUB-STOMP-01 the sub-protocol v12.stomp is picked when offered', async () => {
    const { stompUrl } = await serve();
    const raw = await RawStomp.open(stompUrl, ['v10.stomp', 'v11.stomp', 'v12.stomp']);
    expect(raw.ws.protocol).toBe('v12.stomp');
    const frame = await raw.connect();
    expect(frame.command).toBe('CONNECTED');
  });

  it('HUB-STOMP-01 a client offering no sub-protocol is served STOMP 1.2, and the STOMP command works as CONNECT', async () => {
    const { stompUrl } = await serve();
    const raw = await RawStomp.open(stompUrl, []);
    raw.send('STOMP\naccept-version:1.2\nhost:x\n\n\0');
    const frame = await raw.next('CONNECTED');
    expect(frame.headers.version).toBe('1.2');
  });

  it('HUB-STOMP-01 CONNECT without 1.2 in accept-version gets ERROR and a close', async () => {
    const { stompUrl } = await serve();
    const raw = await RawStomp.open(stompUrl);
    const frame = await raw.connect('accept-version:1.0,1.1\n');
    expect(frame.command).toBe('ERROR');
    expect(frame.headers.message).toContain('1.2');
    expect((await raw.closed).code).toBe(1008);
  });
});

describe('HUB-STOMP-02 the app secret on CONNECT', () => {
  const SECRET = 'stomp-secret-0123456789';
  const users = { secret: SECRET, groups: [['alice']] };

  it('HUB-STOMP-02 with a users file, CONNECT without the secret gets ERROR 401 and a close', async () => {
    const { stompUrl } = await serve({ users });
    const app = new StompApp(stompUrl);
    const error = await app.errors.next();
    expect(error.headers.status).toBe('401');
    await app.closes.next();
  });

  it('HUB-STOMP-02 a wrong passcode gets ERROR; the right passcode or an Authorization Bearer connects', async () => {
    const { stompUrl } = await serve({ users });
    const wrong = new StompApp(stompUrl, { connectHeaders: { passcode: 'nope' } });
    expect((await wrong.errors.next()).headers.status).toBe('401');
    const byPasscode = new StompApp(stompUrl, { connectHeaders: { login: 'alice', passcode: SECRET } });
    expect((await byPasscode.connected).headers.version).toBe('1.2');
    const byBearer = new StompApp(stompUrl, { connectHeaders: { Authorization: `Bearer ${SECRET}` } });
    expect((await byBearer.connected).headers.version).toBe('1.2');
  });
});

describe('HUB-STOMP-03/04 SUBSCRIBE and MESSAGE', () => {
  it('HUB-STOMP-03 HUB-STOMP-04 SUBSCRIBE to /hub/… gets MESSAGE frames for /app/… with subscription, message-id and the STU3 JSON', async () => {
    const { stompUrl, hubUrl } = await serve();
    const topic = topicName();
    const app = new StompApp(stompUrl);
    await app.connected;
    const sub = app.subscribe(dest('hub', topic, 'Patient-open'), { receipt: 'sub-1' });
    await new Promise((resolve) => app.client.watchForReceipt('sub-1', resolve));
    const open = patientOpen(topic, 'p-1');
    expect(await httpPublish(hubUrl, open)).toBe(202);
    const { body, message } = await app.nextEvent();
    expect(body).toEqual({ timestamp: open.timestamp, id: open.id, event: { ...open.event, 'context.versionId': expect.any(String) } });
    expect(message.headers.destination).toBe(`/app/fhircast/${topic}/Patient-open`);
    expect(message.headers.subscription).toBe(sub.id);
    expect(message.headers['message-id']).toBe(open.id);
    expect(message.headers['content-type']).toBe('application/json');
    expect(message.headers.ack).toBeUndefined();
  });

  it('HUB-STOMP-03 /app/… and a percent-encoded topic work too, `*` gets everything, other events are filtered out', async () => {
    const { stompUrl, hubUrl } = await serve();
    const topic = `${topicName()}/with space`;
    const app = new StompApp(stompUrl);
    await app.connected;
    app.subscribe(dest('app', topic, 'ImagingStudy-open'), { receipt: 'a' });
    app.subscribe(dest('app', topic, '*'), { receipt: 'b' });
    await new Promise((resolve) => app.client.watchForReceipt('b', resolve));
    await httpPublish(hubUrl, patientOpen(topic, 'p-2'));
    const study = studyOpen(topic, 's-2', 'p-2');
    await httpPublish(hubUrl, study);
    const first = await app.nextEvent();
    expect(first.body.event['hub.event']).toBe('Patient-open');
    expect(first.message.headers.destination).toBe(`/app/fhircast/${encodeURIComponent(topic)}/Patient-open`);
    const next = [await app.nextEvent(), await app.nextEvent()];
    expect(next.map((m) => m.body.id)).toEqual([study.id, study.id]);
    expect(app.messages.items).toHaveLength(3);
  });

  it('HUB-STOMP-03 each SUBSCRIBE gets its own catch-up, with derived opens (HUB-CTX-06, HUB-CTX-09)', async () => {
    const { stompUrl, hubUrl } = await serve();
    const topic = topicName();
    const study = studyOpen(topic, 's-3', 'p-3');
    await httpPublish(hubUrl, study);
    const app = new StompApp(stompUrl);
    await app.connected;
    app.subscribe(dest('hub', topic, 'ImagingStudy-open'));
    app.subscribe(dest('hub', topic, 'Patient-open'));
    const a = await app.nextEvent((b) => b.event['hub.event'] === 'ImagingStudy-open');
    const b = await app.nextEvent((b) => b.event['hub.event'] === 'Patient-open');
    expect(a.body.id).toBe(study.id);
    expect(b.body.event.context[0].resource).toEqual({ resourceType: 'Patient', id: 'p-3' });
  });

  it('HUB-STOMP-03 UNSUBSCRIBE ends that subscription with no SyncError to the others', async () => {
    const { stompUrl, hubUrl } = await serve();
    const topic = topicName();
    const watcher = await stu3Subscriber(hubUrl, topic, 'Patient-open,SyncError');
    const app = new StompApp(stompUrl);
    await app.connected;
    const sub = app.subscribe(dest('hub', topic, 'Patient-open'), { receipt: 's' });
    await new Promise((resolve) => app.client.watchForReceipt('s', resolve));
    sub.unsubscribe({ receipt: 'u' });
    await new Promise((resolve) => app.client.watchForReceipt('u', resolve));
    const open = patientOpen(topic, 'p-4');
    await httpPublish(hubUrl, open);
    const seen = await watcher.nextEvent('Patient-open');
    watcher.ack(seen);
    expect(app.messages.items).toHaveLength(0);
    expect(watcher.frames.filter((f: any) => f.event?.['hub.event'] === 'syncerror')).toHaveLength(0);
  });

  it('HUB-STOMP-03 a bad destination gets ERROR and a close', async () => {
    const { stompUrl } = await serve();
    for (const bad of ['/topic/x', '/hub/fhircast/t/Nonsense-thing', '/hub/fhircast/t', '/hub/fhircast/%zz/Patient-open']) {
      const raw = await RawStomp.open(stompUrl);
      await raw.connect();
      raw.send(`SUBSCRIBE\nid:1\ndestination:${bad}\n\n\0`);
      const error = await raw.next('ERROR');
      expect(error.headers.status).toBe('400');
      expect(error.headers.message).toMatch(/destination/);
      expect((await raw.closed).code).toBe(1008);
    }
  });
});

describe('HUB-STOMP-05/06/07 SEND, refusals and receipts', () => {
  it('HUB-STOMP-05 SEND of an STU3 request or a bare event to /hub/… publishes, topic and event from the destination', async () => {
    const { stompUrl, hubUrl } = await serve();
    const topic = topicName();
    const watcher = await stu3Subscriber(hubUrl, topic, 'Patient-open,ImagingStudy-open');
    const app = new StompApp(stompUrl);
    await app.connected;
    const full = patientOpen(topic, 'p-5');
    await app.sendWithReceipt(dest('hub', topic, 'Patient-open'), full);
    const got = await watcher.nextEvent('Patient-open');
    expect(got.id).toBe(full.id);
    watcher.ack(got);
    await app.sendWithReceipt(dest('app', topic, 'ImagingStudy-open'), { context: studyOpen(topic, 's-5', 'p-5').event.context });
    const bare = await watcher.nextEvent('ImagingStudy-open');
    expect(bare.event['hub.topic']).toBe(topic);
    expect(bare.event.context[0].resource.id).toBe('s-5');
    expect(typeof bare.id).toBe('string');
  });

  it('HUB-STOMP-06 a SEND naming another topic or event than its destination gets ERROR 400 with receipt-id and the OperationOutcome; nothing is applied', async () => {
    const { stompUrl, hubUrl } = await serve();
    const topic = topicName();
    for (const [destination, body] of [
      [dest('hub', 'other-topic', 'Patient-open'), patientOpen(topic, 'p-6')],
      [dest('hub', topic, 'ImagingStudy-open'), patientOpen(topic, 'p-6')],
    ] as const) {
      const app = new StompApp(stompUrl);
      await app.connected;
      app.client.publish({ destination, body: JSON.stringify(body), headers: { receipt: 'r-bad' } });
      const error = await app.errors.next();
      expect(error.headers.status).toBe('400');
      expect(error.headers['receipt-id']).toBe('r-bad');
      expect(error.headers.message).toMatch(/differs from the (topic|event) of the destination/);
      expect(JSON.parse(error.body).resourceType).toBe('OperationOutcome');
      await app.closes.next();
    }
    const current = await (await fetch(`${hubUrl}/${topic}`)).json();
    expect(current).toEqual({ 'context.type': '', context: [] });
    const other = await (await fetch(`${hubUrl}/other-topic`)).json();
    expect(other).toEqual({ 'context.type': '', context: [] });
  });

  it('HUB-STOMP-06 a SEND failing HUB-CHANGE validation gets ERROR with its status and closes; the frames after it do nothing', async () => {
    const { stompUrl, hubUrl } = await serve();
    const topic = topicName();
    const raw = await RawStomp.open(stompUrl);
    await raw.connect();
    const bad = JSON.stringify({ context: [] }); // Patient-open needs its patient
    const good = JSON.stringify(patientOpen(topic, 'p-7'));
    raw.send(`SEND\ndestination:/hub/fhircast/${topic}/Patient-open\nreceipt:r1\n\n${bad}\0SEND\ndestination:/hub/fhircast/${topic}/Patient-open\nreceipt:r2\n\n${good}\0`);
    const error = await raw.next('ERROR');
    expect(error.headers.status).toBe('400');
    expect(error.headers['receipt-id']).toBe('r1');
    await raw.closed;
    expect(raw.frames.items.map((f) => f.command)).toEqual(['CONNECTED', 'ERROR']);
    expect(await (await fetch(`${hubUrl}/${topic}`)).json()).toEqual({ 'context.type': '', context: [] });
  });

  it('HUB-STOMP-07 RECEIPT for a SEND comes once the change is accepted; DISCONNECT with receipt gets RECEIPT, then the close, with no SyncError', async () => {
    const { stompUrl, hubUrl } = await serve();
    const topic = topicName();
    const watcher = await stu3Subscriber(hubUrl, topic, 'Patient-open,SyncError');
    const app = new StompApp(stompUrl);
    await app.connected;
    app.subscribe(dest('hub', topic, 'Patient-open'), { receipt: 's' });
    await new Promise((resolve) => app.client.watchForReceipt('s', resolve));
    const open = patientOpen(topic, 'p-8');
    const receipt = await app.sendWithReceipt(dest('hub', topic, 'Patient-open'), open);
    expect(receipt.command).toBe('RECEIPT');
    const current = (await (await fetch(`${hubUrl}/${topic}`)).json()) as any;
    expect(current.context[0].resource.id).toBe('p-8');
    watcher.ack(await watcher.nextEvent('Patient-open'));
    await app.client.deactivate(); // stompjs sends DISCONNECT with a receipt and waits for it
    const close = await app.closes.next();
    expect(close.code).toBe(1000);
    await httpPublish(hubUrl, patientOpen(topic, 'p-9'));
    watcher.ack(await watcher.nextEvent('Patient-open'));
    expect(watcher.frames.filter((f: any) => f.event?.['hub.event'] === 'syncerror')).toHaveLength(0);
  });

  it('HUB-STOMP-07 a raw DISCONNECT with receipt gets the RECEIPT before the close', async () => {
    const { stompUrl } = await serve();
    const raw = await RawStomp.open(stompUrl);
    await raw.connect();
    raw.send('DISCONNECT\nreceipt:bye-1\n\n\0');
    const receipt = await raw.next('RECEIPT');
    expect(receipt.headers['receipt-id']).toBe('bye-1');
    expect((await raw.closed).code).toBe(1000);
  });
});

describe('HUB-STOMP-08/09 ACK, NACK and silence', () => {
  it('HUB-STOMP-08 NACK in client-individual mode raises the SyncError of HUB-SYNC to an STU3 subscriber, status from the header', async () => {
    const { stompUrl, hubUrl } = await serve();
    const topic = topicName();
    const watcher = await stu3Subscriber(hubUrl, topic, 'Patient-open,SyncError');
    const app = new StompApp(stompUrl, { connectHeaders: { 'client-id': 'stomp reporting' } });
    await app.connected;
    app.subscribe(dest('hub', topic, 'Patient-open'), { ack: 'client-individual', receipt: 's' });
    await new Promise((resolve) => app.client.watchForReceipt('s', resolve));
    const open = patientOpen(topic, 'p-10');
    await httpPublish(hubUrl, open);
    watcher.ack(await watcher.nextEvent('Patient-open'));
    const { message } = await app.nextEvent();
    expect(message.headers.ack).toBeTruthy();
    message.nack({ status: '409' });
    const syncError = await watcher.nextEvent('SyncError');
    const outcome = syncError.event.context.find((c: any) => c.key === 'operationoutcome').resource;
    expect(JSON.stringify(outcome)).toContain(open.id);
    expect(JSON.stringify(outcome)).toContain('stomp reporting');
    expect(JSON.stringify(outcome)).toMatch(/409|refused/);
  });

  it('HUB-STOMP-08 a NACK with no status counts as 500; an ACK raises nothing', async () => {
    const { stompUrl, hubUrl } = await serve();
    const topic = topicName();
    const watcher = await stu3Subscriber(hubUrl, topic, 'Patient-open,SyncError');
    const app = new StompApp(stompUrl);
    await app.connected;
    app.subscribe(dest('hub', topic, 'Patient-open'), { ack: 'client', receipt: 's' });
    await new Promise((resolve) => app.client.watchForReceipt('s', resolve));
    await httpPublish(hubUrl, patientOpen(topic, 'p-11'));
    watcher.ack(await watcher.nextEvent('Patient-open'));
    (await app.nextEvent()).message.ack();
    const second = patientOpen(topic, 'p-12');
    await httpPublish(hubUrl, second);
    watcher.ack(await watcher.nextEvent('Patient-open'));
    (await app.nextEvent()).message.nack();
    const syncError = await watcher.nextEvent('SyncError');
    expect(JSON.stringify(syncError)).toContain(second.id);
    expect(watcher.frames.filter((f: any) => f.event?.['hub.event'] === 'syncerror')).toHaveLength(1);
  });

  it('HUB-STOMP-09 in client mode, silence past the ack timeout is a silent subscriber: SyncError to the others, ERROR naming the subscription, close', async () => {
    const clock = new FakeClock(Date.now());
    const { stompUrl, hubUrl, server } = await serve({ clock, ackTimeoutMs: 5000 });
    const topic = topicName();
    const watcher = await stu3Subscriber(hubUrl, topic, 'Patient-open,SyncError');
    const app = new StompApp(stompUrl);
    await app.connected;
    const sub = app.subscribe(dest('hub', topic, 'Patient-open'), { ack: 'client', receipt: 's' });
    app.subscribe(dest('hub', topic, 'ImagingStudy-open'), { receipt: 's2' });
    await new Promise((resolve) => app.client.watchForReceipt('s2', resolve));
    const open = patientOpen(topic, 'p-13');
    await httpPublish(hubUrl, open);
    const acked = nextLog(server.hub, (e) => e.type === 'ack' && e.subscriber === 'stu3 app');
    watcher.ack(await watcher.nextEvent('Patient-open'));
    await acked;
    await app.nextEvent();
    clock.advance(5001);
    server.hub.tick();
    const syncError = await watcher.nextEvent('SyncError');
    expect(JSON.stringify(syncError)).toContain(open.id);
    const error = await app.errors.next();
    expect(error.headers.subscription).toBe(sub.id);
    expect(error.headers.message).toMatch(/no answer/);
    await app.closes.next();
    // The connection's other subscription ended with no further SyncError.
    await httpPublish(hubUrl, patientOpen(topic, 'p-14'));
    watcher.ack(await watcher.nextEvent('Patient-open'));
    expect(watcher.frames.filter((f: any) => f.event?.['hub.event'] === 'syncerror')).toHaveLength(1);
    expect(server.hub.inspect().topics.find((t) => t.topic === topic)!.subscribers.map((s) => s.channel)).toEqual(['stu3']);
  });

  it('HUB-STOMP-09 in auto mode a written MESSAGE counts as answered: no timeout', async () => {
    const clock = new FakeClock(Date.now());
    const { stompUrl, hubUrl, server } = await serve({ clock, ackTimeoutMs: 5000 });
    const topic = topicName();
    const app = new StompApp(stompUrl);
    await app.connected;
    app.subscribe(dest('hub', topic, 'Patient-open'), { receipt: 's' });
    await new Promise((resolve) => app.client.watchForReceipt('s', resolve));
    await httpPublish(hubUrl, patientOpen(topic, 'p-15'));
    await app.nextEvent();
    const subscriber = server.hub.inspect().topics.find((t) => t.topic === topic)!.subscribers[0]!;
    expect(subscriber).toMatchObject({ channel: 'stomp', pending: 0, lastAck: { status: 200 } });
    clock.advance(60_000);
    server.hub.tick();
    expect(server.hub.inspect().topics.find((t) => t.topic === topic)!.subscribers).toHaveLength(1);
  });
});

describe('HUB-STOMP-13 transactions', () => {
  it('HUB-STOMP-13 BEGIN gets ERROR "transactions are not supported" and a close', async () => {
    const { stompUrl } = await serve();
    const raw = await RawStomp.open(stompUrl);
    await raw.connect();
    raw.send('BEGIN\ntransaction:tx1\n\n\0');
    const error = await raw.next('ERROR');
    expect(error.headers.message).toBe('transactions are not supported');
    await raw.closed;
  });

  it('HUB-STOMP-13 a SEND inside a transaction is refused the same way and applies nothing', async () => {
    const { stompUrl, hubUrl } = await serve();
    const topic = topicName();
    const raw = await RawStomp.open(stompUrl);
    await raw.connect();
    raw.send(`SEND\ndestination:/hub/fhircast/${topic}/Patient-open\ntransaction:tx1\n\n${JSON.stringify(patientOpen(topic, 'p'))}\0`);
    expect((await raw.next('ERROR')).headers.message).toBe('transactions are not supported');
    expect(await (await fetch(`${hubUrl}/${topic}`)).json()).toEqual({ 'context.type': '', context: [] });
  });
});

describe('HUB-STOMP-10 one topic, two channels', () => {
  it('HUB-STOMP-10 a STOMP app and an STU3 app on one topic get the same events in the same order, whichever of them publishes', async () => {
    const { stompUrl, hubUrl } = await serve();
    const topic = topicName();
    const stu3 = await stu3Subscriber(hubUrl, topic, 'Patient-open');
    const app = new StompApp(stompUrl);
    await app.connected;
    app.subscribe(dest('hub', topic, 'Patient-open'), { receipt: 's' });
    await new Promise((resolve) => app.client.watchForReceipt('s', resolve));
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const fromStomp = patientOpen(topic, `s-${i}`);
      const fromStu3 = patientOpen(topic, `h-${i}`);
      // Both sides publish without waiting for each other: the hub's order is the order everyone sees.
      void app.sendWithReceipt(dest('hub', topic, 'Patient-open'), fromStomp);
      void httpPublish(hubUrl, fromStu3);
      ids.push(fromStomp.id, fromStu3.id);
    }
    const overStomp: string[] = [];
    const overStu3: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      overStomp.push((await app.nextEvent()).body.id);
      const n = await stu3.nextEvent('Patient-open');
      stu3.ack(n);
      overStu3.push(n.id);
    }
    expect(overStomp.slice().sort()).toEqual(ids.slice().sort());
    expect(overStu3).toEqual(overStomp);
  });
});

describe.skipIf(DIST_MISSING)('HUB-STOMP-01 the real `tabcast serve` process (needs npm run build)', () => {
  it('HUB-STOMP-01 HUB-STOMP-05 HUB-PULL-01 node bin/tabcast.js serve offers STOMP at {hub.url}/websocket: stompjs sends, another stompjs app gets it, pull context shows it', async () => {
    const proc = await HubProcess.start(['--port', '0']);
    try {
      const stompUrl = `${proc.url.replace(/^http/, 'ws')}/websocket`;
      const topic = topicName();
      const reader = new StompApp(stompUrl);
      const writer = new StompApp(stompUrl);
      await Promise.all([reader.connected, writer.connected]);
      reader.subscribe(dest('app', topic, 'Patient-open'), { receipt: 'r' });
      await new Promise((resolve) => reader.client.watchForReceipt('r', resolve));
      const open = patientOpen(topic, 'p-bin');
      await writer.sendWithReceipt(dest('hub', topic, 'Patient-open'), open);
      expect((await reader.nextEvent()).body.id).toBe(open.id);
      const pulled = (await (await fetch(`${proc.url}/${topic}/context`)).json()) as any;
      expect(pulled).toMatchObject({ id: open.id, event: { 'hub.topic': topic, 'hub.event': 'Patient-open' } });
    } finally {
      await proc.stop();
    }
  });
});
