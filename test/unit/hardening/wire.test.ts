/**
 * Issue #7, the STU3 HTTP surface (src/wire) under fast-check: random methods, paths,
 * Content-Types and bodies (forms, mutated context changes, raw JSON, raw bytes), oversized and
 * deeply nested bodies, and Bearer headers. Invariants: never a 5xx or a stack; every rejection is
 * a 4xx in its route's form (OperationOutcome or text/plain); a rejection changes no accepted
 * state and sends nothing; get-context stays well-formed; .well-known keeps answering.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWireHandler } from '../../../src/wire/index.js';
import { FakeSocket, HUB_URL, makeWire, subscribeAndConnect } from '../wire/support.js';
import { mutate, nastyString, recipe } from './support/arbitraries.js';
import { versionFor } from './support/engine-rig.js';
import { body as bodyArb, contentType, HUB_PATH, method, path, type BodySpec } from './support/http-arbitraries.js';
import { acceptedState, expectHttpRejection, expectWellFormedContext, STACK_TRACE, watchUnhandled, type RejectionForm } from './support/invariants.js';
import { recordStats, runs } from './support/sizes.js';

const ORIGIN = new URL(HUB_URL).origin;
const MEDIA = new Set(['application/json', 'application/fhir+json', 'application/x-www-form-urlencoded']);

type Route = { kind: 'hub' | 'well-known' | 'gettopic' | 'endpoint' | 'topic' | 'stomp' | 'pull' | 'protocols'; allowed: string[] };

/** The routes of the STU3 surface as the spec and HUB-CHANGE-02/HUB-ID-05 name them. */
function routeOf(pathname: string): Route | undefined {
  const p = pathname.replace(/\/+$/, '');
  if (p === HUB_PATH) return { kind: 'hub', allowed: ['POST'] };
  if (!p.startsWith(`${HUB_PATH}/`)) return undefined;
  const segs = p.slice(HUB_PATH.length + 1).split('/');
  if (segs.length === 2 && segs[0] === '.well-known' && segs[1] === 'fhircast-configuration') return { kind: 'well-known', allowed: ['GET'] };
  if (segs.length === 2 && segs[0] === 'ws') return { kind: 'endpoint', allowed: ['GET'] };
  // The Philips proposal's routes (channels.md §1–2): the STOMP endpoint, pull context, the protocol list.
  if (segs.length === 2 && segs[0] !== '' && segs[1] === 'context') return { kind: 'pull', allowed: ['GET'] };
  if (segs.length === 2 && segs[0] !== '' && segs[1] === 'protocols') return { kind: 'protocols', allowed: ['GET'] };
  if (segs.length !== 1 || segs[0] === '') return undefined;
  if (segs[0] === 'websocket') return { kind: 'stomp', allowed: ['GET'] };
  if (['gettopic', 'authenticate'].includes(segs[0]!.toLowerCase())) return { kind: 'gettopic', allowed: ['GET'] };
  return { kind: 'topic', allowed: ['GET', 'POST'] };
}

const decodes = (segment: string) => {
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
};

/** encodeURIComponent that leaves a lone surrogate as an invalid escape instead of throwing. */
const encodeLoose = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
};

const mediaOf = (ct: string | undefined) => (ct ?? '').split(';')[0]!.trim().toLowerCase();

/** True when a JSON text is a subscription request sent as JSON (HUB-TOLERANT-02): hub.* members, no event. */
function isJsonSubscription(text: string): boolean {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) && !('event' in v) && Object.keys(v).some((k) => k.startsWith('hub.'));
  } catch {
    return false;
  }
}

async function wireRig(options: Parameters<typeof makeWire>[0] = {}) {
  const made = await makeWire(options);
  const a = await subscribeAndConnect(made.wire, 'topic-a', '*');
  const b = await subscribeAndConnect(made.wire, 'topic-b', '*');
  return { ...made, sockets: [a.socket, b.socket], endpoints: [a.endpoint, b.endpoint], versions: new Map<string, string[]>() };
}

type WireRig = Awaited<ReturnType<typeof wireRig>>;

function bodyText(rig: WireRig, spec: BodySpec): { text?: string; bytes?: Uint8Array } {
  switch (spec.kind) {
    case 'form':
      return { text: spec.text.replaceAll(encodeURIComponent('{endpoint-url}'), encodeURIComponent(rig.endpoints[0]!)) };
    case 'recipe': {
      const value = spec.recipe.template.build(versionFor(rig, spec.recipe.template)) as Record<string, unknown>;
      value.id = `rq-${Math.random().toString(36).slice(2)}`;
      return { text: mutate(value as never, spec.recipe.mutations) };
    }
    case 'text':
      return { text: spec.text };
    case 'bytes':
      return { bytes: spec.bytes };
    case 'none':
      return {};
  }
}

