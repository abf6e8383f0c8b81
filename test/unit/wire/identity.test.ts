import { describe, expect, it } from 'vitest';
import { FakeSocket, HUB_URL, formRequest, jsonRequest, makeWire, patientOpen, subscribeParams, unsubscribeParams } from './support.js';

const SECRET = 'app-wide-secret-9f1c';
const USERS = { secret: SECRET, groups: [['gkustas61', 'georgek'], ['joe', 'joe2']] };
const bearer = { authorization: `Bearer ${SECRET}` };

const getTopic = (query: string, path = 'gettopic') => new Request(`${HUB_URL}/${path}?${query}`);
const topicOf = async (res: Response) => ((await res.json()) as Record<string, string>)['hub.topic']!;
const q = (username: string, secret = SECRET) => new URLSearchParams({ username, secret }).toString();

describe('HUB-ID GetTopic and the app-wide secret through the wire', () => {
  it('HUB-ID-01 gettopic with a grouped user and the secret answers 200 {"hub.topic": T}', async () => {
    const { wire } = await makeWire({ users: USERS });
    const res = await wire.handle(getTopic(q('gkustas61')));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json\b/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['hub.topic']);
    expect(body['hub.topic']).toMatch(/^\S{16,}$/);
  });

  it('HUB-ID-02 users of one group share a topic on every call; other groups get another', async () => {
    const { wire } = await makeWire({ users: USERS });
    const pacs = await topicOf(await wire.handle(getTopic(q('gkustas61'))));
    const ris = await topicOf(await wire.handle(getTopic(q('georgek'))));
    const pacsAgain = await topicOf(await wire.handle(getTopic(q('gkustas61'))));
    const joe = await topicOf(await wire.handle(getTopic(q('joe'))));
    const joe2 = await topicOf(await wire.handle(getTopic(q('joe2'))));
    expect(ris).toBe(pacs);
    expect(pacsAgain).toBe(pacs);
    expect(joe2).toBe(joe);
    expect(joe).not.toBe(pacs);
  });

  it('HUB-ID-03 topics are random: two fresh hubs with the same users hand out different topics, unrelated to names or secret', async () => {
    const first = await makeWire({ users: USERS });
    const second = await makeWire({ users: USERS });
    const a = await topicOf(await first.wire.handle(getTopic(q('gkustas61'))));
    const b = await topicOf(await second.wire.handle(getTopic(q('gkustas61'))));
    expect(a).not.toBe(b);
    for (const t of [a, b]) {
      expect(t).not.toContain('gkustas61');
      expect(t).not.toContain(SECRET);
    }
  });

  it('HUB-ID-04 a wrong secret gets 401 whether or not the user exists; the right secret with an ungrouped user gets 403', async () => {
    const { wire } = await makeWire({ users: USERS });
    expect((await wire.handle(getTopic(q('gkustas61', 'wrong')))).status).toBe(401);
    expect((await wire.handle(getTopic(q('nobody', 'wrong')))).status).toBe(401);
    expect((await wire.handle(getTopic(q('nobody')))).status).toBe(403);
  });

  it('HUB-ID-05 missing username or secret gets 400', async () => {
    const { wire } = await makeWire({ users: USERS });
    expect((await wire.handle(getTopic(`secret=${SECRET}`))).status).toBe(400);
    expect((await wire.handle(getTopic('username=joe'))).status).toBe(400);
    expect((await wire.handle(getTopic(''))).status).toBe(400);
  });

  it('HUB-ID-05 the path matches case-insensitively and /authenticate is an alias', async () => {
    const { wire } = await makeWire({ users: USERS });
    const expected = await topicOf(await wire.handle(getTopic(q('joe'))));
    for (const path of ['GetTopic', 'GETTOPIC', 'authenticate', 'Authenticate']) {
      const res = await wire.handle(getTopic(q('joe'), path));
      expect(res.status, path).toBe(200);
      expect(await topicOf(res)).toBe(expected);
    }
  });

  it('HUB-ID-05 without a users file the route answers 404', async () => {
    const { wire } = await makeWire();
    expect((await wire.handle(getTopic(q('joe')))).status).toBe(404);
    expect((await wire.handle(getTopic(q('joe'), 'authenticate'))).status).toBe(404);
  });
});

