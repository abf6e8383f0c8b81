/**
 * Issue #7, `tabcast serve` in process on 127.0.0.1:0: raw HTTP request lines and headers that
 * fetch cannot produce, WebSocket upgrades to anything, and random frames from real `ws` clients.
 * Invariants: never a 5xx, never an exception out of the server (it would end the process), a
 * junk frame never closes a socket or stops its notifications, and frames over the limit close
 * with 1009 (HUB-SEC-08).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { getContext, publish, subscribeAndOpen, TestSocket, cleanup } from '../server/support.js';
import { anyFrame, nastyString } from './support/arbitraries.js';
import { expectHttpRejection, expectWellFormedContext, watchUnhandled } from './support/invariants.js';
import { rawRequest } from './support/raw-http.js';
import { recordStats, runs } from './support/sizes.js';

const LIMIT = 4096;
let server: RunningServer;
let port: number;
const logs: string[] = [];
const unhandled = watchUnhandled();

beforeAll(async () => {
  server = await startServer({ port: 0, bodyLimitBytes: LIMIT, heartbeatMs: 0, log: (line) => logs.push(line) });
  port = Number(new URL(server.url).port);
});

beforeEach(() => {
  logs.length = 0; // each test answers for its own log lines
});

afterAll(async () => {
  await cleanup();
  await server.close();
  unhandled.check();
});

/** The server wrote nothing about failures of its own (HUB-SEC-09) since `from` (a length of `logs`). */
function expectQuietLog(what: string, from = 0) {
  const lines = logs.slice(from);
  expect(lines.filter((l) => /internal error|could not answer|could not upgrade|server error/.test(l)), `${what}: ${lines.join(' | ')}`).toStrictEqual([]);
}

async function expectServing() {
  const res = await fetch(`${server.url}/.well-known/fhircast-configuration`);
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

const patientOpen = (topic: string, patient: string, id: string) => ({
  timestamp: '2026-03-02T09:15:00Z',
  id,
  event: { 'hub.topic': topic, 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: patient } }] },
});

/** True for text that fits in HTTP's byte-oriented request line and headers. */
const latin1 = (s: string) => !/[^\x20-\x7e\x80-\xff]/.test(s);

describe('hardening: raw HTTP against tabcast serve', () => {
  const requestLine = fc.record({
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'OPTIONS', 'HEAD', 'PUT', 'DELETE', 'TRACE', 'TRACK', 'PROPFIND', 'PATCH', 'SEARCH', 'M-SEARCH', 'PURGE'), fc.stringMatching(/^[A-Z]{1,10}$/)),
    target: fc.oneof(
      fc.constantFrom('/fhircast/hub', '/fhircast/hub/topic-a', '/fhircast/hub/.well-known/fhircast-configuration', '/fhircast/hub/ws/abc', '*', 'http://[', 'http://[::1/fhircast/hub', 'http://example.org/fhircast/hub', '//evil/fhircast/hub', 'http://a:b@c/', 'http://:@c/fhircast/hub', '/%', '/fhircast/hub/%E0%A4%A', '/fhircast\\hub', 'https://x:99999/'),
      fc.constantFrom('javascript:alert(1)', 'data:,x', 'file:///etc/passwd', 'ftp://x/fhircast/hub', 'mailto:a@b', 'ws://127.0.0.1/fhircast/hub/ws/x', 'http://xn--nxasmq6b/fhircast/hub', 'http://127.0.0.1:5200/fhircast/hub/topic-a?x=%00#frag'),
      fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\s\0]/.test(s) && latin1(s)),
    ),
    headers: fc.array(fc.tuple(fc.constantFrom('Content-Type', 'Authorization', 'Origin', 'X-Forwarded-For', 'Accept', 'Transfer-Encoding', 'Expect', 'Content-Length'), fc.string({ maxLength: 20 }).filter((s) => latin1(s) && !/[\r\n]/.test(s))), { maxLength: 3 }),
    body: fc.oneof(fc.constant(''), fc.json({ maxDepth: 2 }), fc.string({ maxLength: 40 }).filter(latin1)),
  });

  it('HUB-SEC-09 any request line, target and headers: a status below 500, and the server keeps serving', async () => {
    let n = 0;
    const statuses = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(requestLine, async (r) => {
        n++;
        const mark = logs.length;
        const headers = r.headers.filter(([k]) => k !== 'Content-Length' && k !== 'Transfer-Encoding');
        const lines = [`${r.method} ${r.target} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([k, v]) => `${k}: ${v}`), `Content-Length: ${Buffer.byteLength(r.body, 'latin1')}`, 'Connection: close', '', r.body];
        const answer = await rawRequest(port, Buffer.from(lines.join('\r\n'), 'latin1'));
        const key = answer.status === undefined ? 'closed' : String(answer.status);
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        expect(answer.status, `${r.method} ${r.target}: ${answer.head}`).toBeDefined();
        expect(answer.status!, `${r.method} ${r.target}: ${answer.head} ${answer.body}`).toBeLessThan(500);
        expect(answer.body).not.toMatch(/\n\s+at\s|node:internal/);
        expectQuietLog(`${r.method} ${r.target}`, mark);
      }),
      runs(1),
    );
    await expectServing();
    recordStats('server', 'raw HTTP request lines and headers', { requests: n, ...Object.fromEntries([...statuses].map(([s, c]) => [`http ${s}`, c])) });
  }, 60_000);

  it('HUB-SEC-09 TRACE gets 405 with the route\'s Allow list (TRACK a 400), an invalid absolute target gets 400', async () => {
    const trace = await rawRequest(port, 'TRACE /fhircast/hub HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(trace.status).toBe(405);
    expect(trace.head).toMatch(/\r\nallow: POST, OPTIONS/i);
    const onTopic = await rawRequest(port, 'TRACE /fhircast/hub/topic-a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(onTopic.status).toBe(405);
    expect(onTopic.head).toMatch(/\r\nallow: GET, POST, OPTIONS/i);
    expect(JSON.parse(onTopic.body).resourceType).toBe('OperationOutcome');
    // Node's own parser refuses TRACK with 400 before the hub sees it.
    expect((await rawRequest(port, 'TRACK /fhircast/hub HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).status).toBe(400);
    const nowhere = await rawRequest(port, 'TRACE /elsewhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(nowhere.status).toBe(404);
    for (const target of ['http://[/fhircast/hub', 'http://user:pass@127.0.0.1/fhircast/hub/.well-known/fhircast-configuration']) {
      const invalid = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect(invalid.status, target).toBe(400);
      expect(JSON.parse(invalid.body).resourceType).toBe('OperationOutcome');
    }
    expectQuietLog('TRACE/TRACK/invalid target');
  });

  it('HUB-SEC-03 HUB-SEC-09 a WebSocket upgrade to any target but a live endpoint is refused, and never throws out of the server', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom('http://[/fhircast/hub/ws/x', '/fhircast/hub/topic-a', '/fhircast/hub/ws/', '/fhircast/hub/ws/%', '*', '//x/fhircast/hub/ws/a', 'http://[::1'), nastyString.map((s) => `/fhircast/hub/ws/${s}`).filter((s) => !/[\s\0]/.test(s) && /^[\x21-\x7e\x80-\xff]*$/.test(s))),
        fc.constantFrom('13', '8', ''),
        async (target, version) => {
          n++;
          const mark = logs.length;
          const answer = await rawRequest(port, Buffer.from(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: ${version}\r\n\r\n`, 'latin1'));
          expect(answer.status, `${target}: ${answer.head}`).toBeDefined();
          expect([400, 404]).toContain(answer.status);
          expectQuietLog(target, mark);
        },
      ),
      runs(0.5),
    );
    await expectServing();
    recordStats('server', 'WebSocket upgrades to random targets', { upgrades: n });
  });
});

