/**
 * Issue #7, the security review of docs/security.md as tests: randomness of topics and endpoints
 * (statistics and the source), endpoints bound to topics, the application secret kept only as a
 * salted SHA-256 and compared in constant time, `tabcast serve` defaults (loopback bind, body and
 * connection limits, Bearer with --users), and no `*` origins in postMessage traffic.
 */
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import { webCrypto } from '../../../src/adapters/web-crypto.js';
import type { CryptoSource } from '../../../src/hub/index.js';
import { base64url, constantTimeEqual } from '../../../src/hub/ids.js';
import { parseCommandLine } from '../../../src/server/args.js';
import { startServer } from '../../../src/server/index.js';
import { makeHub, RecordingChannel } from '../support/harness.js';
import { ServeProcess } from './support/serve-process.js';
import { recordStats, runs, STRESS } from './support/sizes.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
});

/** Decodes unpadded base64url. */
function decode(token: string): Uint8Array {
  return new Uint8Array(Buffer.from(token, 'base64url'));
}

/**
 * Sanity statistics of tokens: all distinct, every one of the 128 bits set in about half of them
 * (within 5 standard deviations: a false alarm about once in 10^4 runs, while a constant or
 * counter-like bit fails at once).
 */
function expectRandomLooking(tokens: string[]) {
  expect(new Set(tokens).size).toBe(tokens.length);
  const n = tokens.length;
  const ones = Array.from({ length: 128 }, () => 0);
  for (const t of tokens) {
    expect(t).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const bytes = decode(t);
    expect(bytes.length).toBe(16);
    for (let bit = 0; bit < 128; bit++) if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) ones[bit]!++;
  }
  const sd = Math.sqrt(n) / 2;
  for (let bit = 0; bit < 128; bit++) expect(Math.abs(ones[bit]! - n / 2), `bit ${bit} set in ${ones[bit]} of ${n}`).toBeLessThan(5 * sd);
}

describe('hardening: randomness of topics and endpoints (HUB-SEC-01/02)', () => {
  const N = STRESS ? 20_000 : 2000;

  it('HUB-SEC-01 HUB-SEC-02 endpoints and topics are distinct 128-bit tokens whose bits look uniformly random', async () => {
    const { hub } = await makeHub();
    const endpoints = Array.from({ length: N }, () => hub.subscribe({ topic: 'T', events: ['*'] }).endpoint);
    const topics = Array.from({ length: N }, () => hub.createTopic());
    expectRandomLooking(endpoints);
    expectRandomLooking(topics);
    expect(new Set([...endpoints, ...topics]).size).toBe(2 * N);
    recordStats('security', 'token statistics', { endpoints: N, topics: N });
  });

  it('HUB-SEC-01 HUB-SEC-02 every token is exactly 16 bytes drawn from the injected random source, nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { minLength: 3, maxLength: 3 }), async (draws) => {
        const asked: number[] = [];
        let i = 0;
        const crypto: CryptoSource = {
          randomBytes: (n) => {
            asked.push(n);
            return draws[i++ % draws.length]!.slice(0, n);
          },
          sha256: webCrypto.sha256,
        };
        const { hub } = await makeHub({ crypto });
        const topic = hub.createTopic();
        const endpoint = hub.subscribe({ topic: 'clinic-7', events: ['*'] }).endpoint;
        expect(asked).toStrictEqual([16, 16]);
        expect(topic).toBe(base64url(draws[0]!));
        expect(endpoint).toBe(base64url(draws[1]!));
        expect(decode(endpoint)).toStrictEqual(draws[1]);
      }),
      runs(1),
    );
  });

  it('HUB-SEC-01 tabcast serve draws its tokens from crypto.getRandomValues, and no token code uses Math.random', async () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues');
    const server = await startServer({ port: 0 });
    cleanups.push(() => server.close());
    spy.mockClear();
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'hub.channel.type=websocket&hub.mode=subscribe&hub.topic=T&hub.events=*' });
    const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
    expect(spy).toHaveBeenCalled();
    const drawn = spy.mock.results.map((r) => base64url(r.value as Uint8Array));
    expect(drawn).toContain(endpoint.split('/').pop());
    for (const dir of ['src/hub', 'src/wire', 'src/server', 'src/adapters', 'src/protocol']) {
      for (const file of sourceFiles(join(ROOT, dir))) expect(readFileSync(file, 'utf8'), file).not.toMatch(/Math\.random/);
    }
  });

  it('HUB-SEC-01 an endpoint never contains its topic, whatever the topic', async () => {
    const { hub } = await makeHub();
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }).filter((t) => t.trim() !== '' && /^[\x21-\x7e]/.test(t.trim())), async (topic) => {
        const { endpoint } = hub.subscribe({ topic, events: ['*'] });
        if (topic.trim().length >= 3) expect(endpoint).not.toContain(topic.trim());
      }),
      runs(1),
    );
  });
});

