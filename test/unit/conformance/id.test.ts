import { describe, expect, it } from 'vitest';
import { webCrypto } from '../../../src/adapters/web-crypto.js';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import { isHubError, type HubError } from '../../../src/protocol/index.js';
import type { CryptoSource, Hub, HubLogEntry } from '../../../src/hub/index.js';
import { makeHub } from '../support/harness.js';
import { accept, join, patientContext, request } from './support.js';

const SECRET = 'c0rrect-h0rse-battery-staple-2019';
const USERS = { secret: SECRET, groups: [['gkustas61', 'georgek'], ['joe', 'joe2'], ['solo']] };

async function topicError(hub: Hub, username: string | undefined, secret: string | undefined): Promise<HubError> {
  try {
    await hub.getTopic(username, secret);
  } catch (error) {
    expect(isHubError(error)).toBe(true);
    return error as HubError;
  }
  throw new Error('expected getTopic to fail');
}

const encoder = new TextEncoder();
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

describe('HUB-ID: GetTopic, users and the app-wide secret', () => {
  it('HUB-ID-01 with users configured, getTopic(username, secret) answers the topic of the user\u2019s group', async () => {
    const { hub } = await makeHub();
    await hub.configureUsers(USERS);
    const topic = await hub.getTopic('gkustas61', SECRET);
    expect(typeof topic).toBe('string');
    expect(topic.length).toBeGreaterThan(0);
    const sub = join(hub, topic, ['Patient-open']);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    expect(sub.channel.events).toHaveLength(1);
  });

  it('HUB-ID-02 all users of one group get the same topic on every call; different groups get different topics', async () => {
    const { hub } = await makeHub();
    await hub.configureUsers(USERS);
    const pacs = await hub.getTopic('gkustas61', SECRET);
    for (let i = 0; i < 5; i++) {
      expect(await hub.getTopic('gkustas61', SECRET)).toBe(pacs);
      expect(await hub.getTopic('georgek', SECRET)).toBe(pacs);
    }
    const joe = await hub.getTopic('joe', SECRET);
    expect(await hub.getTopic('joe2', SECRET)).toBe(joe);
    const solo = await hub.getTopic('solo', SECRET);
    expect(new Set([pacs, joe, solo]).size).toBe(3);
    const odd = (await makeHub()).hub;
    await odd.configureUsers({ secret: SECRET, groups: [['constructor', '__proto__'], ['toString']] });
    const first = await odd.getTopic('constructor', SECRET);
    expect(typeof first).toBe('string');
    expect(await odd.getTopic('__proto__', SECRET)).toBe(first);
    expect(await odd.getTopic('toString', SECRET)).not.toBe(first);
  });

  it('HUB-ID-03 topics are random: two hubs configured with the same users file hand out different topics, unrelated to names or secret', async () => {
    const a = (await makeHub()).hub;
    const b = (await makeHub()).hub;
    await a.configureUsers(USERS);
    await b.configureUsers(USERS);
    for (const user of ['gkustas61', 'joe', 'solo']) {
      const ta = await a.getTopic(user, SECRET);
      const tb = await b.getTopic(user, SECRET);
      expect(ta).not.toBe(tb);
      for (const t of [ta, tb]) {
        expect(t).not.toContain(user);
        expect(t).not.toContain(SECRET);
      }
    }
  });

  it('HUB-ID-04 a wrong secret gets 401 whether or not the user exists; the right secret with a user in no group gets 403', async () => {
    const { hub } = await makeHub();
    await hub.configureUsers(USERS);
    for (const user of ['gkustas61', 'mallory']) {
      for (const secret of ['wrong', SECRET.slice(0, -1), SECRET + 'x', SECRET.toUpperCase()]) {
        const error = await topicError(hub, user, secret);
        expect(error.status).toBe(401);
      }
    }
    for (const user of ['mallory', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const error = await topicError(hub, user, SECRET);
      expect(error.status, user).toBe(403);
    }
  });

  it('HUB-ID-05 (engine part) a request missing username or secret gets 400; without users the route answers 404', async () => {
    const { hub } = await makeHub();
    expect((await topicError(hub, 'gkustas61', SECRET)).status).toBe(404);
    await hub.configureUsers(USERS);
    expect((await topicError(hub, undefined, SECRET)).status).toBe(400);
    expect((await topicError(hub, '', SECRET)).status).toBe(400);
    expect((await topicError(hub, 'gkustas61', undefined)).status).toBe(400);
    expect((await topicError(hub, 'gkustas61', '')).status).toBe(400);
  });

  it('HUB-ID-06 (engine part) verifySecret accepts only the app-wide secret, and nothing while no users are configured', async () => {
    const { hub } = await makeHub();
    expect(await hub.verifySecret(SECRET)).toBe(false);
    expect(await hub.verifySecret('')).toBe(false);
    await hub.configureUsers(USERS);
    expect(await hub.verifySecret(SECRET)).toBe(true);
    for (const wrong of ['', 'wrong', SECRET.slice(0, -1), SECRET + ' ', ` ${SECRET}`]) expect(await hub.verifySecret(wrong)).toBe(false);
  });

  it('HUB-ID-07 secrets are compared over fixed-length digests: every presented secret, whatever its length, is hashed before comparison', async () => {
    const digested: Uint8Array[] = [];
    const spy: CryptoSource = {
      randomBytes: (n) => webCrypto.randomBytes(n),
      sha256: async (data) => {
        digested.push(data);
        const out = await webCrypto.sha256(data);
        expect(out).toHaveLength(32);
        return out;
      },
    };
    const { hub } = await makeHub({ crypto: spy });
    await hub.configureUsers(USERS);
    for (const presented of ['x', SECRET.slice(0, 10), SECRET, 'y'.repeat(10_000)]) {
      digested.length = 0;
      await hub.verifySecret(presented);
      expect(digested.length, presented.slice(0, 12)).toBeGreaterThanOrEqual(1);
      expect(digested.some((d) => Buffer.from(d).includes(Buffer.from(presented)))).toBe(true);
    }
  });

  it('HUB-ID-08 the secret is never stored in clear: storage holds a salted SHA-256 only, and neither storage nor the log shows the secret', async () => {
    /** A hub whose SHA-256 calls are recorded. */
    async function recorded() {
      const calls: Array<{ input: Uint8Array; output: Uint8Array }> = [];
      const crypto: CryptoSource = {
        randomBytes: (n) => webCrypto.randomBytes(n),
        sha256: async (input) => {
          const output = await webCrypto.sha256(input);
          calls.push({ input: new Uint8Array(input), output });
          return output;
        },
      };
      const storage = memoryStorage();
      const { hub } = await makeHub({ crypto, storage });
      const log: HubLogEntry[] = [];
      hub.observe((e) => log.push(e));
      await hub.configureUsers(USERS);
      await hub.getTopic('gkustas61', SECRET);
      await hub.getTopic('gkustas61', 'wrong').catch(() => undefined);
      await hub.flush();
      return { hub, calls, log, dump: JSON.stringify([...storage.data]) };
    }
    const a = await recorded();
    const b = await recorded();
    const plainDigest = await webCrypto.sha256(encoder.encode(SECRET));
    const encodings = (bytes: Uint8Array) => [hex(bytes), b64(bytes), b64url(bytes), b64(bytes).replace(/=+$/, '')];
    const salted: string[] = [];
    for (const h of [a, b]) {
      expect(h.dump.length).toBeGreaterThan(2);
      expect(h.dump).not.toContain(SECRET);
      for (const form of encodings(plainDigest)) expect(h.dump).not.toContain(form);
      // the digest kept is a SHA-256 over the secret plus a salt
      const hashedSecret = h.calls.filter((c) => Buffer.from(c.input).includes(Buffer.from(SECRET)));
      expect(hashedSecret.length).toBeGreaterThan(0);
      const stored = hashedSecret.filter((c) => encodings(c.output).some((form) => h.dump.includes(form)));
      expect(stored.length).toBeGreaterThan(0);
      for (const c of stored) expect(Buffer.from(c.input).equals(Buffer.from(SECRET))).toBe(false);
      salted.push(Buffer.from(stored[0]!.input).toString('hex'));
      expect(JSON.stringify(h.log)).not.toContain(SECRET);
      expect(JSON.stringify(h.hub.inspect())).not.toContain(SECRET);
    }
    // the salt is random: two hubs hash the same secret with different salts
    expect(salted[0]).not.toBe(salted[1]);
  });

  it('HUB-ID-09 (engine part) a malformed users file, or a user listed in two groups, is refused', async () => {
    const { hub } = await makeHub();
    const bad: unknown[] = [
      null,
      [],
      'secret',
      { groups: [['a']] },
      { secret: '', groups: [['a']] },
      { secret: 42, groups: [['a']] },
      { secret: SECRET },
      { secret: SECRET, groups: 'a,b' },
      { secret: SECRET, groups: ['a', 'b'] },
      { secret: SECRET, groups: [['a', 7]] },
      { secret: SECRET, groups: [['a', '']] },
      { secret: SECRET, groups: [['gkustas61', 'georgek'], ['georgek', 'joe']] },
    ];
    for (const config of bad) {
      await expect(hub.configureUsers(config as never), JSON.stringify(config)).rejects.toThrow();
    }
    expect(hub.usersConfigured).toBe(false);
    await hub.configureUsers(USERS);
    expect(hub.usersConfigured).toBe(true);
  });
});
