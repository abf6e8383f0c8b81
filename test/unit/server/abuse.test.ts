/**
 * Issue #19 on `tabcast serve` (in process, loopback): the Host check against DNS rebinding (M6),
 * slow and greedy peers (M4, M5), never-connected subscriptions (M1), subscribers that do not read
 * (M3) and oversized answer frames (L3). Every option is shrunk so each limit is reached fast; the
 * waits are on events (a socket closing, a response), never on the clock.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HubLogEntry } from '../../../src/hub/index.js';
import { parseCommandLine, USAGE, UsageError } from '../../../src/server/args.js';
import { startServer, type ServerOptions } from '../../../src/server/index.js';
import { hostCheck, hostName } from '../../../src/server/host-check.js';
import { applyTimeouts, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS_PER_IP, DEFAULT_REQUEST_TIMEOUT_MS } from '../../../src/server/peer-limits.js';
import { DEFAULT_SOCKET_BUFFER_BUDGET_BYTES } from '../../../src/server/sockets.js';
import { ANSWER_FRAME_LIMIT_BYTES } from '../../../src/wire/socket.js';
import { cleanup, postSubscription, publish, subscribeAndOpen, TestSocket, track, unsubscribe } from './support.js';

afterEach(cleanup);

const start = async (options: ServerOptions = {}) => track(await startServer({ port: 0, heartbeatMs: 0, ...options }));
const portOf = (url: string) => Number(new URL(url).port);
const subscribeParams = (topic: string) => ({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'Patient-open' });

/** One raw request from `localAddress`; resolves with the status line, head and body, or the error when cut. */
function rawFrom(port: number, text: string, localAddress = '127.0.0.1'): Promise<{ status?: number; head: string; body: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port, localAddress }, () => socket.write(text));
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const all = Buffer.concat(chunks).toString('latin1');
      const split = all.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(all);
      resolve({ status: m ? Number(m[1]) : undefined, head: split >= 0 ? all.slice(0, split) : all, body: split >= 0 ? all.slice(split + 4) : '' });
    });
  });
}

const WELL_KNOWN = '/fhircast/hub/.well-known/fhircast-configuration';
const get = (host: string) => `GET ${WELL_KNOWN} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

/** Subscribes from `localAddress` with node:http (fetch cannot choose the source address). */
function subscribeFrom(hubUrl: string, topic: string, localAddress: string): Promise<{ status: number; retryAfter?: string; body: string }> {
  const body = new URLSearchParams(subscribeParams(topic)).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(hubUrl, { method: 'POST', localAddress, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('issue #19 M6: the hub answers only to its own name (HUB-SEC-12)', () => {
  it('M6 HUB-SEC-12 a request or upgrade whose Host is another name gets 421 with no body; its own names are served', async () => {
    const server = await start({ allowHosts: ['hub.lan'], publicUrl: undefined });
    const port = portOf(server.url);
    for (const host of ['attacker.example', `attacker.example:${port}`, 'localhost.attacker.example', '127.0.0.1.attacker.example', '']) {
      const answer = await rawFrom(port, get(host));
      expect(answer.status, host).toBe(421);
      expect(answer.body, host).toBe('');
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', 'hub.lan', `hub.lan:${port}`]) {
      expect((await rawFrom(port, get(host))).status, host).toBe(200);
    }
    // An upgrade to a live endpoint is refused the same way, before the hub attaches anything.
    const res = await postSubscription(server.url, subscribeParams('T-m6'));
    const endpoint = new URL(((await res.json()) as Record<string, string>)['hub.channel.endpoint']!);
    const upgrade = (host: string) =>
      rawFrom(port, `GET ${endpoint.pathname} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const refused = await upgrade(`attacker.example:${port}`);
    expect(refused.status).toBe(421);
    expect(refused.body).toBe('');
    expect(server.hub.inspect().topics.flatMap((t) => t.subscribers).filter((s: any) => s.connected)).toEqual([]);
  });

  it('M6 HUB-SEC-12 the --public-url host is one of the hub\'s names; on a wildcard bind any IP literal is too (it cannot be rebound)', async () => {
    const server = await start({ publicUrl: 'https://hub.example.org/fhircast/hub' });
    const port = portOf(server.url);
    expect((await rawFrom(port, get('hub.example.org'))).status).toBe(200);
    expect((await rawFrom(port, get('example.org'))).status).toBe(421);
    const wildcard = hostCheck({ bindHost: '0.0.0.0' });
    expect([wildcard('10.1.2.3:5200'), wildcard('[::1]:5200'), wildcard('localhost'), wildcard('evil.example')]).toEqual([true, true, true, false]);
    const bound = hostCheck({ bindHost: '::1' });
    expect([bound('[::1]:80'), bound('10.1.2.3'), bound(undefined)]).toEqual([true, false, false]);
    expect([hostName('Example.ORG.:80'), hostName('a:b'), hostName('[::1')]).toEqual(['example.org', undefined, undefined]);
  });
});

