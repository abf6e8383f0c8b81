import { Agent, request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type ServerOptions } from '../../../src/server/index.js';
import { FakeClock } from '../support/harness.js';
import { patientOpen } from '../wire/support.js';
import { TestSocket, cleanup, getContext, postSubscription, publish, refusedUpgradeStatus, subscribeAndOpen, track, unsubscribe } from './support.js';

afterEach(cleanup);

const start = async (options: ServerOptions = {}) => track(await startServer({ port: 0, heartbeatMs: 0, ...options }));
const wellKnownOf = (url: string) => fetch(`${url}/.well-known/fhircast-configuration`);
const corsHeaders = (res: Response) => [...res.headers.keys()].filter((k) => k.startsWith('access-control-'));

describe('HUB-SERVE startServer', () => {
  it('HUB-SERVE-01 HUB-SEC-07 with port 0 the url names 127.0.0.1, the port actually bound and the default path', async () => {
    const server = await start();
    const m = /^http:\/\/127\.0\.0\.1:(\d+)\/fhircast\/hub$/.exec(server.url);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect((await wellKnownOf(server.url)).status).toBe(200);
  });

  it('HUB-SERVE-02 the path option moves hub.url, and the old path is not served', async () => {
    const server = await start({ path: '/custom/hub' });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/custom\/hub$/);
    expect((await wellKnownOf(server.url)).status).toBe(200);
    expect((await wellKnownOf(server.url.replace('/custom/hub', '/fhircast/hub'))).status).toBe(404);
  });

  it('HUB-SUB-01 with a public URL (a TLS proxy in front), endpoints are wss:// URLs under it, and its path is served here', async () => {
    const server = await start({ publicUrl: 'https://hub.example.org/fhircast/hub' });
    expect(server.publicUrl).toBe('https://hub.example.org/fhircast/hub');
    const res = await postSubscription(server.url, { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': 'T-public', 'hub.events': 'Patient-open' });
    expect(res.status).toBe(202);
    const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
    expect(endpoint).toMatch(/^wss:\/\/hub\.example\.org\/fhircast\/hub\/ws\/[A-Za-z0-9_-]{22,}$/);
    // What the proxy does: forward the same path to the local port.
    const local = endpoint.replace('wss://hub.example.org', server.url.replace(/^http/, 'ws').replace('/fhircast/hub', ''));
    const sock = await TestSocket.open(local);
    expect(await sock.next((f) => f['hub.mode'] === 'subscribe', 'the confirmation')).toMatchObject({ 'hub.topic': 'T-public' });
  });

  it('a public URL whose path is not the path served is refused before listening', async () => {
    await expect(startServer({ port: 0, path: '/fhircast/hub', publicUrl: 'https://hub.example.org/other' })).rejects.toThrow(/path/);
  });

  it('HUB-SERVE-04 close() ends sockets with 1001, without a denial frame or a SyncError', async () => {
    const server = await start();
    const watcher = await subscribeAndOpen(server.url, 'T-serve-04', 'SyncError,Patient-open', { name: 'Watcher' });
    const viewer = await subscribeAndOpen(server.url, 'T-serve-04', 'Patient-open', { name: 'Viewer' });
    expect((await publish(server.url, patientOpen('T-serve-04', 'p1', 'ev-serve-04'))).status).toBe(202);
    watcher.sock.ack(await watcher.sock.nextEvent('Patient-open'));
    viewer.sock.ack(await viewer.sock.nextEvent('Patient-open'));
    const framesBefore = [watcher.sock.frames.length, viewer.sock.frames.length];
    await server.close();
    expect((await watcher.sock.closed).code).toBe(1001);
    expect((await viewer.sock.closed).code).toBe(1001);
    const after = [...watcher.sock.frames.slice(framesBefore[0]), ...viewer.sock.frames.slice(framesBefore[1])];
    expect(after.filter((f) => f['hub.mode'] === 'denied')).toEqual([]);
    expect(after.filter((f) => f.event?.['hub.event'] === 'syncerror')).toEqual([]);
  });

  it('HUB-SERVE-05 HUB-SYNC-06 HUB-SYNC-07 the ack timeout option decides when silence becomes a SyncError and an unsubscribe', async () => {
    const clock = new FakeClock();
    const server = await start({ ackTimeoutMs: 3000, clock });
    const watcher = await subscribeAndOpen(server.url, 'T-serve-05', 'SyncError,Patient-close', { name: 'Watcher' });
    const silent = await subscribeAndOpen(server.url, 'T-serve-05', 'Patient-open', { name: 'Silent viewer' });
    await publish(server.url, patientOpen('T-serve-05', 'p1', 'ev-unanswered'));
    await silent.sock.nextEvent('Patient-open');

    clock.advance(2999);
    server.hub.tick();
    // Barrier: a later event reaches the watcher; nothing came before it.
    const close = { ...patientOpen('T-serve-05', 'p1', 'ev-barrier'), event: { ...patientOpen('T-serve-05', 'p1').event, 'hub.event': 'Patient-close' } };
    await publish(server.url, close);
    const first = await watcher.sock.next((f) => !!f.event, 'the barrier');
    expect(first.id).toBe('ev-barrier');
    watcher.sock.ack(first);

    clock.advance(2);
    server.hub.tick();
    const syncError = await watcher.sock.nextEvent('syncerror');
    const codings = syncError.event.context[0].resource.issue[0].details.coding;
    expect(codings).toContainEqual({ system: 'https://fhircast.hl7.org/events/syncerror/eventid', code: 'ev-unanswered' });
    expect(codings).toContainEqual({ system: 'https://fhircast.hl7.org/events/syncerror/subscribername', code: 'Silent viewer' });
    const denial = await silent.sock.next((f) => f['hub.mode'] === 'denied', 'the denial');
    expect(denial['hub.reason']).toBeTruthy();
    expect((await silent.sock.closed).code).toBe(1000);
  });
});

describe('HUB-SEC transport security of tabcast serve', () => {
  it('HUB-SEC-03 a WebSocket upgrade to anything but a live endpoint is refused with HTTP 404', async () => {
    const server = await start();
    const { endpoint, sock } = await subscribeAndOpen(server.url, 'T-sec-03', 'Patient-open');
    const ws = server.url.replace(/^http/, 'ws');
    for (const url of [`${ws}/T-sec-03`, ws, `${ws}/ws/AAAAAAAAAAAAAAAAAAAAAA`, `${ws}/ws/T-sec-03`, ws.replace('/fhircast/hub', '/T-sec-03')]) {
      expect(await refusedUpgradeStatus(url), url).toBe(404);
    }
    expect((await unsubscribe(server.url, 'T-sec-03', endpoint)).status).toBe(202);
    await sock.closed;
    expect(await refusedUpgradeStatus(endpoint)).toBe(404);
  });

  it('HUB-SEC-05 with no --allow-origin, no response carries CORS headers, preflights included', async () => {
    const server = await start();
    const origin = { origin: 'http://app.example' };
    const get = await fetch(`${server.url}/.well-known/fhircast-configuration`, { headers: origin });
    const post = await publish(server.url, patientOpen('T-sec-05', 'p1'), origin);
    const preflight = await fetch(server.url, { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(get.status).toBe(200);
    expect(post.status).toBe(202);
    for (const res of [get, post, preflight]) expect(corsHeaders(res)).toEqual([]);
  });

  it('HUB-SEC-05 origins that are not listed get no CORS headers even when others are listed', async () => {
    const server = await start({ allowOrigins: ['http://good.example'] });
    for (const origin of ['http://evil.example', 'http://good.example.evil.example', 'https://good.example', 'http://good.example:8080', 'null']) {
      const get = await fetch(`${server.url}/.well-known/fhircast-configuration`, { headers: { origin } });
      const preflight = await fetch(server.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      expect(corsHeaders(get), origin).toEqual([]);
      expect(corsHeaders(preflight), origin).toEqual([]);
    }
  });

  it('HUB-SEC-06 listed origins get their own origin echoed (never *), Vary: Origin, and a preflight allowing GET, POST, OPTIONS with Authorization and Content-Type', async () => {
    const server = await start({ allowOrigins: ['http://good.example', 'https://viewer.example:8443'] });
    for (const origin of ['http://good.example', 'https://viewer.example:8443']) {
      const get = await fetch(`${server.url}/.well-known/fhircast-configuration`, { headers: { origin } });
      expect(get.headers.get('access-control-allow-origin')).toBe(origin);
      expect(get.headers.get('vary')).toMatch(/\bOrigin\b/i);
      const post = await publish(server.url, patientOpen('T-sec-06', 'p1'), { origin });
      expect(post.status).toBe(202);
      expect(post.headers.get('access-control-allow-origin')).toBe(origin);
      const failed = await publish(server.url, '{broken', { origin });
      expect(failed.status).toBe(400);
      expect(failed.headers.get('access-control-allow-origin')).toBe(origin);
      const preflight = await fetch(server.url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      expect(preflight.status).toBeGreaterThanOrEqual(200);
      expect(preflight.status).toBeLessThan(300);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
      const methods = (preflight.headers.get('access-control-allow-methods') ?? '').split(',').map((s) => s.trim());
      expect(methods).toEqual(expect.arrayContaining(['GET', 'POST', 'OPTIONS']));
      const headers = (preflight.headers.get('access-control-allow-headers') ?? '').split(',').map((s) => s.trim().toLowerCase());
      expect(headers).toEqual(expect.arrayContaining(['authorization', 'content-type']));
    }
  });

  it('HUB-SEC-07 the server binds 127.0.0.1 unless told otherwise', async () => {
    const server = await start();
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
  });

  it('HUB-SEC-08 HUB-CHANGE-07 bodies over the limit get 413 on every route, and the hub keeps serving', async () => {
    const server = await start();
    const big = 'x'.repeat(1024 * 1024 + 1);
    const json = await publish(server.url, big);
    expect(json.status).toBe(413);
    expect(((await json.json()) as { issue: Array<{ code: string }> }).issue[0]!.code).toBe('too-long');
    const path = await publish(`${server.url}/T-sec-08`, big);
    expect(path.status).toBe(413);
    const form = await postSubscription(server.url, { 'hub.mode': 'subscribe', pad: big });
    expect(form.status).toBe(413);
    expect(form.headers.get('content-type')).toMatch(/^text\/plain\b/);
    const fourMiB = await publish(server.url, 'y'.repeat(4 * 1024 * 1024));
    expect(fourMiB.status).toBe(413);
    const get = await rawRequest(server.url, 'GET', 'z'.repeat(1024 * 1024 + 1));
    expect(get).toBe(413);
    expect((await wellKnownOf(server.url)).status).toBe(200);
  });

  it('HUB-SEC-08 a WebSocket frame over the limit closes that socket with 1009; other subscribers carry on', async () => {
    const server = await start();
    const other = await subscribeAndOpen(server.url, 'T-sec-08w', 'Patient-open');
    const sender = await subscribeAndOpen(server.url, 'T-sec-08w', 'Patient-open');
    sender.sock.send('x'.repeat(1024 * 1024 + 1));
    expect((await sender.sock.closed).code).toBe(1009);
    expect((await publish(server.url, patientOpen('T-sec-08w', 'p1', 'ev-after-1009'))).status).toBe(202);
    expect((await other.sock.nextEvent('Patient-open')).id).toBe('ev-after-1009');
    expect((await wellKnownOf(server.url)).status).toBe(200);
  });

  it('HUB-SEC-09 after bad requests and bad frames the hub still answers .well-known with 200', async () => {
    const server = await start();
    const { sock } = await subscribeAndOpen(server.url, 'T-sec-09', 'Patient-open');
    sock.send('not json');
    sock.send({ id: 42, status: 'teapot' });
    sock.send('[]');
    for (const body of ['', 'null', '{"event": 1}', '\u0000\u0001']) await publish(server.url, body);
    await fetch(`${server.url}/%zz`);
    await fetch(server.url, { method: 'DELETE' });
    expect((await wellKnownOf(server.url)).status).toBe(200);
    expect((await publish(server.url, patientOpen('T-sec-09', 'p9', 'ev-still-alive'))).status).toBe(202);
    expect((await sock.nextEvent('Patient-open')).id).toBe('ev-still-alive');
    expect((await getContext(server.url, 'T-sec-09'))['context.type']).toBe('Patient');
  });

  it('HUB-SEC-09 a body the hub refuses without reading does not stall the next request on the same connection', async () => {
    const server = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const body = 'x'.repeat(200_000);
      for (let i = 0; i < 3; i++) {
        expect(await rawRequest(server.url, 'PUT', body, agent)).toBe(405);
        expect(await rawRequest(`${server.url}/nope/nope`, 'POST', body, agent)).toBe(404);
        expect(await rawRequest(`${server.url}/.well-known/fhircast-configuration`, 'GET', '', agent)).toBe(200);
      }
    } finally {
      agent.destroy();
    }
  });

  it('HUB-SEC-09 paths outside hub.url get 404', async () => {
    const server = await start();
    const origin = new URL(server.url).origin;
    for (const path of ['/', '/favicon.ico', '/fhircast', '/fhircast/hubby']) {
      expect((await fetch(`${origin}${path}`)).status, path).toBe(404);
    }
  });

  it('HUB-TOLERANT-07 a reconnect to a live endpoint gets a new confirmation and the older socket is closed with 1000', async () => {
    const server = await start();
    const first = await subscribeAndOpen(server.url, 'T-reconnect', 'Patient-open');
    const again = await TestSocket.open(first.endpoint);
    expect((await again.next((f) => f['hub.mode'] === 'subscribe'))['hub.topic']).toBe('T-reconnect');
    expect((await first.sock.closed).code).toBe(1000);
  });
});

/** A raw HTTP request (fetch cannot send a GET body); resolves with the status, fails after 5 s. */
function rawRequest(url: string, method: string, body: string, agent?: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (body) headers['content-length'] = Buffer.byteLength(body);
    const req = httpRequest(url, { method, headers, agent, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} got no answer within 5 s`)));
    req.on('error', reject);
    req.end(body || undefined);
  });
}
