/**
 * Issue #7, engine entry points: every input the engine takes (publish bodies, subscribe inputs,
 * frames into ConnectionHandle.receive, close codes) under fast-check. Invariants: nothing throws
 * but a 4xx HubError, a rejected call changes no accepted state and sends nothing, and the
 * current context stays well-formed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import { contextKey } from '../../../src/hub/records.js';
import { makeHub, RecordingChannel } from '../support/harness.js';
import { anyFrame, anyJsonText, closeCode, mutate, nastyString, recipe, TOPICS } from './support/arbitraries.js';
import { ackAll, engineRig, expectNotificationFor, marks, newFrames, publishOutcome, versionFor } from './support/engine-rig.js';
import { acceptedState, expectClientRejection, expectWellFormedContext, settle, watchUnhandled } from './support/invariants.js';
import { recordStats, runs } from './support/sizes.js';

const topicArb = fc.oneof({ arbitrary: fc.constantFrom(...TOPICS), weight: 8 }, { arbitrary: nastyString, weight: 1 });

describe('hardening: engine publish', () => {
  it('HUB-CHANGE-13 HUB-CHANGE-14 any mutated request is accepted and broadcast once, or refused with a 4xx that changes nothing', async () => {
    const unhandled = watchUnhandled();
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(recipe(topicArb), { minLength: 1, maxLength: 8 }), async (recipes) => {
        const rig = await engineRig();
        for (const r of recipes) {
          const template = { ...r.template };
          const value = template.build(versionFor(rig, template)) as Record<string, unknown>;
          value.id = rig.nextId();
          const body = JSON.parse(mutate(value as never, r.mutations)) as any;
          const before = acceptedState(rig.hub);
          const since = marks(rig);
          const outcome = await publishOutcome(rig.hub, body);
          await settle();
          const sent = newFrames(rig, since);
          if (!outcome.ok) {
            refused++;
            expectClientRejection(outcome.error, `publish of ${JSON.stringify(body).slice(0, 300)}`);
            expect(sent.flat(), 'a refused request sent notifications').toStrictEqual([]);
            expect(acceptedState(rig.hub), 'a refused request changed the accepted state').toBe(before);
            continue;
          }
          accepted++;
          expect(outcome.id).toBe(body.id);
          const topic = String(body.event['hub.topic']).trim();
          rig.subscribers.forEach((sub, i) => {
            const frames = sent[i]!;
            for (const f of frames) expectNotificationFor(sub, f);
            const ids = frames.map((f) => f.id);
            expect(new Set(ids).size, `${sub.name} got a notification twice`).toBe(ids.length);
            if (sub.topic !== topic) expect(frames, `${sub.name} is on another topic`).toStrictEqual([]);
          });
          const worklist = rig.subscribers.find((s) => s.name === 'worklist')!;
          if (topic === worklist.topic) {
            const echo = sent[rig.subscribers.indexOf(worklist)]!.filter((f) => f.id === body.id);
            expect(echo, 'the * subscriber gets the accepted event exactly once (HUB-CHANGE-03/04)').toHaveLength(1);
            if (typeof body.timestamp === 'string') expect(echo[0].timestamp).toBe(body.timestamp);
          }
          expectWellFormedContext(rig.hub.getContext(topic));
          for (const t of TOPICS) expectWellFormedContext(rig.hub.getContext(t));
          ackAll(rig, since);
          await rig.hub.flush();
          expect(rig.hub.inspect().storage.ok).toBe(true);
          for (const s of rig.hub.inspect().topics.flatMap((t) => t.subscribers)) expect(s.pending, `${s.name} has unanswered notifications after acking all`).toBe(0);
        }
      }),
      runs(1),
    );
    unhandled.check();
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    recordStats('engine', 'publish: mutated catalog requests', { requests: accepted + refused, accepted, refused });
  }, 120_000);

  it('HUB-CHANGE-06 HUB-CHANGE-08 any JSON value or text as a body is refused with a 4xx and changes nothing', async () => {
    let n = 0;
    const rig = await engineRig();
    await fc.assert(
      fc.asyncProperty(anyJsonText, async (text) => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        const before = acceptedState(rig.hub);
        const since = marks(rig);
        const outcome = await publishOutcome(rig.hub, body);
        n++;
        if (outcome.ok) return; // a random value that happens to be a valid request is fine
        expectClientRejection(outcome.error);
        expect(newFrames(rig, since).flat()).toStrictEqual([]);
        expect(acceptedState(rig.hub)).toBe(before);
      }),
      runs(3),
    );
    recordStats('engine', 'publish: arbitrary JSON and text', { requests: n });
  }, 60_000);

  it('HUB-CHANGE-16 resends, duplicate ids and out-of-order timestamps are accepted and broadcast in arrival order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ patient: fc.constantFrom('pt-1', 'pt-2', 'pt-3'), id: fc.constantFrom('ev-1', 'ev-2'), at: fc.date({ min: new Date('2020-01-01Z'), max: new Date('2030-01-01Z'), noInvalidDate: true }) }), { minLength: 1, maxLength: 10 }),
        async (sends) => {
          const rig = await engineRig();
          const worklist = rig.subscribers[0]!;
          for (const s of sends) {
            const since = marks(rig);
            const outcome = await publishOutcome(rig.hub, {
              timestamp: s.at.toISOString(),
              id: s.id,
              event: { 'hub.topic': 'topic-a', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: s.patient } }] },
            });
            expect(outcome.ok).toBe(true);
            const echo = newFrames(rig, since)[0]!.filter((f) => f.id === s.id);
            expect(echo).toHaveLength(1);
            expect(echo[0].timestamp).toBe(s.at.toISOString());
            ackAll(rig, since);
          }
          const last = sends[sends.length - 1]!;
          const ctx = rig.hub.getContext('topic-a');
          expectWellFormedContext(ctx);
          expect(ctx.context[0]?.resource?.id, 'the last request to arrive is current, whatever its timestamp').toBe(last.patient);
          expect(worklist.channel.events.map((f) => f.id)).toStrictEqual(sends.map((s) => s.id));
        },
      ),
      runs(1),
    );
  });

  // Regression (issue #7, fixed in 36f6ec3): a body a few thousand levels deep (12 KB) used to be
  // applied and then could not be serialised: subscribers missed it, get-context failed for good and
  // the storage writer wedged. The engine now refuses it (assertPlainJson, 400).
  it('HUB-SEC-09 (engine) a deeply nested request is refused with a 4xx, or applied with everything still working', async () => {
    const rig = await engineRig();
    const deep = JSON.parse(`${'['.repeat(6000)}${']'.repeat(6000)}`);
    const outcome = await publishOutcome(rig.hub, {
      timestamp: '2026-03-02T09:15:00Z',
      id: 'deep-1',
      event: { 'hub.topic': 'topic-a', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'pt-deep', extension: deep } }] },
    });
    if (!outcome.ok) {
      expectClientRejection(outcome.error);
    } else {
      expect(rig.subscribers[0]!.channel.events.map((f) => f.id)).toContain('deep-1');
    }
    expectWellFormedContext(rig.hub.getContext('topic-a'));
    const next = await publishOutcome(rig.hub, { id: 'after-deep', event: { 'hub.topic': 'topic-b', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'pt-1' } }] } });
    expect(next.ok).toBe(true);
  });

  // Regression (issue #7, fixed in 36f6ec3): a record that could not be serialised wedged
  // CoalescingWriter (pending never cleared), so nothing was ever written again.
  it('HUB-PERSIST-05 (engine) a record that cannot be serialised does not stop later changes from becoming durable', async () => {
    const storage = memoryStorage();
    const { hub } = await makeHub({ storage });
    await publishOutcome(hub, {
      id: 'bigint-1',
      event: { 'hub.topic': 'topic-a', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'pt-9', weird: 10n } }] },
    });
    const next = await publishOutcome(hub, { id: 'after', event: { 'hub.topic': 'topic-b', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'pt-1' } }] } });
    expect(next.ok, 'a change on another topic is refused with 503').toBe(true);
    expect(JSON.stringify(storage.data.get(contextKey('topic-b', 'Patient', 'pt-1')))).toContain('pt-1');
  });

  // Regression (issue #7, fixed in 36f6ec3): a refused update or select on an unknown topic left an
  // empty topic entry behind (memory growth from refused requests).
  it('HUB-CHANGE-14 (engine) a refused update on an unknown topic leaves inspect() as it was', async () => {
    const rig = await engineRig();
    const before = rig.hub.inspect();
    const outcome = await publishOutcome(rig.hub, {
      id: 'upd-1',
      event: {
        'hub.topic': 'never-seen',
        'hub.event': 'DiagnosticReport-update',
        'context.versionId': 'v1',
        context: [
          { key: 'report', reference: { reference: 'DiagnosticReport/dr-1' } },
          { key: 'updates', resource: { resourceType: 'Bundle', type: 'transaction', entry: [] } },
        ],
      },
    });
    expect(outcome.ok).toBe(false);
    expect(rig.hub.inspect()).toStrictEqual(before);
  });
});

describe('hardening: engine subscribe, connect, frames, closes', () => {
  type Op =
    | { op: 'subscribe'; topic: string; events: string[]; lease?: number; endpoint?: number | string; name?: string }
    | { op: 'unsubscribe'; topic: string; endpoint: number | string }
    | { op: 'connect'; endpoint: number | string };

  const eventName = fc.oneof(fc.constantFrom('Patient-open', 'patient-OPEN', '*', 'DiagnosticReport-*', 'SyncError', 'heartbeat', 'open-imaging-study', 'Foo-*', 'Patient-*', 'org.example.x', ' ', ''), nastyString);
  const endpointRef = fc.oneof(fc.nat({ max: 20 }), nastyString);
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record(
      {
        op: fc.constant('subscribe' as const),
        topic: topicArb,
        events: fc.array(eventName, { maxLength: 4 }),
        lease: fc.oneof(fc.integer({ min: -5, max: 200_000 }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 0.5, 2 ** 60)),
        endpoint: endpointRef,
        name: nastyString,
      },
      { requiredKeys: ['op', 'topic', 'events'] },
    ),
    fc.record({ op: fc.constant('unsubscribe' as const), topic: topicArb, endpoint: endpointRef }),
    fc.record({ op: fc.constant('connect' as const), endpoint: endpointRef }),
  );

  it('HUB-SUB-07 HUB-SUB-09 HUB-SEC-04 any sequence of subscribe, unsubscribe and connect calls keeps the subscription table consistent', async () => {
    let calls = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
        const rig = await engineRig();
        const known: Array<{ endpoint: string; topic: string }> = rig.subscribers.map((s) => ({ endpoint: s.endpoint, topic: s.topic }));
        const resolve = (ref: number | string | undefined) => (typeof ref === 'number' ? known[ref % known.length]?.endpoint : ref);
        for (const op of ops) {
          calls++;
          const before = acceptedState(rig.hub);
          const countBefore = rig.hub.inspect().topics.reduce((n, t) => n + t.subscribers.length, 0);
          const channel = new RecordingChannel();
          let result: unknown;
          let error: unknown;
          try {
            if (op.op === 'subscribe') result = rig.hub.subscribe({ topic: op.topic, events: op.events, leaseSeconds: op.lease, endpoint: resolve(op.endpoint), subscriberName: op.name });
            else if (op.op === 'unsubscribe') result = rig.hub.unsubscribe(op.topic, resolve(op.endpoint) ?? '');
            else result = rig.hub.connect(resolve(op.endpoint) ?? '', channel);
          } catch (e) {
            error = e;
          }
          const count = rig.hub.inspect().topics.reduce((n, t) => n + t.subscribers.length, 0);
          if (error !== undefined) {
            expectClientRejection(error, op.op);
            expect([400, 404]).toContain((error as { status: number }).status);
            expect(acceptedState(rig.hub)).toBe(before);
            expect(channel.frames).toStrictEqual([]);
            continue;
          }
          if (op.op === 'subscribe') {
            const r = result as { endpoint: string; topic: string; leaseSeconds: number };
            expect(r.endpoint).toMatch(/^[A-Za-z0-9_-]{22}$/);
            expect(Number.isSafeInteger(r.leaseSeconds) && r.leaseSeconds >= 1 && r.leaseSeconds <= 86_400).toBe(true);
            expect(rig.hub.hasEndpoint(r.endpoint)).toBe(true);
            const existing = known.find((k) => k.endpoint === resolve(op.endpoint));
            if (existing) {
              expect(r.endpoint, 'a re-subscribe keeps its endpoint (HUB-SUB-11)').toBe(existing.endpoint);
              expect(existing.topic, 'an endpoint is bound to its topic (HUB-SEC-04)').toBe(r.topic);
              expect(count).toBe(countBefore);
            } else {
              expect(resolve(op.endpoint) === undefined || resolve(op.endpoint) === '').toBe(true);
              expect(count).toBe(countBefore + 1);
              known.push({ endpoint: r.endpoint, topic: r.topic });
            }
          } else if (op.op === 'unsubscribe') {
            expect(rig.hub.hasEndpoint(resolve(op.endpoint)!)).toBe(false);
            expect(count).toBe(countBefore - 1);
          } else {
            const first = channel.frames[0];
            expect(Object.keys(first).sort()).toStrictEqual(['hub.events', 'hub.lease_seconds', 'hub.mode', 'hub.topic']);
            expect(first['hub.mode']).toBe('subscribe');
            expect(first['hub.lease_seconds']).toBeGreaterThanOrEqual(0);
            expect(first['hub.lease_seconds']).toBeLessThanOrEqual(86_400);
          }
        }
      }),
      runs(1),
    );
    recordStats('engine', 'subscribe/unsubscribe/connect call sequences', { calls });
  }, 60_000);

  it('HUB-ACK-05 HUB-ACK-07 any frame a subscriber sends is ignored or taken as an answer; it never closes the socket or adds work', async () => {
    let frames = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat({ max: 3 }), anyFrame, fc.boolean()), { minLength: 1, maxLength: 15 }), async (sends) => {
        const rig = await engineRig();
        for (const p of ['pt-1', 'pt-2']) {
          await rig.hub.publish({ id: `open-${p}`, event: { 'hub.topic': 'topic-a', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: p } }] } });
        }
        for (const [who, frame, asText] of sends) {
          frames++;
          const sub = rig.subscribers[who]!;
          const pendingBefore = rig.hub.inspect().topics.flatMap((t) => t.subscribers).map((s) => s.pending);
          const since = marks(rig);
          let text: unknown = frame;
          if (asText) {
            try {
              text = JSON.stringify(frame) ?? frame;
            } catch {
              text = frame;
            }
          }
          sub.handle.receive(text);
          const pendingAfter = rig.hub.inspect().topics.flatMap((t) => t.subscribers).map((s) => s.pending);
          pendingAfter.forEach((p, i) => expect(p).toBeLessThanOrEqual(pendingBefore[i]!));
          for (const s of rig.subscribers) expect(s.channel.closedWith, `${s.name} was closed by a frame`).toBeUndefined();
          const sent = newFrames(rig, since);
          const syncErrors = sent.flat().filter((f) => f.event?.['hub.event'] === 'syncerror');
          if (syncErrors.length > 0) {
            // Only an answer with a failing status may cause a SyncError (HUB-SYNC-01, HUB-ACK-07).
            const obj = typeof frame === 'string' ? safeParse(frame) : frame;
            expect(typeof obj === 'object' && obj !== null && ('status' in obj || 'statusCode' in obj || 'id' in obj), `SyncError after ${show(text)}`).toBe(true);
          }
          expect(sent.flat().every((f) => f.event?.['hub.event'] === 'syncerror')).toBe(true);
        }
      }),
      runs(2),
    );
    recordStats('engine', 'frames into ConnectionHandle.receive', { frames });
  }, 60_000);

  it('HUB-SYNC-08 HUB-SYNC-09 HUB-TOLERANT-07 any close code: SyncError exactly when abnormal, and a second close is a no-op', async () => {
    let closes = 0;
    await fc.assert(
      fc.asyncProperty(closeCode, fc.boolean(), fc.boolean(), async (code, endSubscription, delivered) => {
        closes++;
        const rig = await engineRig();
        const viewer = rig.subscribers.find((s) => s.name === 'viewer')!;
        const reporting = rig.subscribers.find((s) => s.name === 'reporting')!;
        if (delivered) await rig.hub.publish({ id: 'ev-1', event: { 'hub.topic': 'topic-a', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'pt-1' } }] } });
        const since = marks(rig);
        viewer.handle.closed(code, { endSubscription });
        const normal = code === 1000 || code === 1001 || code === 1005;
        const errors = newFrames(rig, since).flat().filter((f) => f.event?.['hub.event'] === 'syncerror');
        expect(errors).toHaveLength(normal ? 0 : 2); // reporting and worklist subscribe to SyncError ('*' matches it too)
        if (!normal) {
          const codings = errors[0].event.context[0].resource.issue[0].details.coding;
          expect(codings.find((c: any) => c.system.endsWith('/eventid')).code).toBe(delivered ? 'ev-1' : 'none');
        }
        expect(rig.hub.hasEndpoint(viewer.endpoint)).toBe(!normal && !endSubscription);
        const again = marks(rig);
        viewer.handle.closed(1006);
        viewer.handle.receive({ id: 'ev-1', status: 500 });
        expect(newFrames(rig, again).flat()).toStrictEqual([]);
        expect(reporting.channel.closedWith).toBeUndefined();
      }),
      runs(2),
    );
    recordStats('engine', 'close codes', { closes });
  });
});

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

describe('hardening: engine rejections are HubErrors', () => {
  it('HUB-CHANGE-02 HUB-SEC-09 (engine) publish with any path topic: accepted only when the body names the same topic or none, else a 4xx that changes nothing', async () => {
    const rig = await engineRig();
    await fc.assert(
      fc.asyncProperty(fc.oneof(nastyString, fc.constant('room-1')), fc.option(fc.oneof(nastyString, fc.constant('room-1')), { nil: undefined }), async (pathTopic, bodyTopic) => {
        const before = acceptedState(rig.hub);
        const event: Record<string, unknown> = { 'hub.event': 'Home-open', context: [] };
        if (bodyTopic !== undefined) event['hub.topic'] = bodyTopic;
        const outcome = await publishOutcome(rig.hub, { id: 'x', event }, { pathTopic });
        if (!outcome.ok) {
          expectClientRejection(outcome.error);
          expect(acceptedState(rig.hub)).toBe(before);
        } else {
          // Accepted only when the body names no topic or the same one as the path (HUB-CHANGE-02).
          expect(bodyTopic === undefined || bodyTopic === pathTopic, `accepted with path ${JSON.stringify(pathTopic)} and body ${JSON.stringify(bodyTopic)}`).toBe(true);
        }
      }),
      runs(1),
    );
  });
});
