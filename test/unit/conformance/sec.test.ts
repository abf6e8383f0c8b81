import { describe, expect, it } from 'vitest';
import { webCrypto } from '../../../src/adapters/web-crypto.js';
import { formParams, isHubError, parseSubscriptionRequest } from '../../../src/protocol/index.js';
import type { CryptoSource, HubLogEntry } from '../../../src/hub/index.js';
import { makeHub, RecordingChannel } from '../support/harness.js';
import {
  accept,
  ackAll,
  answer,
  diagnosticReport,
  join,
  notifications,
  observation,
  patient,
  patientContext,
  put,
  refuse,
  reportContext,
  request,
  throws,
  updateBundle,
  updateContext,
  world,
} from './support.js';

/** A random source whose every draw is zero except byte `k` (k < 0: all zero). */
function patterned(k: number): CryptoSource {
  return {
    randomBytes: (n) => {
      const out = new Uint8Array(n);
      if (k >= 0 && k < n) out[k] = 0xff;
      return out;
    },
    sha256: (data) => webCrypto.sha256(data),
  };
}

/** Each of the first 16 random bytes (128 bits) changes the token, and nothing but the injected source does. */
async function expectTokenFromRandomSource(make: (crypto: CryptoSource) => Promise<string>) {
  const tokens: string[] = [];
  for (let k = -1; k < 16; k++) tokens.push(await make(patterned(k)));
  expect(new Set(tokens).size).toBe(17);
  expect(await make(patterned(5))).toBe(tokens[6]);
  const real = new Set<string>();
  for (let i = 0; i < 20; i++) real.add(await make(webCrypto));
  expect(real.size).toBe(20);
  for (const t of real) expect(t.length * Math.log2(64)).toBeGreaterThanOrEqual(122);
}