describe('issue #19 M4/M5: slow and greedy peers are bounded (HUB-SEC-14)', () => {
  it('M5 HUB-SEC-14 connections are capped per remote address: slow-header connections from one client do not lock out another', async () => {
    expect(DEFAULT_MAX_CONNECTIONS_PER_IP).toBe(64);
    const server = await start({ maxConnectionsPerIp: 3, maxConnections: 10 });
    const port = portOf(server.url);
    const slow: net.Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('GET / HTTP/1.1\r\nHost: 127'); // never finishes its headers
      socket.on('error', () => undefined);
      slow.push(socket);
    }
    try {
      // The fourth from the same address is cut without an answer; another address is served.
      const fourth = await rawFrom(port, get('127.0.0.1'), '127.0.0.1');
      expect(fourth.status).toBeUndefined();
      expect((await rawFrom(port, get('127.0.0.1'), '127.0.0.2')).status).toBe(200);
    } finally {
      for (const s of slow) s.destroy();
    }
  });

  it('M4 M5 HUB-SEC-14 headers must arrive within 10 s and a request within 30 s by default; a short timeout really cuts a stalled request', async () => {
    expect([DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS]).toEqual([10_000, 30_000]);
    const probe = http.createServer();
    applyTimeouts(probe, { headersTimeoutMs: DEFAULT_HEADERS_TIMEOUT_MS, requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS });
    expect([probe.headersTimeout, probe.requestTimeout]).toEqual([10_000, 30_000]);

    const server = await start({ headersTimeoutMs: 100, requestTimeoutMs: 200 });
    const port = portOf(server.url);
    // Headers that never end, and a body that never ends: both get 408 and the connection closes.
    const slowHeaders = await rawFrom(port, `GET ${WELL_KNOWN} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1`);
    expect(slowHeaders.status).toBe(408);
    const slowBody = await rawFrom(port, `POST /fhircast/hub HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":`);
    expect(slowBody.status).toBe(408);
  });

  it('M4 HUB-SEC-14 bytes of request bodies in flight are capped: past the cap a request gets 503 with Retry-After, and the bytes come back when the stalled body goes', async () => {
    const server = await start({ bodyBytesInFlight: 4096 });
    const port = portOf(server.url);
    const stalled = net.connect({ host: '127.0.0.1', port });
    stalled.on('error', () => undefined);
    await new Promise((resolve) => stalled.once('connect', resolve));
    stalled.write(`POST /fhircast/hub HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 8000\r\n\r\n${' '.repeat(3000)}`);
    const body = JSON.stringify({ timestamp: new Date().toISOString(), id: 'm4', event: { 'hub.topic': 'T-m4', 'hub.event': 'Patient-close', context: [], pad: 'x'.repeat(1500) } });
    let refused: Response | undefined;
    // The stalled body's bytes reach the server at some point after it was written: ask until they count.
    for (let i = 0; i < 200 && !refused; i++) {
      const res = await publish(server.url, body);
      if (res.status === 503) refused = res;
      else await res.arrayBuffer();
    }
    expect(refused?.status).toBe(503);
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect(JSON.parse(await refused!.text()).resourceType).toBe('OperationOutcome');
    const gone = new Promise((resolve) => stalled.once('close', resolve));
    stalled.destroy();
    await gone;
    let status = 503;
    for (let i = 0; i < 200 && status === 503; i++) status = (await publish(server.url, body)).status;
    expect(status).not.toBe(503);
  });
});

describe('issue #19 M1: never-connected subscriptions are capped per client (HUB-SEC-14)', () => {
  it('M1 HUB-SEC-14 past the cap a new subscription gets 429 with Retry-After; connecting or unsubscribing frees a slot; other clients are not affected', async () => {
    const server = await start({ maxUnconnectedPerIp: 3 });
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await postSubscription(server.url, subscribeParams('T-m1'));
      expect(res.status).toBe(202);
      made.push(((await res.json()) as Record<string, string>)['hub.channel.endpoint']!);
    }
    const over = await subscribeFrom(server.url, 'T-m1', '127.0.0.1');
    expect(over.status).toBe(429);
    expect(over.retryAfter).toBe('60');
    expect(over.body).toMatch(/never connected/);
    expect((await subscribeFrom(server.url, 'T-m1', '127.0.0.2')).status).toBe(202);
    // A renewal of an existing subscription is not a new one.
    const renew = await postSubscription(server.url, { ...subscribeParams('T-m1'), 'hub.channel.endpoint': made[0]! });
    expect(renew.status).toBe(202);

    await TestSocket.open(made[0]!);
    expect((await subscribeFrom(server.url, 'T-m1', '127.0.0.1')).status).toBe(202);
    expect((await subscribeFrom(server.url, 'T-m1', '127.0.0.1')).status).toBe(429);
    expect((await unsubscribe(server.url, 'T-m1', made[1]!)).status).toBe(202);
    expect((await subscribeFrom(server.url, 'T-m1', '127.0.0.1')).status).toBe(202);
  });
});