describe('hardening: WebSocket frames against tabcast serve', () => {
  it('HUB-ACK-07 HUB-TOLERANT-04 random frames from a subscriber never close its socket, and the next event still arrives and is acked', async () => {
    let frames = 0;
    let sockets = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(anyFrame, fc.boolean()), { minLength: 1, maxLength: 12 }), async (sends) => {
        sockets++;
        const mark = logs.length;
        const topic = `frames-${sockets}`;
        const { sock } = await subscribeAndOpen(server.url, topic, 'Patient-open');
        for (const [frame, binary] of sends) {
          frames++;
          let text: string;
          try {
            text = typeof frame === 'string' ? frame : (JSON.stringify(frame) ?? String(frame));
          } catch {
            text = Object.prototype.toString.call(frame);
          }
          if (Buffer.byteLength(text) > LIMIT) text = text.slice(0, LIMIT / 4);
          sock.ws.send(binary ? Buffer.from(text) : text, { binary });
        }
        // A pong comes back only after the hub has handled every frame sent before the ping.
        await new Promise<void>((resolve) => {
          sock.ws.once('pong', () => resolve());
          sock.ws.ping();
        });
        expect(sock.ws.readyState).toBe(WebSocket.OPEN);
        const id = `after-junk-${sockets}`;
        const res = await publish(server.url, patientOpen(topic, 'pt-1', id));
        expect(res.status).toBe(202);
        const note = await sock.next((f) => f.id === id, 'the event after the junk');
        sock.ack(note);
        sock.ws.close(1000);
        await sock.closed;
        expectQuietLog('frames', mark);
      }),
      runs(0.5),
    );
    const left = server.hub.inspect().topics.filter((t) => t.topic.startsWith('frames-')).flatMap((t) => t.subscribers);
    expect(left, 'every subscription ended with its normal close').toStrictEqual([]);
    recordStats('server', 'random WebSocket frames', { sockets, frames });
  }, 60_000);

  it('HUB-SEC-08 HUB-TOLERANT-07 a frame over the limit closes that socket with 1009, and the subscription can reconnect', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: LIMIT - 8, max: LIMIT * 3 }), fc.boolean(), async (size, binary) => {
        const topic = `limit-${size}-${binary}`;
        const { sock, endpoint } = await subscribeAndOpen(server.url, topic, 'Patient-open');
        sock.ws.send(binary ? Buffer.alloc(size, 0x61) : 'a'.repeat(size), { binary });
        if (size <= LIMIT) {
          await new Promise<void>((resolve) => {
            sock.ws.once('pong', () => resolve());
            sock.ws.ping();
          });
          expect(sock.ws.readyState).toBe(WebSocket.OPEN);
          sock.ws.close(1000);
          await sock.closed;
          return;
        }
        const closed = await sock.closed;
        expect(closed.code).toBe(1009);
        const again = await TestSocket.open(endpoint);
        const confirmation = await again.next((f) => f['hub.mode'] === 'subscribe', 'a fresh confirmation');
        expect(confirmation['hub.topic']).toBe(topic);
        again.ws.close(1000);
        await again.closed;
      }),
      runs(0.3),
    );
    expectQuietLog('limit');
  });

  it('HUB-SEC-09 after all of the above the server answers get-context with a well-formed context', async () => {
    const ctx = await getContext(server.url, 'frames-1');
    expectWellFormedContext(ctx);
    const bad = await fetch(`${server.url}/topic-a`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":' });
    await expectHttpRejection(bad, 'outcome', 'bad JSON');
  });
});