describe('hardening: endpoints are bound to their topic (HUB-SEC-03/04)', () => {
  it('HUB-SEC-04 re-subscribing or unsubscribing an endpoint under any other topic is a 404 and leaves it untouched', async () => {
    const { hub } = await makeHub();
    const own = hub.subscribe({ topic: 'ward-3', events: ['Patient-open'] });
    const channel = new RecordingChannel();
    hub.connect(own.endpoint, channel);
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 30 }).filter((t) => t.trim() !== 'ward-3' && t.trim() !== ''), async (other) => {
        for (const call of [() => hub.subscribe({ topic: other, events: ['*'], endpoint: own.endpoint }), () => hub.unsubscribe(other, own.endpoint)]) {
          let status: number | undefined;
          try {
            call();
          } catch (e) {
            status = (e as { status?: number }).status;
          }
          expect([400, 404]).toContain(status);
        }
        expect(hub.hasEndpoint(own.endpoint)).toBe(true);
        expect(hub.inspect().topics.find((t) => t.topic === 'ward-3')!.subscribers[0]!.events).toBe('Patient-open');
      }),
      runs(1),
    );
    expect(channel.frames.filter((f) => f['hub.mode'] !== 'subscribe')).toStrictEqual([]);
  });
});

describe('hardening: the application secret (HUB-ID-07/08)', () => {
  it('HUB-ID-08 only a salted SHA-256 of the secret is stored; two hubs salt the same secret differently', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 64 }), async (secret) => {
        const records = [];
        for (let i = 0; i < 2; i++) {
          const storage = memoryStorage();
          const { hub } = await makeHub({ storage });
          await hub.configureUsers({ secret, groups: [['gkustas61', 'georgek']] });
          await hub.flush();
          const text = JSON.stringify([...storage.data]);
          if (secret.length >= 4) expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
          const rec = storage.data.get('identity') as { salt: string; secretHash: string };
          const expected = base64url(await webCrypto.sha256(new TextEncoder().encode(`${rec.salt}:${secret}`)));
          expect(rec.secretHash, 'secretHash = SHA-256(salt ":" secret)').toBe(expected);
          expect(decode(rec.salt).length).toBeGreaterThanOrEqual(16);
          records.push(rec);
        }
        expect(records[0]!.salt).not.toBe(records[1]!.salt);
        expect(records[0]!.secretHash).not.toBe(records[1]!.secretHash);
      }),
      runs(0.5),
    );
  });

  it('HUB-ID-07 every check hashes the presented secret once and compares fixed-length digests, whatever its length', async () => {
    const lengths: number[] = [];
    const crypto: CryptoSource = {
      randomBytes: webCrypto.randomBytes,
      sha256: async (data) => {
        lengths.push(data.length);
        return webCrypto.sha256(data);
      },
    };
    const { hub } = await makeHub({ crypto });
    await hub.configureUsers({ secret: 'the-app-secret', groups: [['a']] });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), fc.constant('the-app-secret'), fc.constant('the-app-secreT')), async (presented) => {
        lengths.length = 0;
        const ok = await hub.verifySecret(presented);
        expect(ok).toBe(presented === 'the-app-secret');
        expect(lengths, 'one SHA-256 per check').toHaveLength(1);
      }),
      runs(1),
    );
    // The comparison itself: equal exactly when the bytes are equal, without an early exit.
    await fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), (a, b, same) => {
        const other = same ? a.slice() : b;
        expect(constantTimeEqual(a, other)).toBe(Buffer.compare(Buffer.from(a), Buffer.from(other)) === 0);
      }),
      runs(2),
    );
    const identity = readFileSync(join(ROOT, 'src/hub/identity.ts'), 'utf8');
    const ids = readFileSync(join(ROOT, 'src/hub/ids.ts'), 'utf8');
    expect(identity).toMatch(/constantTimeEqual\(/);
    expect(identity, 'the stored hash is never compared with ===').not.toMatch(/secretHash\s*===|===\s*rec\.secretHash/);
    expect(ids.slice(ids.indexOf('export function constantTimeEqual')), 'no early return inside the comparison loop').toMatch(/for \(let i = 0; i < a\.length; i\+\+\) diff \|= a\[i\]! \^ b\[i\]!;/);
  });

  it('HUB-ID-08 HUB-SEC-10 tabcast serve with --users and --data never writes the secret to its data directory or its output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tabcast-secret-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const secret = `s3cr3t-${Math.random().toString(36).slice(2)}`;
    writeFileSync(join(dir, 'users.json'), JSON.stringify({ secret, groups: [['gkustas61', 'georgek']] }));
    const hub = await ServeProcess.start(['--users', join(dir, 'users.json'), '--data', join(dir, 'hub.json')]);
    cleanups.push(() => hub.kill());
    const noAuth = await fetch(hub.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(noAuth.status, 'a context change without the Bearer secret').toBe(401);
    expect((await fetch(`${hub.url}/.well-known/fhircast-configuration`)).status).toBe(200);
    const topic = await fetch(`${hub.url}/gettopic?username=georgek&secret=${encodeURIComponent(secret)}`);
    expect(topic.status).toBe(200);
    const wrong = await fetch(`${hub.url}/gettopic?username=georgek&secret=${encodeURIComponent(`${secret}x`)}`);
    expect(wrong.status).toBe(401);
    await hub.kill();
    for (const file of readdirSync(join(dir, 'hub.json'))) expect(readFileSync(join(dir, 'hub.json', file)).includes(secret), file).toBe(false);
    expect(hub.stdout + hub.stderr).not.toContain(secret);
    expect(statSync(join(dir, 'hub.json')).mode & 0o077, 'the data directory is open to its owner only').toBe(0);
  });
});

