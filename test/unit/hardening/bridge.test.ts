/**
 * Issue #7, frames from a hostile remote hub into the bridge (mock-socket remote, manual timers):
 * garbage, notifications of every shape, wrong topics, duplicates, confirmations and denials with
 * odd values. Invariants: no exception escapes, the local hub stays well-formed and its storage
 * healthy, every local notification is for the local topic, and the bridge ends in a state it can
 * explain (or keeps relaying).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../bridge/support/local.js';
import { cleanupMocks, LOCAL, mockBridge, REMOTE } from '../bridge/support/mock-setup.js';
import { anyFrame, mutate, nastyString, recipe } from './support/arbitraries.js';
import { expectWellFormedContext, watchUnhandled } from './support/invariants.js';
import { recordStats, runs } from './support/sizes.js';

afterEach(async () => {
  await cleanupMocks();
});

/** A notification as a remote hub would send it, from a (possibly damaged) request recipe. */
const remoteNotification = fc
  .tuple(recipe(fc.constantFrom(REMOTE, REMOTE, 'T-elsewhere'), 60), fc.oneof(fc.constantFrom('n-1', 'n-2', 'n-3'), nastyString, fc.constant(undefined)))
  .map(([r, id]) => {
    const value = r.template.build('v-remote') as Record<string, unknown>;
    if (id === undefined) delete value.id;
    else value.id = id;
    return mutate(value as never, r.mutations);
  });

const controlFrame = fc.oneof(
  fc.record({ 'hub.mode': fc.constantFrom('subscribe', 'SUBSCRIBE'), 'hub.topic': fc.oneof(fc.constant(REMOTE), nastyString), 'hub.events': fc.oneof(fc.constant('*'), nastyString), 'hub.lease_seconds': fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constantFrom(1e12, -1, 0)) }, { requiredKeys: ['hub.mode'] }),
  fc.record({ timestamp: fc.string(), id: fc.string(), event: fc.record({ 'hub.topic': fc.constant(REMOTE), 'hub.event': fc.constantFrom('heartbeat', 'HEARTBEAT'), context: fc.array(fc.record({ key: fc.constant('period'), decimal: fc.oneof(fc.string(), fc.double(), fc.constantFrom('0', '1e9', '-5')) })) }) }),
  fc.record({ header: fc.anything(), body: fc.record({ id: fc.string(), event: fc.record({ 'hub.topic': fc.constant(REMOTE), 'hub.event': fc.constant('Patient-open'), context: fc.anything() }) }) }),
);

const hostileFrame = fc.oneof(
  { arbitrary: remoteNotification, weight: 5 },
  { arbitrary: controlFrame.map((f) => JSON.stringify(f)), weight: 2 },
  { arbitrary: anyFrame.map((f) => (typeof f === 'string' ? f : safeStringify(f))), weight: 2 },
);

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return '"unserialisable"';
  }
}