/** A WebSocket client that completes the handshake and then never reads another byte. */
async function deafSubscriber(endpoint: string): Promise<net.Socket> {
  const url = new URL(endpoint);
  const socket = net.connect({ host: url.hostname, port: Number(url.port) });
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise<void>((resolve) => {
    let seen = '';
    const look = (d: Buffer) => {
      seen += d.toString('latin1');
      if (!seen.includes('\r\n\r\n')) return;
      socket.off('data', look);
      socket.pause();
      resolve();
    };
    socket.on('data', look);
  });
  return socket;
}

describe('issue #19 M3/L3: slow readers and big answer frames (HUB-SEC-13)', () => {
  it('M3 HUB-SEC-13 a subscriber whose unsent data passes its budget is a failed delivery: SyncError to the others, close 1013, subscription ended', async () => {
    expect(DEFAULT_SOCKET_BUFFER_BUDGET_BYTES).toBe(4 * 1024 * 1024);
    const server = await start({ socketBufferBudgetBytes: 256 * 1024 });
    const log: HubLogEntry[] = [];
    server.hub.observe((entry) => log.push(entry));
    const topic = 'T-m3';
    const watcher = await subscribeAndOpen(server.url, topic, 'SyncError,org.example.bulk', { name: 'Watcher' });
    const res = await postSubscription(server.url, { ...subscribeParams(topic), 'hub.events': 'org.example.bulk', 'subscriber.name': 'Deaf' });
    const deafEndpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
    const deaf = await deafSubscriber(deafEndpoint);
    const deafId = decodeURIComponent(new URL(deafEndpoint).pathname.split('/').pop()!);
    const pad = 'p'.repeat(256 * 1024);
    let sent = 0;
    // Kernel buffers take the first few MB; the budget is only reached once they are full.
    for (; sent < 300 && server.hub.hasEndpoint(deafId); sent++) {
      const body = { timestamp: new Date().toISOString(), id: `m3-${sent}`, event: { 'hub.topic': topic, 'hub.event': 'org.example.bulk', context: [{ key: 'pad', resource: { resourceType: 'Basic', id: 'b', text: { status: 'generated', div: pad } } }] } };
      expect((await publish(server.url, body)).status).toBe(202);
    }
    deaf.destroy();
    expect(server.hub.hasEndpoint(deafId), `still subscribed after ${sent} events of 256 KiB`).toBe(false);
    expect(log).toContainEqual(expect.objectContaining({ type: 'close', subscriber: 'Deaf', status: 1013 }));
    const syncError = await watcher.sock.nextEvent('SyncError');
    expect(JSON.stringify(syncError)).toContain('Deaf');
  });

  it('L3 HUB-SEC-13 an answer frame over 64 KiB closes the socket with 1009 before any parse; one at the limit does not', async () => {
    expect(ANSWER_FRAME_LIMIT_BYTES).toBe(64 * 1024);
    const server = await start();
    const atLimit = await subscribeAndOpen(server.url, 'T-l3', 'Patient-open');
    atLimit.sock.send(' '.repeat(ANSWER_FRAME_LIMIT_BYTES - 2) + '{}');
    const over = await subscribeAndOpen(server.url, 'T-l3', 'Patient-open');
    over.sock.send(' '.repeat(ANSWER_FRAME_LIMIT_BYTES - 1) + '{}');
    expect((await over.sock.closed).code).toBe(1009);
    // The one at the limit still gets events.
    const event = { timestamp: new Date().toISOString(), id: 'l3', event: { 'hub.topic': 'T-l3', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p1' } }] } };
    expect((await publish(server.url, event)).status).toBe(202);
    expect((await atLimit.sock.nextEvent('Patient-open')).id).toBe('l3');
  });
});

describe('issue #19: the serve flags (HUB-SEC-12, HUB-SEC-14)', () => {
  it('M6 M5 M1 HUB-SEC-12 HUB-SEC-14 --allow-host (repeatable), --max-connections-per-ip and --max-unconnected-per-ip are parsed and checked', () => {
    const parsed = parseCommandLine(['serve', '--allow-host', 'Hub.LAN', '--allow-host=10.0.0.5', '--max-connections-per-ip', '8', '--max-unconnected-per-ip=20']);
    expect(parsed).toMatchObject({ command: 'serve', args: { allowHosts: ['hub.lan', '10.0.0.5'], maxConnectionsPerIp: 8, maxUnconnectedPerIp: 20 } });
    for (const bad of [['--allow-host', 'http://x'], ['--allow-host', 'x:80'], ['--max-connections-per-ip', '0'], ['--max-unconnected-per-ip', 'many']]) {
      expect(() => parseCommandLine(['serve', ...bad]), bad.join(' ')).toThrow(UsageError);
    }
    expect(USAGE).toMatch(/--allow-host NAME[\s\S]*DNS-rebinding/);
  });
});
