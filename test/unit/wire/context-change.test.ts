import { describe, expect, it } from 'vitest';
import { HUB_URL, STACK_TRACE, jsonRequest, makeWire, patientOpen, reportOpen, reportUpdate, subscribeAndConnect } from './support.js';

const outcomeOf = async (res: Response) => (await res.json()) as { resourceType: string; issue: Array<{ severity: string; code: string; diagnostics: string }> };

/** A body stream that yields `total` bytes of JSON-ish filler in 64 KiB chunks. */
function fillerStream(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const chunk = new TextEncoder().encode('a'.repeat(64 * 1024));
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.byteLength;
    },
  });
  return { stream, pulled: () => sent };
}

describe('HUB-CHANGE request context change through the wire', () => {
  for (const contentType of ['application/json', 'application/fhir+json', 'application/fhir+json; charset=utf-8']) {
    it(`HUB-CHANGE-01 HUB-TOLERANT-03 a valid change sent as ${contentType} is answered 202 with a small JSON body`, async () => {
      const { wire } = await makeWire();
      const res = await wire.handle(jsonRequest(patientOpen('T-ch-01', 'p1', 'ev-ch-01'), { 'content-type': contentType }));
      expect(res.status).toBe(202);
      // A JSON Content-Type must never come with an empty body (@medplum/core parses it).
      expect(res.headers.get('content-type')).toMatch(/json/);
      const text = await res.text();
      expect(text.length).toBeGreaterThan(0);
      expect(JSON.parse(text)).toEqual({ id: 'ev-ch-01' });
    });
  }

  it('HUB-CHANGE-01 HUB-CHANGE-03 the accepted change reaches subscribers and get-context shows it', async () => {
    const { wire } = await makeWire();
    const { socket } = await subscribeAndConnect(wire, 'T-ch-01b', 'Patient-open');
    expect((await wire.handle(jsonRequest(patientOpen('T-ch-01b', 'p7', 'ev-ch-01b')))).status).toBe(202);
    expect(socket.events.map((e) => e.id)).toEqual(['ev-ch-01b']);
    const ctx = await wire.handle(new Request(`${HUB_URL}/T-ch-01b`));
    expect(ctx.status).toBe(200);
    expect(ctx.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(((await ctx.json()) as Record<string, unknown>)['context.type']).toBe('Patient');
  });

  it('HUB-CHANGE-02 POST hub.url/{topic} without event.hub.topic uses the topic of the path', async () => {
    const { wire } = await makeWire();
    const { socket } = await subscribeAndConnect(wire, 'T-ch-02', 'Patient-open');
    const res = await wire.handle(jsonRequest(patientOpen(undefined, 'p2', 'ev-ch-02'), {}, `${HUB_URL}/T-ch-02`));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ id: 'ev-ch-02' });
    expect(socket.events).toHaveLength(1);
    expect(socket.events[0].event['hub.topic']).toBe('T-ch-02');
  });

  it('HUB-CHANGE-02 a percent-encoded topic in the path is decoded', async () => {
    const { wire } = await makeWire();
    const { socket } = await subscribeAndConnect(wire, 'T ch/02 spaced', 'Patient-open');
    const res = await wire.handle(jsonRequest(patientOpen(undefined, 'p2'), {}, `${HUB_URL}/${encodeURIComponent('T ch/02 spaced')}`));
    expect(res.status).toBe(202);
    expect(socket.events).toHaveLength(1);
  });

  it('HUB-CHANGE-02 HUB-CHANGE-13 a body naming another topic than the path gets 400 OperationOutcome and nothing is sent', async () => {
    const { wire } = await makeWire();
    const a = await subscribeAndConnect(wire, 'T-ch-02a', 'Patient-open');
    const b = await subscribeAndConnect(wire, 'T-ch-02b', 'Patient-open');
    const res = await wire.handle(jsonRequest(patientOpen('T-ch-02b', 'p3'), {}, `${HUB_URL}/T-ch-02a`));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json\b/);
    const outcome = await outcomeOf(res);
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]!.severity).toBe('error');
    expect(outcome.issue[0]!.diagnostics).toMatch(/topic/);
    expect(a.socket.events).toEqual([]);
    expect(b.socket.events).toEqual([]);
  });

  it('HUB-CHANGE-02 both paths validate alike: a Patient-open without patient is 400 on each', async () => {
    const { wire } = await makeWire();
    const bad = { id: 'ev-bad', event: { 'hub.topic': 'T-ch-02c', 'hub.event': 'Patient-open', context: [] } };
    for (const url of [HUB_URL, `${HUB_URL}/T-ch-02c`]) {
      const res = await wire.handle(jsonRequest(bad, {}, url));
      expect(res.status).toBe(400);
      expect((await outcomeOf(res)).issue[0]!.diagnostics).toMatch(/patient/);
    }
  });

  for (const [where, url] of [
    ['hub.url', HUB_URL],
    ['hub.url/{topic}', `${HUB_URL}/T-ch-06`],
  ] as const) {
    it(`HUB-CHANGE-06 HUB-CHANGE-13 a body that is not JSON, posted to ${where}, gets 400 OperationOutcome`, async () => {
      const { wire } = await makeWire();
      const res = await wire.handle(jsonRequest('{"id": "x", "event": {', {}, url));
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json\b/);
      const outcome = await outcomeOf(res);
      expect(outcome.issue[0]!.severity).toBe('error');
      expect(outcome.issue[0]!.diagnostics).toMatch(/JSON/);
      expect(JSON.stringify(outcome)).not.toMatch(STACK_TRACE);
    });
  }

  it('HUB-CHANGE-07 a body over the limit gets 413 OperationOutcome too-long, and the hub keeps serving', async () => {
    const { wire } = await makeWire();
    const big = JSON.stringify({ ...patientOpen('T-ch-07', 'p1'), padding: 'x'.repeat(1024 * 1024) });
    const res = await wire.handle(jsonRequest(big));
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json\b/);
    const outcome = await outcomeOf(res);
    expect(outcome.issue[0]!.code).toBe('too-long');
    expect((await wire.handle(jsonRequest(patientOpen('T-ch-07', 'p1')))).status).toBe(202);
  });

  it('HUB-CHANGE-07 a body exactly at the limit is read, one byte more is refused', async () => {
    const { wire } = await makeWire({ bodyLimitBytes: 4096 });
    const base = JSON.stringify(patientOpen('T-ch-07b', 'p1'));
    const exact = base.slice(0, -1) + ',"pad":"' + 'y'.repeat(4096 - base.length - 9) + '"}';
    expect(new TextEncoder().encode(exact).byteLength).toBe(4096);
    expect((await wire.handle(jsonRequest(exact))).status).toBe(202);
    const over = exact.slice(0, -2) + 'y"}';
    expect((await wire.handle(jsonRequest(over))).status).toBe(413);
  });

  it('HUB-CHANGE-07 the limit counts bytes as they stream: no Content-Length, or a false one, does not get past it', async () => {
    const { wire } = await makeWire();
    const unannounced = fillerStream(8 * 1024 * 1024);
    const res = await wire.handle(
      new Request(HUB_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: unannounced.stream, duplex: 'half' } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect((await outcomeOf(res)).issue[0]!.code).toBe('too-long');
    // It stopped reading soon after the limit instead of buffering all 8 MiB.
    expect(unannounced.pulled()).toBeLessThan(2 * 1024 * 1024);

    const lying = fillerStream(2 * 1024 * 1024);
    const res2 = await wire.handle(
      new Request(`${HUB_URL}/T-ch-07c`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '20' }, body: lying.stream, duplex: 'half' } as RequestInit),
    );
    expect(res2.status).toBe(413);
  });

  for (const contentType of ['text/plain', 'application/xml', '']) {
    it(`HUB-CHANGE-13 a context change sent as ${contentType || 'no Content-Type'} gets 415 OperationOutcome not-supported`, async () => {
      const { wire } = await makeWire();
      const headers = new Headers();
      if (contentType) headers.set('content-type', contentType);
      const res = await wire.handle(new Request(HUB_URL, { method: 'POST', headers, body: new Blob([JSON.stringify(patientOpen('T-415', 'p1'))]) }));
      expect(res.status).toBe(415);
      expect((await outcomeOf(res)).issue[0]!.code).toBe('not-supported');
    });
  }

  it('HUB-CHANGE-13 a form body posted to hub.url/{topic} is refused 415: a context change is JSON', async () => {
    const { wire } = await makeWire();
    const res = await wire.handle(new Request(`${HUB_URL}/T-415b`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' }));
    expect(res.status).toBe(415);
  });

  it('HUB-CHANGE-13 HUB-CONTENT-04 a stale update gets 409 conflict as FHIR JSON; a fresh one 202 with versionId/priorVersionId', async () => {
    const { wire } = await makeWire();
    const { socket } = await subscribeAndConnect(wire, 'T-ch-13', 'DiagnosticReport-open,DiagnosticReport-update');
    await wire.handle(jsonRequest(reportOpen('T-ch-13', 'dr1', 'p1')));
    const v1 = socket.events[0].event['context.versionId'] as string;
    expect(v1).toBeTypeOf('string');
    expect((await wire.handle(jsonRequest(reportUpdate('T-ch-13', 'dr1', v1, 'obs1')))).status).toBe(202);
    const update = socket.events[1].event;
    expect(update['context.priorVersionId']).toBe(v1);
    expect(update['context.versionId']).not.toBe(v1);
    const stale = await wire.handle(jsonRequest(reportUpdate('T-ch-13', 'dr1', v1, 'obs2')));
    expect(stale.status).toBe(409);
    expect(stale.headers.get('content-type')).toMatch(/^application\/fhir\+json\b/);
    expect((await outcomeOf(stale)).issue[0]!.code).toBe('conflict');
  });
});