describe('hardening: frames from a hostile remote hub into the bridge', () => {
  it('HUB-SEC-09 any frames from the remote: nothing escapes, the local hub stays well-formed and healthy, and only local-topic events appear locally', async () => {
    const unhandled = watchUnhandled();
    let frames = 0;
    const states = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(hostileFrame, { minLength: 1, maxLength: 10 }), async (sends) => {
        await cleanupMocks(); // mock-socket allows one server per URL: the last run's remote goes first
        const setup = await mockBridge();
        for (const text of sends) {
          frames++;
          if (!setup.remote.socket) break; // the bridge closed the socket (a denial, or a bad confirmation)
          setup.remote.send(text);
          await setup.timers.advance(0);
        }
        await setup.timers.advance(100);
        await setup.hub.flush();
        expect(setup.hub.inspect().storage.ok, 'the local hub still stores').toBe(true);
        expectWellFormedContext(setup.hub.getContext(LOCAL));
        for (const e of setup.app.events) {
          expect(e.event['hub.topic']).toBe(LOCAL);
          expect(typeof e.id).toBe('string');
          expect(Array.isArray(e.event.context)).toBe(true);
        }
        const status = setup.bridge.status();
        states.set(status.state, (states.get(status.state) ?? 0) + 1);
        expect(['connected', 'reconnecting', 'connecting', 'denied', 'stopped']).toContain(status.state);
        if (status.state === 'denied' || status.state === 'stopped') expect(status.lastError?.length ?? 0, 'a final state says why').toBeGreaterThan(0);
        await setup.bridge.stop();
      }),
      runs(1),
    );
    unhandled.check();
    recordStats('bridge', 'frames from a hostile remote hub', { frames, ...Object.fromEntries([...states].map(([s, n]) => [`ended ${s}`, n])) });
  }, 120_000);

  it('HUB-SEC-09 after any garbage that does not end the session, a valid remote event still reaches the local topic', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyFrame.map((f) => (typeof f === 'string' ? f : safeStringify(f))), { minLength: 1, maxLength: 8 }), async (junk) => {
        await cleanupMocks();
        const setup = await mockBridge();
        for (const text of junk) setup.remote.send(text);
        await setup.timers.advance(0);
        if (setup.bridge.status().state !== 'connected') return;
        setup.remote.send(setup.remote.notification('valid-1', 'Patient-open', [{ key: 'patient', resource: { resourceType: 'Patient', id: 'pt-after' } }]));
        await setup.timers.advance(0);
        await setup.hub.flush();
        expect(setup.hub.getContext(LOCAL).context[0]?.resource?.id).toBe('pt-after');
      }),
      runs(0.5),
    );
  });

  // Regression (issue #7, fixed in 5adfae5): a remote notification whose context held `null` made
  // anchorOf read `.key` of null; the TypeError escaped the socket listener and the event was never
  // answered. Now the local hub refuses it and the bridge answers 400.
  it('HUB-SEC-09 a remote notification whose context holds null is answered 400, and nothing escapes', async () => {
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onError);
    try {
      const setup = await mockBridge();
      let thrown: unknown;
      try {
        setup.remote.send(`{"id":"null-entry","timestamp":"2026-03-02T09:15:00Z","event":{"hub.topic":"${REMOTE}","hub.event":"Patient-open","context":[null]}}`);
      } catch (error) {
        thrown = error; // mock-socket delivers synchronously: the listener's exception lands here
      }
      await setup.timers.advance(0);
      expect(thrown).toBeUndefined();
      // The answer crosses mock-socket's own delivery delay.
      await until(() => setup.remote.acks.some((a) => a.id === 'null-entry'), 'the answer to null-entry');
      expect(errors).toStrictEqual([]);
      expect(setup.remote.acks.find((a) => a.id === 'null-entry')?.status).toBe(400);
    } finally {
      process.off('uncaughtException', onError);
    }
  });

  // Regression (issue #7, fixed in 36f6ec3): a remote notification thousands of levels deep was
  // published on the local engine, which then wedged its storage. The engine now refuses it.
  it('HUB-SEC-09 a deeply nested remote event does not break the local hub', async () => {
    const setup = await mockBridge();
    setup.remote.send(`{"id":"deep","timestamp":"2026-03-02T09:15:00Z","event":{"hub.topic":"${REMOTE}","hub.event":"Patient-open","context":[{"key":"patient","resource":{"resourceType":"Patient","id":"pt-deep","x":${'['.repeat(6000)}${']'.repeat(6000)}}}]}}`);
    await setup.timers.advance(0);
    await setup.hub.flush();
    const after = await setup.hub.publish({ id: 'local-after', event: { 'hub.topic': 'T-other', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p' } }] } }).then(
      () => 202,
      (e: { status?: number }) => e.status,
    );
    expect(after, 'a local change on another topic').toBe(202);
  });

  // Regression (issue #7, fixed in 5adfae5): remote frames had no size limit, so a remote hub could
  // push a 2 MiB event into the local topic; frames over 1 MiB are now refused with 413.
  it('HUB-SEC-08 a remote event over 1 MiB is not published on the local topic', async () => {
    const setup = await mockBridge();
    setup.remote.send(setup.remote.notification('huge', 'Patient-open', [{ key: 'patient', resource: { resourceType: 'Patient', id: 'pt-huge', text: 'x'.repeat(2 * 1024 * 1024) } }]));
    await setup.timers.advance(0);
    expect(setup.hub.getContext(LOCAL).context[0]?.resource?.id).not.toBe('pt-huge');
  });
});
