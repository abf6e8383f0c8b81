/** Pull context and the protocol list (channels.md §2) through the wire both doors share. */
import { describe, expect, it } from 'vitest';
import { createWireHandler } from '../../../src/wire/index.js';
import { makeHub } from '../support/harness.js';
import { HUB_URL, fresh, jsonRequest, makeWire, patientOpen, reportOpen } from './support.js';

const SECRET = 'app-secret-0123456789';
const users = { secret: SECRET, groups: [['alice']] };

describe('HUB-PULL-01 pull context', () => {
  it('HUB-PULL-01 GET {topic}/context answers the current open event with get-context\'s entries and version', async () => {
    const { wire } = await makeWire();
    const topic = fresh('topic');
    const open = patientOpen(topic, 'p-1');
    expect((await wire.handle(jsonRequest(open))).status).toBe(202);
    const report = reportOpen(topic, 'r-1', 'p-1');
    expect((await wire.handle(jsonRequest(report))).status).toBe(202);
    const res = await wire.handle(new Request(`${HUB_URL}/${topic}/context`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const pulled = (await res.json()) as any;
    const stu3 = (await (await wire.handle(new Request(`${HUB_URL}/${topic}`))).json()) as any;
    expect(pulled.id).toBe(report.id);
    expect(pulled.timestamp).toBe(report.timestamp);
    expect(pulled.event['hub.topic']).toBe(topic);
    expect(pulled.event['hub.event']).toBe('DiagnosticReport-open');
    expect(pulled.event.context).toEqual(stu3.context);
    expect(pulled.event['context.versionId']).toBe(stu3['context.versionId']);
  });

  it('HUB-PULL-01 with no current context it is {hub.topic, context: []} under a fresh id and the time of the answer', async () => {
    const made = await makeHub();
    const wire = createWireHandler(made.hub, { hubUrl: HUB_URL, now: made.clock.now });
    const topic = fresh('topic');
    const a = (await (await wire.handle(new Request(`${HUB_URL}/${topic}/context`))).json()) as any;
    const b = (await (await wire.handle(new Request(`${HUB_URL}/${topic}/context`))).json()) as any;
    expect(a.event).toEqual({ 'hub.topic': topic, context: [] });
    expect(a.timestamp).toBe(new Date(made.clock.now()).toISOString());
    expect(typeof a.id).toBe('string');
    expect(a.id).not.toBe(b.id);
  });

  it('HUB-PULL-01 a percent-encoded topic is decoded, and a closed context pulls as empty', async () => {
    const { wire } = await makeWire();
    const topic = `${fresh('topic')} x`;
    const open = patientOpen(topic, 'p-2');
    await wire.handle(jsonRequest(open));
    const close = { ...patientOpen(topic, 'p-2'), event: { ...patientOpen(topic, 'p-2').event, 'hub.event': 'Patient-close' } };
    expect((await wire.handle(jsonRequest(close))).status).toBe(202);
    const pulled = (await (await wire.handle(new Request(`${HUB_URL}/${encodeURIComponent(topic)}/context`))).json()) as any;
    expect(pulled.event).toEqual({ 'hub.topic': topic, context: [] });
  });

  it('HUB-PULL-01 needs the Bearer secret exactly as get-context does once users are configured', async () => {
    const { wire } = await makeWire({ users });
    const topic = fresh('topic');
    const bare = await wire.handle(new Request(`${HUB_URL}/${topic}/context`));
    expect(bare.status).toBe(401);
    const stu3 = await wire.handle(new Request(`${HUB_URL}/${topic}`));
    expect(stu3.status).toBe(401);
    const ok = await wire.handle(new Request(`${HUB_URL}/${topic}/context`, { headers: { authorization: `Bearer ${SECRET}` } }));
    expect(ok.status).toBe(200);
  });

  it('HUB-PULL-01 only GET is allowed there', async () => {
    const { wire } = await makeWire();
    const res = await wire.handle(jsonRequest(patientOpen('t', 'p'), {}, `${HUB_URL}/t/context`));
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });
});

describe('HUB-PULL-02 protocol list', () => {
  it('HUB-PULL-02 GET {topic}/protocols lists websocket, stomp and context by default, with their URLs', async () => {
    const { wire } = await makeWire();
    const res = await wire.handle(new Request(`${HUB_URL}/t-1/protocols`));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      'hub.topic': 't-1',
      protocols: [
        { name: 'websocket', url: HUB_URL },
        { name: 'stomp', url: 'ws://hub.test/fhircast/hub/websocket' },
        { name: 'context', url: `${HUB_URL}/t-1/context` },
      ],
    });
  });

  it('HUB-PULL-02 the list follows the door\'s switches: websub on, stomp off', async () => {
    const made = await makeHub();
    const wire = createWireHandler(made.hub, { hubUrl: 'https://hub.test/fhircast/hub', channels: { stomp: false, websub: true } });
    const list = ((await (await wire.handle(new Request('https://hub.test/fhircast/hub/t-2/protocols'))).json()) as any).protocols;
    expect(list.map((p: any) => p.name)).toEqual(['websocket', 'context', 'websub']);
    expect(list[2].url).toBe('https://hub.test/fhircast/hub/t-2/websub');
    // With STOMP off, /websocket is an ordinary topic again.
    expect((await wire.handle(new Request('https://hub.test/fhircast/hub/websocket'))).status).toBe(200);
  });

  it('HUB-PULL-02 .well-known lists the same channels under tabcast.protocols with {topic} templates', async () => {
    const { wire } = await makeWire();
    const doc = (await (await wire.handle(new Request(`${HUB_URL}/.well-known/fhircast-configuration`))).json()) as any;
    expect(doc['tabcast.protocols']).toEqual([
      { name: 'websocket', url: HUB_URL },
      { name: 'stomp', url: 'ws://hub.test/fhircast/hub/websocket' },
      { name: 'context', url: `${HUB_URL}/{topic}/context` },
    ]);
  });

  it('HUB-PULL-02 GET {hub.url}/{topic} stays STU3 get-context', async () => {
    const { wire } = await makeWire();
    const topic = fresh('topic');
    await wire.handle(jsonRequest(patientOpen(topic, 'p-3')));
    const body = (await (await wire.handle(new Request(`${HUB_URL}/${topic}`))).json()) as any;
    expect(body['context.type']).toBe('Patient');
    expect(body.protocols).toBeUndefined();
  });

  it('HUB-PULL-02 a plain HTTP GET of the STOMP endpoint gets 426 with a reason', async () => {
    const { wire } = await makeWire();
    const res = await wire.handle(new Request(`${HUB_URL}/websocket`));
    expect(res.status).toBe(426);
    expect(JSON.stringify(await res.json())).toContain('STOMP');
  });
});

describe('inspect() names each subscriber\'s channel', () => {
  it('HUB-PULL-02 a subscription made over the STU3 wire is labelled stu3, a typed one typed', async () => {
    const { wire, hub } = await makeWire();
    const topic = fresh('topic');
    const res = await wire.handle(new Request(HUB_URL, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': '*' }).toString() }));
    expect(res.status).toBe(202);
    hub.subscribe({ topic, events: ['*'], channel: 'typed', subscriberName: 'typed page' });
    const subs = hub.inspect().topics.find((t) => t.topic === topic)!.subscribers;
    expect(subs.map((s) => s.channel).sort()).toEqual(['stu3', 'typed']);
  });
});
