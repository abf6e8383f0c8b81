import { describe, expect, it } from 'vitest';
import { FakeSocket, formRequest, jsonRequest, makeWire, patientOpen, subscribeAndConnect, subscribeParams, unsubscribeParams } from './support.js';

const endpointOf = async (res: Response) => ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;

describe('HUB-SUB subscribe and unsubscribe through the wire', () => {
  it('HUB-SUB-01 a form subscribe is answered 202 application/json {"hub.channel.endpoint": ws://…} on an http hub', async () => {
    const { wire } = await makeWire();
    const res = await wire.handle(formRequest(subscribeParams('T-sub-01', 'Patient-open')));
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toMatch(/^application\/json\b/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['hub.channel.endpoint']);
    expect(body['hub.channel.endpoint']).toMatch(/^ws:\/\/hub\.test\//);
  });

  it('HUB-SUB-01 the endpoint is wss:// when hub.url is https', async () => {
    const { wire } = await makeWire({ hubUrl: 'https://secure.test/fhircast/hub' });
    const res = await wire.handle(formRequest(subscribeParams('T-sub-01s', 'Patient-open'), {}, 'https://secure.test/fhircast/hub'));
    expect(res.status).toBe(202);
    expect(await endpointOf(res)).toMatch(/^wss:\/\/secure\.test\//);
  });

  it('HUB-SUB-02 HUB-SEC-01 endpoints are unique, carry at least 122 random bits and never contain the topic', async () => {
    const { wire } = await makeWire();
    const topic = 'T-sec01-visible-topic';
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const endpoint = await endpointOf(await wire.handle(formRequest(subscribeParams(topic, 'Patient-open'))));
      expect(endpoint).not.toContain(topic);
      expect(endpoint).not.toContain(encodeURIComponent(topic));
      seen.add(endpoint);
      // The unguessable part: the last path segment, base64url (6 bits a character) → ≥ 21 characters.
      const token = new URL(endpoint).pathname.split('/').pop()!;
      expect(token).toMatch(/^[A-Za-z0-9_-]{21,}$/);
    }
    expect(seen.size).toBe(40);
  });

  it('HUB-SUB-07 the first frame on a new endpoint socket is the four-member confirmation, sent as JSON text', async () => {
    const { wire } = await makeWire();
    const { socket } = await subscribeAndConnect(wire, 'T-sub-07', 'Patient-open,SyncError');
    expect(socket.raw[0]).toBeTypeOf('string');
    expect(socket.sent[0]).toEqual({ 'hub.mode': 'subscribe', 'hub.topic': 'T-sub-07', 'hub.events': 'Patient-open,SyncError', 'hub.lease_seconds': 7200 });
  });

  const badSubscriptions: Array<[string, string, Record<string, string> | string, RegExp]> = [
    ['HUB-SUB-03', 'no hub.mode', { 'hub.channel.type': 'websocket', 'hub.topic': 'T', 'hub.events': 'Patient-open' }, /hub\.mode/],
    ['HUB-SUB-03', 'an unknown hub.mode', subscribeParams('T', 'Patient-open', { 'hub.mode': 'publish' }), /hub\.mode/],
    ['HUB-SUB-03', 'no hub.topic', { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.events': 'Patient-open' }, /hub\.topic/],
    ['HUB-SUB-03', 'hub.channel.type webhook', subscribeParams('T', 'Patient-open', { 'hub.channel.type': 'webhook' }), /hub\.channel\.type/],
    ['HUB-SUB-03', 'an unsubscribe without hub.channel.endpoint', { 'hub.channel.type': 'websocket', 'hub.mode': 'unsubscribe', 'hub.topic': 'T' }, /hub\.channel\.endpoint/],
    ['HUB-SUB-04', 'no hub.channel.type', { 'hub.mode': 'subscribe', 'hub.topic': 'T', 'hub.events': 'Patient-open' }, /hub\.channel\.type/],
    ['HUB-SUB-05', 'no hub.events', { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': 'T' }, /hub\.events/],
    ['HUB-SUB-05', 'an empty hub.events', subscribeParams('T', ' , '), /hub\.events/],
    ['HUB-SUB-05', 'a repeated parameter', 'hub.channel.type=websocket&hub.mode=subscribe&hub.topic=T&hub.topic=U&hub.events=Patient-open', /hub\.topic/],
    ['HUB-SUB-05', 'an unknown event name', subscribeParams('T', 'Patient-open,Unheard-of-thing'), /Unheard-of-thing/],
  ];

  for (const [id, what, params, names] of badSubscriptions) {
    it(`${id} HUB-SUB-06 ${what} gets 400 with a text/plain reason naming the problem`, async () => {
      const { wire } = await makeWire();
      const res = await wire.handle(formRequest(params));
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain\b/);
      const text = await res.text();
      expect(text).toMatch(names);
      expect(text).not.toMatch(/^\s*[{[]/); // a reason, not a JSON document
    });
  }

  it('HUB-SUB-06 an oversized form subscribe is refused 413 with a text/plain reason', async () => {
    const { wire } = await makeWire({ bodyLimitBytes: 256 });
    const res = await wire.handle(formRequest(subscribeParams('T', 'Patient-open', { 'subscriber.name': 'x'.repeat(300) })));
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain\b/);
    expect(await res.text()).toMatch(/256 bytes/);
  });

  it('HUB-SUB-11 a re-subscribe naming the endpoint URL keeps that endpoint and switches the events', async () => {
    const { wire } = await makeWire();
    const { endpoint, socket } = await subscribeAndConnect(wire, 'T-sub-11', 'Patient-close');
    const again = await wire.handle(formRequest(subscribeParams('T-sub-11', 'Patient-open', { 'hub.channel.endpoint': endpoint })));
    expect(again.status).toBe(202);
    expect(await endpointOf(again)).toBe(endpoint);
    expect((await wire.handle(jsonRequest(patientOpen('T-sub-11', 'p1')))).status).toBe(202);
    expect(socket.events.map((e) => e.event['hub.event'])).toEqual(['Patient-open']);
  });

  it('HUB-SUB-13 HUB-SUB-14 HUB-SUB-15 unsubscribe: 202 with the same endpoint, denial then close, endpoint gone', async () => {
    const { wire } = await makeWire();
    const { endpoint, socket } = await subscribeAndConnect(wire, 'T-sub-13', 'Patient-open,Patient-close');
    const res = await wire.handle(formRequest(unsubscribeParams('T-sub-13', endpoint)));
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(await res.json()).toEqual({ 'hub.channel.endpoint': endpoint });
    const last = socket.sent.at(-1);
    expect(last).toMatchObject({ 'hub.mode': 'denied', 'hub.topic': 'T-sub-13', 'hub.events': 'Patient-open,Patient-close' });
    expect(socket.closedWith).toBeDefined();
    expect(wire.isEndpoint(endpoint)).toBe(false);
    expect(wire.acceptSocket(endpoint, new FakeSocket())).toBeUndefined();
    const sentBefore = socket.sent.length;
    await wire.handle(jsonRequest(patientOpen('T-sub-13', 'p1')));
    expect(socket.sent.length).toBe(sentBefore);
  });

  it('HUB-SUB-13 the spec example unsubscribe, endpoint ending in an encoded newline, is accepted', async () => {
    const { wire } = await makeWire();
    const { endpoint } = await subscribeAndConnect(wire, 'T-sub-13b', 'Patient-open');
    const body = `hub.channel.type=websocket&hub.mode=unsubscribe&hub.topic=T-sub-13b&hub.channel.endpoint=${encodeURIComponent(endpoint)}%0A`;
    expect((await wire.handle(formRequest(body))).status).toBe(202);
  });

  it('HUB-SEC-04 an endpoint of another topic, or an unknown one, gets 404 and changes nothing', async () => {
    const { wire } = await makeWire();
    const { endpoint, socket } = await subscribeAndConnect(wire, 'T-sec04-a', 'Patient-open');
    const otherTopic = await wire.handle(formRequest(unsubscribeParams('T-sec04-b', endpoint)));
    expect(otherTopic.status).toBe(404);
    expect(otherTopic.headers.get('content-type')).toMatch(/^text\/plain\b/);
    const resubscribeElsewhere = await wire.handle(formRequest(subscribeParams('T-sec04-b', 'Patient-close', { 'hub.channel.endpoint': endpoint })));
    expect(resubscribeElsewhere.status).toBe(404);
    const unknown = await wire.handle(formRequest(unsubscribeParams('T-sec04-a', `${new URL(endpoint).origin}/fhircast/hub/ws/not-a-live-endpoint`)));
    expect(unknown.status).toBe(404);
    const foreign = await wire.handle(formRequest(unsubscribeParams('T-sec04-a', 'wss://elsewhere.example/some/path')));
    expect(foreign.status).toBe(404);
    // Still subscribed, with the original events.
    expect(wire.isEndpoint(endpoint)).toBe(true);
    await wire.handle(jsonRequest(patientOpen('T-sec04-a', 'p1')));
    expect(socket.events.map((e) => e.event['hub.event'])).toEqual(['Patient-open']);
  });
});

describe('HUB-TOLERANT what real clients send to subscribe', () => {
  it('HUB-TOLERANT-01 hub.lease is read as hub.lease_seconds, and hub.lease_seconds wins when both are given', async () => {
    const { wire } = await makeWire();
    const alias = await subscribeAndConnect(wire, 'T-tol-01', 'Patient-open', { 'hub.lease': '600' });
    expect(alias.socket.sent[0]['hub.lease_seconds']).toBe(600);
    const both = await subscribeAndConnect(wire, 'T-tol-01', 'Patient-open', { 'hub.lease': '600', 'hub.lease_seconds': '900' });
    expect(both.socket.sent[0]['hub.lease_seconds']).toBe(900);
  });

  it('HUB-TOLERANT-02 a JSON subscribe (events as an array, lease as a number) and a JSON unsubscribe work like the form ones', async () => {
    const { wire } = await makeWire();
    const res = await wire.handle(
      jsonRequest({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': 'T-tol-02', 'hub.events': ['Patient-open', 'Patient-close'], 'hub.lease_seconds': 300 }),
    );
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toMatch(/^application\/json\b/);
    const endpoint = await endpointOf(res);
    const socket = new FakeSocket();
    wire.acceptSocket(endpoint, socket);
    expect(socket.sent[0]).toEqual({ 'hub.mode': 'subscribe', 'hub.topic': 'T-tol-02', 'hub.events': 'Patient-open,Patient-close', 'hub.lease_seconds': 300 });
    const stringForm = await wire.handle(
      jsonRequest({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': 'T-tol-02', 'hub.events': 'Patient-open', 'hub.lease_seconds': '120' }),
    );
    expect(stringForm.status).toBe(202);
    const unsub = await wire.handle(jsonRequest({ 'hub.channel.type': 'websocket', 'hub.mode': 'unsubscribe', 'hub.topic': 'T-tol-02', 'hub.channel.endpoint': endpoint }));
    expect(unsub.status).toBe(202);
    expect(socket.sent.at(-1)['hub.mode']).toBe('denied');
  });

  it('HUB-TOLERANT-02 HUB-SUB-06 a bad JSON subscribe also gets a text/plain reason', async () => {
    const { wire } = await makeWire();
    const res = await wire.handle(jsonRequest({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': 'T-tol-02b' }));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain\b/);
    expect(await res.text()).toMatch(/hub\.events/);
  });

  it('HUB-TOLERANT-03 whitespace in hub.events, channel type case, extra fields and a charset parameter are all accepted', async () => {
    const { wire } = await makeWire();
    const res = await wire.handle(
      formRequest(
        subscribeParams('T-tol-03', ' Patient-open ,  Patient-close ', { 'hub.channel.type': 'WebSocket', 'hub.callback': 'https://old.example/cb', 'hub.secret': 's3cr3t' }),
        { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      ),
    );
    expect(res.status).toBe(202);
    const socket = new FakeSocket();
    wire.acceptSocket(await endpointOf(res), socket);
    expect(socket.sent[0]['hub.events']).toBe('Patient-open,Patient-close');
  });

  it('HUB-TOLERANT-04 an OHIF-style first frame {"hub.channel.endpoint"} is ignored: no error, socket open, events still flow', async () => {
    const { wire } = await makeWire();
    const watcher = await subscribeAndConnect(wire, 'T-tol-04', 'SyncError');
    const ohif = await subscribeAndConnect(wire, 'T-tol-04', 'Patient-open');
    ohif.handle.receive(JSON.stringify({ 'hub.channel.endpoint': ohif.endpoint }));
    expect(ohif.socket.closedWith).toBeUndefined();
    await wire.handle(jsonRequest(patientOpen('T-tol-04', 'p1', 'ev-tol-04')));
    expect(ohif.socket.events.map((e) => e.id)).toEqual(['ev-tol-04']);
    expect(watcher.socket.events).toEqual([]);
  });

  it('HUB-TOLERANT-05 the 2019 reply {timestamp, status:"OK", statusCode} is read as an answer with status statusCode', async () => {
    const { wire, tick } = await makeWire({ hub: { ackTimeoutMs: 10_000 } });
    const watcher = await subscribeAndConnect(wire, 'T-tol-05', 'SyncError');
    const legacy = await subscribeAndConnect(wire, 'T-tol-05', 'Patient-open', { 'subscriber.name': 'Legacy viewer' });
    await wire.handle(jsonRequest(patientOpen('T-tol-05', 'p1', 'ev-ok')));
    legacy.handle.receive(JSON.stringify({ timestamp: '2026-01-01T10:00:01Z', status: 'OK', statusCode: '200' }));
    tick(10_001); // an unanswered event would now time out
    expect(watcher.socket.events).toEqual([]);
    expect(legacy.socket.closedWith).toBeUndefined();

    await wire.handle(jsonRequest(patientOpen('T-tol-05', 'p2', 'ev-refused')));
    legacy.handle.receive(JSON.stringify({ timestamp: '2026-01-01T10:00:02Z', status: 'OK', statusCode: '409' }));
    expect(watcher.socket.events).toHaveLength(1);
    const codings = watcher.socket.events[0].event.context[0].resource.issue[0].details.coding;
    expect(codings).toContainEqual({ system: 'https://fhircast.hl7.org/events/syncerror/eventid', code: 'ev-refused' });
    expect(codings).toContainEqual({ system: 'https://fhircast.hl7.org/events/syncerror/subscribername', code: 'Legacy viewer' });
  });
});