/** Sends one request and checks the invariants; returns its status. */
async function sendAndCheck(rig: WireRig, req: { method: string; path: string; contentType?: string; body: BodySpec; headers?: Record<string, string> }): Promise<number> {
  const endpointId = rig.endpoints[0]!.split('/').pop()!;
  const url = `${ORIGIN}${req.path.replace('{endpoint}', endpointId)}`;
  const headers: Record<string, string> = { ...req.headers };
  if (req.contentType !== undefined) headers['content-type'] = req.contentType;
  const { text, bytes } = bodyText(rig, req.body);
  const hasBody = req.method.toUpperCase() !== 'GET' && req.method.toUpperCase() !== 'HEAD' && (text !== undefined || bytes !== undefined);
  const request = new Request(url, { method: req.method, headers, body: hasBody ? ((text ?? bytes) as BodyInit) : undefined });
  const before = acceptedState(rig.hub);
  const frames = rig.sockets.map((s) => s.raw.length);
  const res = await rig.wire.handle(request);
  const what = `${req.method} ${req.path} [${req.contentType}] ${(text ?? '').slice(0, 200)}`;
  expect(res.status, what).toBeLessThan(500);

  const route = routeOf(new URL(request.url).pathname);
  const m = request.method; // fetch normalises get/post/put/delete/head/options to upper case
  let form: RejectionForm = 'outcome';
  if (!route) {
    expect(res.status, what).toBe(404);
  } else if (m === 'OPTIONS') {
    expect(res.status, what).toBe(204);
    expect(res.headers.get('allow')).toBe([...route.allowed, 'OPTIONS'].join(', '));
  } else if (!route.allowed.includes(m)) {
    expect(res.status, what).toBe(405);
    expect(res.headers.get('allow')).toBe(route.allowed.join(', '));
  } else if (m === 'POST') {
    const media = mediaOf(req.contentType);
    const json = media === 'application/json' || media === 'application/fhir+json';
    if (route.kind === 'topic' && !decodes(new URL(request.url).pathname.split('/').filter(Boolean).pop()!)) {
      expect(res.status, `${what}: a topic that is not validly percent-encoded is a 400`).toBe(400);
    } else if (!MEDIA.has(media) || (route.kind === 'topic' && !json)) {
      expect(res.status, `${what}: unsupported Content-Type must be 415`).toBe(415);
    } else if (route.kind === 'hub' && (media === 'application/x-www-form-urlencoded' || (text !== undefined && isJsonSubscription(text)))) {
      form = 'text';
    }
  } else if (route.kind === 'well-known') {
    expect(res.status).toBe(200);
  } else if (route.kind === 'topic') {
    if (decodes(new URL(request.url).pathname.split('/').filter(Boolean).pop()!)) {
      expect(res.status, what).toBe(200);
      expectWellFormedContext(await res.clone().json());
    } else {
      expect(res.status, `${what}: a topic that is not validly percent-encoded is a 400`).toBe(400);
    }
  } else if (route.kind === 'gettopic') {
    expect(res.status, 'no users file: GetTopic is 404 (HUB-ID-05)').toBe(404);
  } else if (route.kind === 'endpoint') {
    expect([404, 426]).toContain(res.status);
  } else if (route.kind === 'stomp') {
    expect(res.status, what).toBe(426);
  } else if (route.kind === 'pull' || route.kind === 'protocols') {
    const segment = new URL(request.url).pathname.split('/').filter(Boolean).at(-2)!;
    if (!decodes(segment)) expect(res.status, `${what}: a topic that is not validly percent-encoded is a 400`).toBe(400);
    else {
      expect(res.status, what).toBe(200);
      const body = (await res.clone().json()) as any;
      if (route.kind === 'pull') expect(typeof body.id === 'string' && typeof body.timestamp === 'string' && body.event?.['hub.topic'] === decodeURIComponent(segment) && Array.isArray(body.event.context), what).toBe(true);
      else expect(body.protocols.map((p: { name: string }) => p.name), what).toEqual(['websocket', 'stomp', 'context']);
    }
  }

  if (res.status >= 400) {
    await expectHttpRejection(res, form, what);
    expect(acceptedState(rig.hub), `${what}: a rejected request changed the accepted state`).toBe(before);
    rig.sockets.forEach((s, i) => expect(s.raw.length, `${what}: a rejected request sent frames`).toBe(frames[i]));
  } else {
    const out = await res.text();
    expect(out).not.toMatch(STACK_TRACE);
    if (res.status !== 202) expect(acceptedState(rig.hub)).toBe(before);
  }
  for (const t of ['topic-a', 'topic-b']) expectWellFormedContext(rig.hub.getContext(t));
  const wk = await rig.wire.handle(new Request(`${HUB_URL}/.well-known/fhircast-configuration`));
  expect(wk.status, 'the hub keeps serving (HUB-SEC-09)').toBe(200);
  return res.status;
}

