/**
 * The 2019 envelope as a channel option (channels.md §4, HUB-ENV-01/02) on both doors: `tabcast
 * serve` with a real `ws` client, and the wire the in-page hub uses, with a recording socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createWireHandler } from '../../../src/wire/index.js';
import { startServer } from '../../../src/server/index.js';
import { ManualTimers, settle } from '../bridge/support/manual-timers.js';
import { makeHub } from '../support/harness.js';
import { cleanup, postSubscription, publish, subscribeAndOpen, TestSocket, track, unsubscribe } from '../server/support.js';

const TOPIC = 'T-env';
const SECRET = 'app-wide-secret-2019';
const BEARER = { authorization: `Bearer ${SECRET}` };
afterEach(cleanup);

function imagingOpen(id: string, study = 's1') {
  return {
    timestamp: '2026-01-01T00:00:00Z',
    id,
    event: { 'hub.topic': TOPIC, 'hub.event': 'ImagingStudy-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p1' } }, { key: 'study', resource: { resourceType: 'ImagingStudy', id: study } }] },
  };
}

async function serve(options: { users?: boolean; heartbeatMs?: number } = {}) {
  const timers = new ManualTimers();
  const server = track(
    await startServer({ port: 0, heartbeatMs: options.heartbeatMs ?? 0, clock: timers.clock, ...(options.users ? { users: { secret: SECRET, groups: [['alice']] } } : {}) }),
  );
  return { server, timers };
}

async function subscribe2019(hubUrl: string, events: string, headers: Record<string, string> = {}) {
  const res = await postSubscription(hubUrl, { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': TOPIC, 'hub.events': events, 'hub.channel.dialect': '2019', 'subscriber.name': 'pacs-2019' }, headers);
  expect(res.status, await res.clone().text()).toBe(202);
  const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
  return { endpoint, sock: await TestSocket.open(endpoint) };
}

const inspectSub = (server: { hub: { inspect(): any } }, name: string) =>
  server.hub.inspect().topics.flatMap((t: any) => t.subscribers).find((s: any) => s.name === name);

describe('HUB-ENV-01: the 2019 framing on tabcast serve', () => {
  it('HUB-ENV-01: the greeting is {timestamp, status: OK, statusCode: 200}, every notification is {header, body}, and the header holds no secret', async () => {
    const { server } = await serve({ users: true });
    const { sock } = await subscribe2019(server.url, 'ImagingStudy-open', BEARER);
    const greeting = await sock.next(() => true, 'the greeting');
    expect(greeting).toEqual({ timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), status: 'OK', statusCode: '200' });
    await publish(server.url, imagingOpen('e1'), BEARER);
    const frame = await sock.next((f) => f.body !== undefined, 'an enveloped notification');
    expect([...Object.keys(frame)].sort()).toEqual(['body', 'header']);
    expect(frame.header).toEqual({ 'Content-Type': 'application/json' });
    expect(frame.body).toMatchObject({ id: 'e1', timestamp: expect.any(String), event: { 'hub.topic': TOPIC, 'hub.event': 'ImagingStudy-open' } });
    expect(JSON.stringify(sock.frames)).not.toContain(SECRET);
    expect(inspectSub(server, 'pacs-2019').channel).toBe('2019');
  });

  it('HUB-ENV-01 / HUB-LEGACY-03: a subscriber that listed legacy names gets legacy names in the envelope', async () => {
    const { server } = await serve();
    const { sock } = await subscribe2019(server.url, 'open-imaging-study,close-imaging-study');
    await sock.next(() => true, 'the greeting');
    await publish(server.url, imagingOpen('e1'));
    const frame = await sock.next((f) => f.body !== undefined);
    expect(frame.body.event['hub.event']).toBe('open-imaging-study');
  });

  it('HUB-ENV-01: no heartbeats are sent on the 2019 channel', async () => {
    const { server, timers } = await serve({ heartbeatMs: 1000 });
    const { sock } = await subscribe2019(server.url, 'ImagingStudy-open');
    const stu3 = await subscribeAndOpen(server.url, TOPIC, 'ImagingStudy-open');
    timers.now += 3500;
    server.hub.tick();
    await stu3.sock.next((f) => f?.event?.['hub.event'] === 'heartbeat', 'a heartbeat to the STU3 subscriber');
    await publish(server.url, imagingOpen('e1'));
    await sock.next((f) => f.body !== undefined);
    expect(sock.frames.filter((f) => JSON.stringify(f).includes('heartbeat'))).toHaveLength(0);
  });

  it('HUB-ENV-01: a denial closes the socket with 1008 and the reason', async () => {
    const { server } = await serve();
    const { endpoint, sock } = await subscribe2019(server.url, 'ImagingStudy-open');
    await sock.next(() => true, 'the greeting');
    expect((await unsubscribe(server.url, TOPIC, endpoint)).status).toBe(202);
    const closed = await sock.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/unsubscribed/);
    expect(sock.frames.some((f) => f['hub.mode'] === 'denied')).toBe(false);
  });
});

describe('HUB-ENV-02: {statusCode} answers are acks', () => {
  it('HUB-ENV-02: an answer without id settles the oldest unanswered notification; a failing statusCode raises the SyncError', async () => {
    const { server } = await serve();
    const { sock } = await subscribe2019(server.url, 'ImagingStudy-open');
    const watcher = await subscribeAndOpen(server.url, TOPIC, 'ImagingStudy-open,SyncError', { name: 'stu3-watcher' });
    await sock.next(() => true, 'the greeting');
    await publish(server.url, imagingOpen('e1', 's1'));
    await publish(server.url, imagingOpen('e2', 's2'));
    await sock.next((f) => f.body?.id === 'e2', 'both notifications');
    expect(inspectSub(server, 'pacs-2019').pending).toBe(2);
    sock.send({ timestamp: '2026-01-01T00:00:01Z', status: 'OK', statusCode: '200' });
    sock.send('not json at all');
    sock.send({ unrelated: true });
    sock.send({ timestamp: '2026-01-01T00:00:02Z', status: 'Error', statusCode: '500' });
    const sync = await watcher.sock.nextEvent('SyncError');
    expect(JSON.stringify(sync)).toContain('pacs-2019');
    // The first answer went to e1 (the oldest), the failing one to e2.
    const codings = sync.event.context[0].resource.issue[0].details.coding;
    expect(codings.find((c: any) => c.system.endsWith('/eventid')).code).toBe('e2');
    const sub = inspectSub(server, 'pacs-2019');
    expect(sub.pending).toBe(0);
    expect(sub.lastAck.status).toBe(500);
    expect(sub.connected).toBe(true); // garbage was ignored, the socket stays
  });
});

describe('HUB-ENV-01/02 on the in-page wire', () => {
  it('HUB-ENV-01 / HUB-ENV-02: the wire the in-page hub serves frames a 2019 subscriber the same way and reads its {statusCode} answers', async () => {
    const { hub } = await makeHub();
    const wire = createWireHandler(hub, { hubUrl: 'https://page.test/fhircast/hub', now: () => Date.parse('2026-01-01T00:00:00Z') });
    const res = await wire.handle(
      new Request('https://page.test/fhircast/hub', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': TOPIC, 'hub.events': 'ImagingStudy-open', 'hub.channel.dialect': '2019', 'subscriber.name': 'page-2019' }),
      }),
    );
    expect(res.status).toBe(202);
    const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
    const sent: string[] = [];
    const closes: Array<[number, string]> = [];
    const handle = wire.acceptSocket(endpoint, { send: (t) => sent.push(t), close: (c, r) => closes.push([c, r]) })!;
    expect(JSON.parse(sent[0]!)).toEqual({ timestamp: '2026-01-01T00:00:00.000Z', status: 'OK', statusCode: '200' });
    await hub.publish(imagingOpen('e1'));
    expect(JSON.parse(sent[1]!)).toMatchObject({ header: { 'Content-Type': 'application/json' }, body: { id: 'e1' } });
    handle.receive(JSON.stringify({ timestamp: 'x', status: 'OK', statusCode: '200' }));
    const sub = hub.inspect().topics[0]!.subscribers[0]!;
    expect(sub).toMatchObject({ channel: '2019', pending: 0, lastAck: { status: 200 } });
    const refused = await wire.handle(
      new Request('https://page.test/fhircast/hub', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': TOPIC, 'hub.events': 'Patient-open', 'hub.channel.dialect': '1999' }).toString(),
      }),
    );
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/hub\.channel\.dialect/);
    await settle();
    expect(closes).toEqual([]);
  });
});