describe('hardening: tabcast serve defaults and limits (HUB-SEC-07/08)', () => {
  it('HUB-SEC-07 binds 127.0.0.1 unless --host says otherwise, and is not reachable on other interfaces', async () => {
    expect(parseCommandLine(['serve']).command).toBe('serve');
    const parsed = parseCommandLine(['serve']);
    expect(parsed.command === 'serve' && parsed.args.host).toBe('127.0.0.1');
    const server = await startServer({ port: 0 });
    cleanups.push(() => server.close());
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
    const port = Number(new URL(server.url).port);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      const refused = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: external.address, port }, () => {
          s.destroy();
          resolve(false);
        });
        s.on('error', () => resolve(true));
      });
      expect(refused, `connection to ${external.address}:${port}`).toBe(true);
    }
  });

  it('HUB-SEC-08 --max-connections: connections beyond the limit are cut, and the hub serves again once one closes', async () => {
    const server = await startServer({ port: 0, maxConnections: 3 });
    cleanups.push(() => server.close());
    const port = Number(new URL(server.url).port);
    const open = () =>
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
        s.on('error', reject);
      });
    const held = [await open(), await open(), await open()];
    cleanups.push(() => held.forEach((s) => s.destroy()));
    // The fourth connection is accepted by the kernel and closed by the server at once.
    const fourth = await open();
    const answer = await new Promise<string>((resolve) => {
      let data = '';
      fourth.on('data', (d) => (data += d.toString()));
      fourth.on('close', () => resolve(data));
      fourth.on('error', () => undefined);
      fourth.write('GET /fhircast/hub/.well-known/fhircast-configuration HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    });
    expect(answer, 'the connection over the limit got no answer').toBe('');
    held[0]!.destroy();
    await new Promise<void>((resolve) => held[0]!.once('close', () => resolve()));
    // The server counts the closed connection out when it sees the close: retry until it has.
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = await fetch(`${server.url}/.well-known/fhircast-configuration`, { headers: { connection: 'close' } })
        .then((r) => r.status)
        .catch(() => 0);
    }
    expect(status).toBe(200);
  });

  it('HUB-SEC-08 --max-connections is a command line flag with bounds', () => {
    const parsed = parseCommandLine(['serve', '--max-connections', '64']);
    expect(parsed.command === 'serve' && parsed.args.maxConnections).toBe(64);
    expect(() => parseCommandLine(['serve', '--max-connections', '0'])).toThrow(/max-connections/);
    expect(() => parseCommandLine(['serve', '--max-connections', '-1'])).toThrow();
  });
});

describe('hardening: postMessage origins', () => {
  it('no postMessage in src/ or worker/ targets "*", nothing exposes Comlink on a window, and any window message listener checks origin', () => {
    const files = [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'worker'))];
    expect(files.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const rel = file.slice(ROOT.length);
      if (/postMessage\([^;]*,\s*(['"`])\*\1/.test(text)) problems.push(`${rel}: postMessage to "*"`);
      if (/targetOrigin\s*:\s*(['"`])\*\1/.test(text)) problems.push(`${rel}: targetOrigin "*"`);
      if (/allowedOrigins?\s*[:=]\s*\[\s*(['"`])\*\1/.test(text)) problems.push(`${rel}: an allowlist holding "*"`);
      if (/expose\([^;]*,\s*(\['\*'\]|\["\*"\])/.test(text)) problems.push(`${rel}: Comlink expose with origins ["*"]`);
      if (/expose\([^;]*,\s*(window|self|globalThis|parent|top|opener)\b/.test(text) || /windowEndpoint\(/.test(text)) problems.push(`${rel}: Comlink on a window`);
      const windowListener = /(window|self|globalThis|parent)\.(addEventListener\(\s*['"]message['"]|onmessage\s*=)/g;
      for (const m of text.matchAll(windowListener)) {
        const around = text.slice(m.index, m.index + 600);
        if (!/\.origin\b/.test(around)) problems.push(`${rel}: a window message listener that does not check event.origin`);
      }
    }
    expect(problems).toStrictEqual([]);
  });
});

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js|mjs)$/.test(name)) out.push(path);
  }
  return out;
}