describe('HUB-ID-06 Bearer secret on the protected routes', () => {
  const credentials: Array<[string, Record<string, string>]> = [
    ['no Authorization header', {}],
    ['a wrong Bearer token', { authorization: 'Bearer not-the-secret' }],
    ['another scheme', { authorization: `Basic ${SECRET}` }],
  ];

  for (const [what, headers] of credentials) {
    it(`HUB-ID-06 ${what}: subscribe and unsubscribe get 401 text/plain`, async () => {
      const { wire } = await makeWire({ users: USERS });
      const sub = await wire.handle(formRequest(subscribeParams('T-id-06', 'Patient-open'), headers));
      expect(sub.status).toBe(401);
      expect(sub.headers.get('content-type')).toMatch(/^text\/plain\b/);
      expect(sub.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const ok = await wire.handle(formRequest(subscribeParams('T-id-06', 'Patient-open'), bearer));
      const endpoint = ((await ok.json()) as Record<string, string>)['hub.channel.endpoint']!;
      const unsub = await wire.handle(formRequest(unsubscribeParams('T-id-06', endpoint), headers));
      expect(unsub.status).toBe(401);
      expect(wire.isEndpoint(endpoint)).toBe(true);
    });

    it(`HUB-ID-06 ${what}: context changes on both paths and get-context get 401 OperationOutcome, and nothing changes`, async () => {
      const { wire } = await makeWire({ users: USERS });
      const ok = await wire.handle(formRequest(subscribeParams('T-id-06b', 'Patient-open'), bearer));
      const socket = new FakeSocket();
      wire.acceptSocket(((await ok.json()) as Record<string, string>)['hub.channel.endpoint']!, socket);
      for (const req of [jsonRequest(patientOpen('T-id-06b', 'p1'), headers), jsonRequest(patientOpen(undefined, 'p1'), headers, `${HUB_URL}/T-id-06b`), new Request(`${HUB_URL}/T-id-06b`, { headers })]) {
        const res = await wire.handle(req);
        expect(res.status, `${req.method} ${req.url}`).toBe(401);
        expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json\b/);
        expect(((await res.json()) as { issue: Array<{ code: string }> }).issue[0]!.code).toBe('login');
      }
      expect(socket.events).toEqual([]);
    });
  }

  it('HUB-ID-06 with the right Bearer every protected route works; .well-known and socket connects need none', async () => {
    const { wire } = await makeWire({ users: USERS });
    const sub = await wire.handle(formRequest(subscribeParams('T-id-06c', 'Patient-open'), { authorization: `bearer   ${SECRET}` }));
    expect(sub.status).toBe(202);
    const endpoint = ((await sub.json()) as Record<string, string>)['hub.channel.endpoint']!;
    const socket = new FakeSocket();
    expect(wire.acceptSocket(endpoint, socket)).toBeDefined();
    expect((await wire.handle(jsonRequest(patientOpen('T-id-06c', 'p1'), bearer))).status).toBe(202);
    expect((await wire.handle(jsonRequest(patientOpen(undefined, 'p2'), bearer, `${HUB_URL}/T-id-06c`))).status).toBe(202);
    const ctx = await wire.handle(new Request(`${HUB_URL}/T-id-06c`, { headers: bearer }));
    expect(ctx.status).toBe(200);
    expect(((await ctx.json()) as Record<string, unknown>)['context.type']).toBe('Patient');
    expect((await wire.handle(new Request(`${HUB_URL}/.well-known/fhircast-configuration`))).status).toBe(200);
    expect((await wire.handle(formRequest(unsubscribeParams('T-id-06c', endpoint), bearer))).status).toBe(202);
    expect(socket.events).toHaveLength(2);
  });

  it('HUB-ID-06 without a users file no Authorization is needed', async () => {
    const { wire } = await makeWire();
    expect((await wire.handle(formRequest(subscribeParams('T-id-06d', 'Patient-open')))).status).toBe(202);
    expect((await wire.handle(jsonRequest(patientOpen('T-id-06d', 'p1')))).status).toBe(202);
    expect((await wire.handle(new Request(`${HUB_URL}/T-id-06d`))).status).toBe(200);
  });
});