describe('HUB-SEC: security', () => {
  it('HUB-SEC-01 each endpoint carries at least 122 bits from the injected cryptographic random source', async () => {
    await expectTokenFromRandomSource(async (crypto) => {
      const { hub } = await makeHub({ crypto });
      return hub.subscribe({ topic: 'medplum-session-42', events: ['Patient-open'] }).endpoint;
    });
  });

  it('HUB-SEC-01 an endpoint does not contain its topic', async () => {
    const { hub } = await makeHub();
    const topics = [hub.createTopic(), 'medplum-session-42', 'radiology-reading-room-b', 'x'.repeat(256)];
    for (const topic of topics) {
      for (let i = 0; i < 20; i++) expect(hub.subscribe({ topic, events: ['Patient-open'] }).endpoint).not.toContain(topic);
    }
  });

  it('HUB-SEC-02 every topic the hub creates carries at least 122 bits from the injected cryptographic random source', async () => {
    await expectTokenFromRandomSource(async (crypto) => (await makeHub({ crypto })).hub.createTopic());
    await expectTokenFromRandomSource(async (crypto) => {
      const { hub } = await makeHub({ crypto });
      await hub.configureUsers({ secret: 'app-secret-1', groups: [['gkustas61', 'georgek']] });
      return hub.getTopic('georgek', 'app-secret-1');
    });
  });

  it('HUB-SEC-03 (engine part) knowing a topic is not enough: connecting to the topic as an endpoint is refused with 404', async () => {
    const { hub, topic } = await world();
    join(hub, topic, ['Patient-open']);
    expect(hub.hasEndpoint(topic)).toBe(false);
    throws(() => hub.connect(topic, new RecordingChannel()), 404);
    throws(() => hub.connect(`${topic}/ws`, new RecordingChannel()), 404);
  });

  it('HUB-SEC-04 a subscribe or unsubscribe naming an endpoint of another topic, or an unknown endpoint, gets 404 and changes nothing', async () => {
    const { hub, topic } = await world();
    const other = hub.createTopic();
    const viewer = join(hub, topic, ['Patient-open']);
    const before = viewer.channel.frames.length;
    throws(() => hub.subscribe({ topic: other, events: ['*'], endpoint: viewer.endpoint }), 404);
    throws(() => hub.handleSubscriptionRequest(parseSubscriptionRequest({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': other, 'hub.events': '*', 'hub.channel.endpoint': viewer.endpoint })), 404);
    throws(() => hub.unsubscribe(other, viewer.endpoint), 404);
    throws(() => hub.handleSubscriptionRequest(parseSubscriptionRequest(formParams(new URLSearchParams(`hub.channel.type=websocket&hub.mode=unsubscribe&hub.topic=${other}&hub.channel.endpoint=${viewer.endpoint}`)))), 404);
    throws(() => hub.subscribe({ topic, events: ['*'], endpoint: 'AAAAAAAAAAAAAAAAAAAAAA' }), 404);
    throws(() => hub.unsubscribe(topic, 'AAAAAAAAAAAAAAAAAAAAAA'), 404);
    expect(viewer.channel.frames).toHaveLength(before);
    expect(viewer.channel.closedWith).toBeUndefined();
    expect(hub.hasEndpoint(viewer.endpoint)).toBe(true);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    await accept(hub, request(other, 'Patient-open', patientContext()));
    expect(notifications(viewer.channel).map((f) => f.event['hub.topic'])).toEqual([topic]);
    expect(hub.inspect().topics.find((t) => t.topic === other)?.subscribers ?? []).toHaveLength(0);
  });

  it('HUB-SEC-09 (engine part) no input breaks the engine: after any rejected request or bad frame it keeps serving, and no error carries a stack trace', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['*']);
    const bodies: unknown[] = [
      undefined,
      null,
      0,
      true,
      'Patient-open',
      [],
      {},
      { id: 'x', event: null },
      { id: 'x', event: { 'hub.event': 'Patient-open', 'hub.topic': 42, context: [] } },
      { id: 'x', event: { 'hub.event': 'Patient-open', 'hub.topic': topic, context: [null, 1, 'a'] } },
      { id: 'x', event: { 'hub.event': 'Patient-open', 'hub.topic': topic, context: [{ key: 'patient', resource: 'Patient/1' }] } },
      { id: 'x', event: { 'hub.event': 'Patient-open', 'hub.topic': topic, context: [{ key: 'patient', resource: { resourceType: 'Patient', id: { nested: true } } }] } },
      { id: 'x', event: { 'hub.event': '__proto__', 'hub.topic': topic, context: [] } },
      { id: 'x', event: { 'hub.event': 'constructor', 'hub.topic': topic, context: [] } },
      { id: 'x', event: { 'hub.event': 'toString', 'hub.topic': topic, context: [] } },
      { id: 'x', event: { 'hub.event': 'DiagnosticReport-update', 'hub.topic': topic, context: [{ key: 'report', reference: 42 }, { key: 'updates', resource: { resourceType: 'Bundle', entry: 'x' } }] } },
      { id: 'x', event: { 'hub.event': 'x'.repeat(100_000), 'hub.topic': topic, context: [] } },
      JSON.parse('{"id":"x","__proto__":{"polluted":true},"event":{"hub.event":"Patient-open","context":[]}}'),
    ];
    for (const body of bodies) {
      let error: unknown;
      try {
        await hub.publish(body);
      } catch (e) {
        error = e;
      }
      expect(isHubError(error), `${String(error)} for ${JSON.stringify(body)?.slice(0, 80)}`).toBe(true);
      const status = (error as { status: number }).status;
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
      const text = JSON.stringify((error as { outcome: unknown }).outcome);
      expect(text).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+/);
    }
    for (const frame of ['', '{', '[]', '{"id":{},"status":200}', '{"id":"x","status":{}}', '{"__proto__":{"status":500}}', '{"status":"5000"}']) viewer.handle.receive(frame);
    for (const events of [['__proto__'], ['constructor'], ['toString-open'], ['*-*']]) throws(() => hub.subscribe({ topic, events }), 400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(hub.wellKnown().websocketSupport).toBe(true);
    expect(hub.getContext('__proto__')).toEqual({ 'context.type': '', context: [] });
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    expect(notifications(viewer.channel)).toHaveLength(1);
    expect(viewer.channel.closedWith).toBeUndefined();
  });

  it('HUB-SEC-10 (engine part) endpoints never appear in notifications, SyncErrors, get-context, the inspector or the activity log', async () => {
    const { hub, topic, run } = await world({ heartbeatMs: 10_000 });
    const log: HubLogEntry[] = [];
    hub.observe((e) => log.push(e));
    const named = join(hub, topic, ['*'], { subscriberName: 'Reporting' });
    const anonymous = join(hub, topic, ['Patient-open', 'DiagnosticReport-open']);
    const silent = join(hub, topic, ['Patient-open']);
    const dropper = join(hub, topic, ['Patient-open']);
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext(diagnosticReport('dr-1'), patient())));
    await accept(hub, request(topic, 'DiagnosticReport-update', updateContext('dr-1', updateBundle('ub-1', [put(observation())])), { event: { 'context.versionId': hub.getContext(topic)['context.versionId'] } }));
    answer(anonymous, { id: notifications(anonymous.channel)[0].id, status: 409 });
    ackAll(named);
    dropper.handle.closed(1006);
    run(11_000);
    await refuse(hub, request(topic, 'Patient-open', []), 400);
    const seen = JSON.stringify({
      frames: [named, anonymous, silent, dropper].map((s) => s.channel.frames),
      reasons: [named, anonymous, silent, dropper].map((s) => s.channel.closedWith ?? null),
      context: hub.getContext(topic),
      inspect: hub.inspect(),
      log,
    });
    expect(seen).toContain('syncerror');
    for (const s of [named, anonymous, silent, dropper]) expect(seen).not.toContain(s.endpoint);
  });
});
