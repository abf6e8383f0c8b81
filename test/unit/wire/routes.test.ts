import { describe, expect, it, vi } from 'vitest';
import { createWireHandler } from '../../../src/wire/index.js';
import { FakeSocket, HUB_URL, STACK_TRACE, formRequest, jsonRequest, makeWire, patientOpen, subscribeParams } from './support.js';

const wellKnown = `${HUB_URL}/.well-known/fhircast-configuration`;

describe('HUB-DISC discovery through the wire', () => {
  it('HUB-DISC-01 GET .well-known/fhircast-configuration answers 200 application/json with the hub document', async () => {
    const { wire } = await makeWire();
    const res = await wire.handle(new Request(wellKnown));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc.websocketSupport).toBe(true);
    expect(doc.eventsSupported).toContain('Patient-open');
  });
});

describe('HUB-SEC-09 routes, methods and robustness', () => {
  for (const url of ['http://hub.test/', 'http://hub.test/fhircast', 'http://hub.test/fhircast/hubx', `${HUB_URL}/a/b`, `${HUB_URL}/.well-known/other`, `${HUB_URL}/ws/a/b`]) {
    it(`HUB-SEC-09 an unknown path (${new URL(url).pathname}) gets 404 as an OperationOutcome`, async () => {
      const { wire } = await makeWire();
      const res = await wire.handle(new Request(url));
      expect(res.status).toBe(404);
      const outcome = (await res.json()) as { resourceType: string };
      expect(outcome.resourceType).toBe('OperationOutcome');
    });
  }

  const wrongMethods: Array<[string, string, string]> = [
    ['GET', HUB_URL, 'POST'],
    ['PUT', HUB_URL, 'POST'],
    ['POST', wellKnown, 'GET'],
    ['DELETE', `${HUB_URL}/some-topic`, 'GET, POST'],
    ['PATCH', `${HUB_URL}/gettopic`, 'GET'],
  ];
  for (const [method, url, allow] of wrongMethods) {
    it(`HUB-SEC-09 ${method} ${new URL(url).pathname} gets 405 with Allow: ${allow}`, async () => {
      const { wire } = await makeWire();
      const res = await wire.handle(new Request(url, { method }));
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
    });
  }

  it('HUB-SEC-09 OPTIONS on a route answers 204 with the methods it allows', async () => {
    const { wire } = await makeWire();
    const res = await wire.handle(new Request(HUB_URL, { method: 'OPTIONS' }));
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('HUB-SEC-09 a barrage of bad requests gets 4xx without stack traces, and .well-known still answers 200', async () => {
    const { wire } = await makeWire();
    const bad: Request[] = [
      jsonRequest('not json at all'),
      jsonRequest('[1,2,3]'),
      jsonRequest('null'),
      jsonRequest({ id: 5, event: 'nope' }),
      jsonRequest({ id: 'x', event: { 'hub.event': 'Patient-open', context: 'no' } }),
      jsonRequest({ id: 'x', timestamp: 'yesterday', event: { 'hub.topic': 'T', 'hub.event': 'Patient-open', context: [] } }),
      jsonRequest({ id: 'x', event: { 'hub.topic': 'T', 'hub.event': 'Nonsense event!', context: [] } }),
      jsonRequest({ id: 'x', event: { 'hub.topic': 'T', 'hub.event': 'DiagnosticReport-update', context: [{ key: 'report', reference: { reference: 'DiagnosticReport/none' } }] } }),
      jsonRequest({ 'hub.mode': 'subscribe', 'hub.events': { nested: true } }),
      formRequest('%E0%A4%A=broken&&=&hub.mode'),
      new Request(HUB_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array([0xff, 0xfe, 0x00, 0x7b]) }),
      new Request(`${HUB_URL}/%E0%A4%A`),
      new Request(`${HUB_URL}/gettopic?username=a`),
      new Request(`${HUB_URL}/ws/not-an-endpoint`),
    ];
    for (const req of bad) {
      const res = await wire.handle(req);
      expect(res.status, `${req.method} ${req.url}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${req.method} ${req.url}`).toBeLessThan(500);
      expect(await res.text()).not.toMatch(STACK_TRACE);
    }
    expect((await wire.handle(new Request(wellKnown))).status).toBe(200);
  });

  it('HUB-SEC-09 an unexpected failure inside the hub is a 500 without detail, reported to the door', async () => {
    const { hub } = await makeWire();
    const onInternalError = vi.fn();
    const wire = createWireHandler(hub, { hubUrl: HUB_URL, onInternalError });
    vi.spyOn(hub, 'getContext').mockImplementation(() => {
      throw new Error('secret detail\n    at Hub.getContext (src/hub/hub.ts:1:1)');
    });
    const res = await wire.handle(new Request(`${HUB_URL}/T-500`));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toMatch(/secret detail/);
    expect(text).not.toMatch(STACK_TRACE);
    expect(onInternalError).toHaveBeenCalledTimes(1);
    expect((await wire.handle(new Request(wellKnown))).status).toBe(200);
  });

  it('HUB-SEC-09 a plain HTTP GET of a live endpoint is told to use WebSocket (426); of a dead one, 404', async () => {
    const { wire } = await makeWire();
    const res = await wire.handle(formRequest(subscribeParams('T-426', 'Patient-open')));
    const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
    const httpUrl = endpoint.replace(/^ws/, 'http');
    expect((await wire.handle(new Request(httpUrl))).status).toBe(426);
    expect((await wire.handle(new Request(`${HUB_URL}/ws/AAAAAAAAAAAAAAAAAAAAAA`))).status).toBe(404);
  });

  it('HUB-SEC-09 hub.url with a trailing slash is the same route', async () => {
    const { wire } = await makeWire();
    const res = await wire.handle(jsonRequest(patientOpen('T-slash', 'p1'), {}, `${HUB_URL}/`));
    expect(res.status).toBe(202);
  });

  it('HUB-SEC-09 a hub at the root of its origin routes the same way', async () => {
    const root = 'http://root.test';
    const { wire } = await makeWire({ hubUrl: root });
    expect((await wire.handle(new Request(`${root}/.well-known/fhircast-configuration`))).status).toBe(200);
    const res = await wire.handle(formRequest(subscribeParams('T-root', 'Patient-open'), {}, `${root}/`));
    const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
    expect(endpoint).toMatch(/^ws:\/\/root\.test\/ws\/[A-Za-z0-9_-]+$/);
    const socket = new FakeSocket();
    expect(wire.acceptSocket(endpoint, socket)).toBeDefined();
    expect((await wire.handle(jsonRequest(patientOpen('T-root', 'p1'), {}, root))).status).toBe(202);
    expect(socket.events).toHaveLength(1);
  });
});