/** Requests a client means to be valid (right method, route and Content-Type) with damaged bodies. */
const plausibleRequest = fc.oneof(
  fc.record({ method: fc.constant('POST'), path: fc.constant(HUB_PATH), contentType: fc.constant('application/x-www-form-urlencoded'), body: bodyArb.filter((b) => b.kind === 'form') }),
  fc.record({
    method: fc.constant('POST'),
    path: fc.constantFrom(HUB_PATH, `${HUB_PATH}/topic-a`),
    contentType: fc.constantFrom('application/json', 'application/fhir+json; charset=utf-8'),
    body: fc.oneof(recipe(fc.constantFrom('topic-a', 'topic-b')).map((r): BodySpec => ({ kind: 'recipe', recipe: { ...r, mutations: [] } })), bodyArb.filter((b) => b.kind === 'recipe')),
  }),
  fc.record({ method: fc.constant('GET'), path: fc.constantFrom(`${HUB_PATH}/topic-a`, `${HUB_PATH}/topic-b`, `${HUB_PATH}/.well-known/fhircast-configuration`), contentType: fc.constant(undefined), body: fc.constant<BodySpec>({ kind: 'none' }) }),
);

describe('hardening: HTTP surface (src/wire)', () => {
  it('HUB-SEC-09 HUB-SUB-06 HUB-CHANGE-13 HUB-CHANGE-14 random requests: 2xx or a 4xx in the route\'s form, and a rejection changes nothing', async () => {
    const unhandled = watchUnhandled();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(plausibleRequest, fc.record({ method, path, contentType, body: bodyArb })), { minLength: 1, maxLength: 6 }), async (reqs) => {
        const rig = await wireRig();
        for (const r of reqs) {
          const status = await sendAndCheck(rig, r);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
      runs(2),
    );
    unhandled.check();
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(statuses.get(202) ?? 0, 'some requests are accepted').toBeGreaterThan(0);
    recordStats('wire', 'random HTTP requests', { requests: total, ...Object.fromEntries([...statuses].sort(([a], [b]) => a - b).map(([s, n]) => [`http ${s}`, n])) });
  }, 120_000);

  it('HUB-CHANGE-02 POST to hub.url/{topic} with mutated context changes: 202 or an OperationOutcome 4xx', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ body: bodyArb.filter((b) => b.kind === 'recipe'), topic: fc.constantFrom('topic-a', 'topic-b') }), { minLength: 1, maxLength: 5 }), async (reqs) => {
        const rig = await wireRig();
        for (const r of reqs) {
          n++;
          await sendAndCheck(rig, { method: 'POST', path: `${HUB_PATH}/${r.topic}`, contentType: 'application/fhir+json', body: r.body });
        }
      }),
      runs(1),
    );
    recordStats('wire', 'context changes to hub.url/{topic}', { requests: n });
  }, 60_000);

  it('HUB-CHANGE-07 HUB-SEC-08 bodies around the limit: 413 too-long exactly when over it, in the route\'s form, with or without a truthful Content-Length', async () => {
    const limit = 2048;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: limit - 64, max: limit + 64 }),
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded'),
        fc.constantFrom<'none' | 'true' | 'small' | 'huge'>('none', 'true', 'small', 'huge'),
        async (size, type, declared) => {
          n++;
          const rig = await wireRig({ bodyLimitBytes: limit });
          const pad = type === 'application/json' ? `{"hub.mode":"subscribe","pad":"${'x'.repeat(Math.max(0, size - 30))}"}` : `hub.mode=subscribe&pad=${'x'.repeat(Math.max(0, size - 22))}`;
          const bytes = new TextEncoder().encode(pad);
          const headers: Record<string, string> = { 'content-type': type };
          if (declared === 'true') headers['content-length'] = String(bytes.byteLength);
          if (declared === 'small') headers['content-length'] = '10';
          if (declared === 'huge') headers['content-length'] = String(limit * 100);
          const before = acceptedState(rig.hub);
          const res = await rig.wire.handle(new Request(HUB_URL, { method: 'POST', headers, body: bytes }));
          const over = bytes.byteLength > limit || declared === 'huge';
          if (over) {
            expect(res.status).toBe(413);
            // A form is a subscription request whatever it holds (text/plain); a JSON body too big to
            // read cannot show whether it is one, so it gets the OperationOutcome form.
            const form = type === 'application/x-www-form-urlencoded' ? 'text' : 'outcome';
            const text = await expectHttpRejection(res, form, `${bytes.byteLength} bytes`);
            expect(text).toMatch(/larger than/);
          } else {
            expect(res.status).not.toBe(413);
            await res.text();
          }
          expect(acceptedState(rig.hub)).toBe(before);
        },
      ),
      runs(1),
    );
    recordStats('wire', 'bodies around the size limit', { requests: n });
  });

  it('HUB-CHANGE-07 a context change over 1 MiB gets 413 with an OperationOutcome too-long, and the hub keeps serving', async () => {
    const rig = await wireRig();
    const big = JSON.stringify({ id: 'big', event: { 'hub.topic': 'topic-a', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p', text: 'x'.repeat(1024 * 1024) } }] } });
    const before = acceptedState(rig.hub);
    const res = await rig.wire.handle(new Request(HUB_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big }));
    expect(res.status).toBe(413);
    const body = JSON.parse(await expectHttpRejection(res, 'outcome', 'big'));
    expect(body.issue[0].code).toBe('too-long');
    expect(acceptedState(rig.hub)).toBe(before);
    const ok = await rig.wire.handle(new Request(`${HUB_URL}/topic-a`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'small', event: { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p' } }] } }) }));
    expect(ok.status).toBe(202);
  });

  it('HUB-CHANGE-07 an updates Bundle of more than 10 000 entries gets 413 too-long; 10 000 entries are applied', async () => {
    const rig = await wireRig();
    const open = await rig.wire.handle(new Request(`${HUB_URL}/topic-a`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'o', event: { 'hub.event': 'DiagnosticReport-open', context: [{ key: 'report', resource: { resourceType: 'DiagnosticReport', id: 'dr-1' } }, { key: 'patient', resource: { resourceType: 'Patient', id: 'p' } }] } }) }));
    expect(open.status).toBe(202);
    const update = (entries: number) => {
      const version = rig.hub.getContext('topic-a')['context.versionId'];
      const entry = Array.from({ length: entries }, (_, i) => ({ request: { method: 'DELETE', url: `Observation/o${i}` } }));
      return rig.wire.handle(new Request(`${HUB_URL}/topic-a`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: `u${entries}`, event: { 'hub.event': 'DiagnosticReport-update', 'context.versionId': version, context: [{ key: 'report', reference: { reference: 'DiagnosticReport/dr-1' } }, { key: 'updates', resource: { resourceType: 'Bundle', type: 'transaction', entry } }] } }) }));
    };
    const before = acceptedState(rig.hub);
    const tooMany = await update(10_001);
    expect(tooMany.status).toBe(413);
    expect(JSON.parse(await expectHttpRejection(tooMany, 'outcome', 'bundle')).issue[0].code).toBe('too-long');
    expect(acceptedState(rig.hub)).toBe(before);
    expect((await update(10_000)).status).toBe(202);
  });

  it('HUB-SEC-09 any nesting depth: 202 with everything still readable, or 400; never a 5xx and the hub keeps accepting changes', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 200, max: 20_000 })), fc.constantFrom('[', '{"a":'), async (depth, open) => {
        n++;
        const rig = await wireRig();
        const close = open === '[' ? ']' : '}';
        const nested = `${open.repeat(depth)}0${close.repeat(depth)}`;
        const text = `{"id":"deep","event":{"hub.topic":"topic-a","hub.event":"Patient-open","context":[{"key":"patient","resource":{"resourceType":"Patient","id":"p-deep","x":${nested}}}]}}`;
        const res = await rig.wire.handle(new Request(HUB_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text }));
        if (res.status === 202) {
          expect(rig.sockets[0]!.events.map((f) => f.id)).toContain('deep');
          const ctx = await rig.wire.handle(new Request(`${HUB_URL}/topic-a`));
          expect(ctx.status).toBe(200);
          expectWellFormedContext(await ctx.json());
        } else {
          expect(res.status).toBe(400);
          await expectHttpRejection(res, 'outcome', `depth ${depth}`);
        }
        const next = await rig.wire.handle(new Request(`${HUB_URL}/topic-b`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'next', event: { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p' } }] } }) }));
        expect(next.status, await next.clone().text()).toBe(202);
        expect(rig.hub.inspect().storage.ok).toBe(true);
      }),
      runs(0.5),
    );
    recordStats('wire', 'deeply nested bodies', { requests: n });
  });

  it('HUB-SEC-09 a Content-Type named after an Object.prototype member is refused with 415', async () => {
    const rig = await wireRig();
    for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const before = acceptedState(rig.hub);
      const res = await rig.wire.handle(new Request(HUB_URL, { method: 'POST', headers: { 'content-type': type }, body: '{"id":"x","event":{"hub.topic":"topic-a","hub.event":"Home-open","context":[]}}' }));
      expect(res.status, type).toBe(415);
      await expectHttpRejection(res, 'outcome', type);
      expect(acceptedState(rig.hub)).toBe(before);
    }
  });

  it('HUB-ID-06 with a users file, any Authorization header but the right Bearer gets 401 with WWW-Authenticate and changes nothing', async () => {
    const secret = 'app-secret-42-Zq';
    let n = 0;
    const made = await makeWire({ users: { secret, groups: [['gkustas61', 'georgek']] } });
    const authorization = fc.oneof(
      fc.constantFrom(`Bearer ${secret}`, `bearer ${secret}`, `Bearer  ${secret} `, `Bearer ${secret}x`, `Bearer ${secret.slice(0, -1)}`, 'Bearer', `Basic ${secret}`, secret, '', `Bearer ${secret.toUpperCase()}`),
      nastyString.map((s) => `Bearer ${s}`),
      fc.string({ maxLength: 40 }),
    ).filter((h) => /^[\x20-\x7e\x80-\xff]*$/.test(h)); // header values are bytes
    await fc.assert(
      fc.asyncProperty(authorization, fc.constantFrom('subscribe', 'publish', 'get'), async (auth, what) => {
        n++;
        const headers: Record<string, string> = {};
        if (auth !== '' && !/[\r\n\0]/.test(auth)) headers.authorization = auth;
        const good = /^bearer[ \t]+/i.test((headers.authorization ?? '').trim()) && (headers.authorization ?? '').trim().replace(/^bearer[ \t]+/i, '').trim() === secret;
        const before = acceptedState(made.hub);
        let res: Response;
        if (what === 'subscribe') {
          res = await made.wire.handle(new Request(HUB_URL, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: 'hub.channel.type=websocket&hub.mode=subscribe&hub.topic=T&hub.events=Patient-open' }));
        } else if (what === 'publish') {
          res = await made.wire.handle(new Request(HUB_URL, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'a', event: { 'hub.topic': 'T', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p' } }] } }) }));
        } else {
          res = await made.wire.handle(new Request(`${HUB_URL}/T`, { headers }));
        }
        if (good) {
          expect(res.status).toBeLessThan(300);
          await res.text();
        } else {
          expect(res.status).toBe(401);
          expect(res.headers.get('www-authenticate')).toBe('Bearer');
          const text = await expectHttpRejection(res, what === 'subscribe' ? 'text' : 'outcome', auth);
          expect(text).not.toContain(secret);
          expect(acceptedState(made.hub)).toBe(before);
        }
      }),
      runs(1),
    );
    recordStats('wire', 'Authorization headers with a users file', { requests: n });
  });

  it('HUB-SEC-03 HUB-SEC-04 a socket to any URL but a live endpoint is refused; an endpoint cannot be used with another topic', async () => {
    const rig = await wireRig();
    await fc.assert(
      fc.asyncProperty(nastyString, fc.constantFrom('topic-a', 'topic-b', 'topic-quiet'), async (junk, topic) => {
        for (const url of [`${HUB_URL}/${encodeURIComponent(topic)}`, `ws://hub.test/fhircast/hub/ws/${encodeLoose(junk)}x`, `ws://hub.test/fhircast/hub/${junk}`, junk]) {
          expect(rig.wire.isEndpoint(url)).toBe(false);
          expect(rig.wire.acceptSocket(url, new FakeSocket())).toBeUndefined();
        }
        // The endpoint of topic-a named with another topic: 404 text, no change (HUB-SEC-04).
        const before = acceptedState(rig.hub);
        for (const mode of ['subscribe', 'unsubscribe']) {
          if (topic === 'topic-a') continue;
          const form = new URLSearchParams({ 'hub.channel.type': 'websocket', 'hub.mode': mode, 'hub.topic': topic, 'hub.events': '*', 'hub.channel.endpoint': rig.endpoints[0]! });
          const res = await rig.wire.handle(new Request(HUB_URL, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() }));
          expect(res.status).toBe(404);
          await expectHttpRejection(res, 'text', mode);
          expect(acceptedState(rig.hub)).toBe(before);
        }
      }),
      runs(0.5),
    );
  });
});

void createWireHandler;
