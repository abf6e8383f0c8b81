import { expect, test } from '@playwright/test';
import { MODES, openApp, patientOpen, steadyAppAndRawPage, uniqueWorkerUrl } from './support.js';
import { HOST_PROTOCOL } from '../../src/link/messages.js';

for (const mode of MODES) {
  test(`HUB-CHANGE-07 HUB-SEC-09 bad calls through the typed API get a HubError with an OperationOutcome and change nothing (${mode})`, async ({ context }) => {
    const page = await openApp(context, mode);
    const topic = await page.evaluate(() => harness.hub.createTopic());
    await page.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-1')] as const);
    const before = await page.evaluate((t) => harness.hub.getContext(t), topic);

    const failures = await page.evaluate(async (t) => {
      const hub = harness.hub;
      const parts = (error: any) => ({ isHubError: error instanceof Tabcast.HubError, status: error.status, code: error.outcome?.issue?.[0]?.code, diagnostics: error.outcome?.issue?.[0]?.diagnostics });
      const attempt = (run: () => Promise<unknown>) => run().then(() => 'accepted', parts);
      const big = 'x'.repeat(2 * 1024 * 1024);
      return {
        contextNotArray: await attempt(() => hub.publish(t, { 'hub.event': 'Patient-open', context: 'nope' })),
        unknownEvent: await attempt(() => hub.publish(t, { 'hub.event': 'Nonsense', context: [] })),
        huge: await attempt(() => hub.publish(t, { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'big', text: big } }] })),
        notCloneable: await attempt(() => hub.publish(t, { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'f', f: () => 1 } }] })),
        topicNotString: await attempt(() => hub.subscribe({ topic: 42, events: ['Patient-open'] }, () => undefined)),
        eventsNotList: await attempt(() => hub.subscribe({ topic: t, events: 'Patient-open' }, () => undefined)),
        badLease: await attempt(() => hub.subscribe({ topic: t, events: ['Patient-open'], leaseSeconds: -5 }, () => undefined)),
        getContextOfObject: await attempt(() => hub.getContext({ topic: t })),
      };
    }, topic);
    expect(failures.contextNotArray).toMatchObject({ isHubError: true, status: 400 });
    expect(failures.unknownEvent).toMatchObject({ isHubError: true, status: 400, diagnostics: expect.stringContaining('Nonsense') });
    expect(failures.huge).toMatchObject({ isHubError: true, status: 413, code: 'too-long' });
    expect(failures.notCloneable).toMatchObject({ isHubError: true, status: 400, code: 'structure' });
    expect(failures.topicNotString).toMatchObject({ isHubError: true, status: 400, diagnostics: expect.stringContaining('topic') });
    expect(failures.eventsNotList).toMatchObject({ isHubError: true, status: 400, diagnostics: expect.stringContaining('events') });
    expect(failures.badLease).toMatchObject({ isHubError: true, status: 400, diagnostics: expect.stringContaining('lease') });
    expect(failures.getContextOfObject).toMatchObject({ isHubError: true, status: 400 });

    expect(await page.evaluate((t) => harness.hub.getContext(t), topic)).toEqual(before);
    expect((await page.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-2')] as const)).status).toBe(202);
  });
}

test('HUB-SEC-09 garbage on the worker\u2019s control and event ports is answered with errors and never stops the hub', async ({ context }, info) => {
  const workerUrl = uniqueWorkerUrl(info.testId);
  const { app, rogue, topic, before } = await steadyAppAndRawPage(context, workerUrl);
  const answers = await rogue.evaluate(async (url) => {
    const worker = new SharedWorker(url, { type: 'module', name: 'tabcast' });
    const port = worker.port;
    const replies = new Map<string, { promise: Promise<any>; resolve: (value: unknown) => void }>();
    const slot = (id: string) => {
      if (!replies.has(id)) {
        let resolve!: (value: unknown) => void;
        replies.set(id, { promise: new Promise((r) => (resolve = r)), resolve });
      }
      return replies.get(id)!;
    };
    port.onmessage = (e) => e.data && typeof e.data.id === 'string' && slot(e.data.id).resolve(e.data);
    const reply = (id: string) => slot(id).promise;
    const raw = (value: unknown) => ({ type: 'RAW', value });
    // Junk that is not even a call: nothing to answer, nothing must break.
    for (const junk of [null, 42, 'junk', { id: 7 }, { type: 'APPLY' }]) port.postMessage(junk);
    port.postMessage({ id: 'set', type: 'SET', path: ['publish'], value: raw(1) });
    port.postMessage({ id: 'args', type: 'APPLY', path: ['publish'], argumentList: 5 });
    port.postMessage({ id: 'ctor', type: 'APPLY', path: ['constructor'], argumentList: [] });
    port.postMessage({ id: 'early', type: 'APPLY', path: ['publish'], argumentList: [raw({})] });
    port.postMessage({ id: 'old', type: 'APPLY', path: ['hello'], argumentList: [raw({ protocol: 'x' })] });
    const events = new MessageChannel();
    const eventReplies: any[] = [];
    let threeErrors!: () => void;
    const gotThree = new Promise<void>((resolve) => (threeErrors = resolve));
    events.port1.onmessage = (e) => eventReplies.push(e.data) === 3 && threeErrors();
    port.postMessage({ id: 'hello', type: 'APPLY', path: ['hello'], argumentList: [raw({ protocol: 1, hubUrl: `${location.origin}/fhircast/hub`, events: events.port2 })] }, [events.port2]);
    await reply('hello');
    port.postMessage({ id: 'publish', type: 'APPLY', path: ['publish'], argumentList: [raw({ id: 5, event: 'x' })] });
    port.postMessage({ id: 'watch', type: 'APPLY', path: ['watch'], argumentList: [raw('tabcast:hub')] });
    for (const junk of ['junk', { t: 'ack' }, { t: 'ws-open', id: 5 }]) events.port1.postMessage(junk);
    const ids = ['set', 'args', 'ctor', 'early', 'old', 'hello', 'publish', 'watch'];
    const out: Record<string, any> = {};
    for (const id of ids) out[id] = await reply(id);
    await gotThree;
    return { calls: out, events: eventReplies };
  }, workerUrl);

  const thrown = (message: string) => ({ type: 'HANDLER', name: 'throw', value: { isError: true, value: { name: 'HubError', message: expect.stringContaining(message) } } });
  expect(answers.calls.set).toMatchObject(thrown('only method calls'));
  expect(answers.calls.args).toMatchObject(thrown('plain values'));
  expect(answers.calls.ctor).toMatchObject(thrown('unknown method'));
  const result = (status: number, code: string) => ({ type: 'RAW', value: { ok: false, error: { status, outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code }] } } } });
  // A call before hello is a 409 built by conflict(), whose OperationOutcome issue code is 'conflict'.
  expect(answers.calls.early).toMatchObject(result(409, 'conflict'));
  expect(answers.calls.old).toMatchObject(result(426, 'not-supported'));
  // A protocol-1 page is still served; the welcome names the host's own protocol.
  expect(answers.calls.hello).toMatchObject({ type: 'RAW', value: { ok: true, value: { protocol: HOST_PROTOCOL } } });
  expect(answers.calls.publish).toMatchObject(result(400, 'required'));
  expect(answers.calls.watch).toMatchObject(result(400, 'value'));
  expect(answers.events).toEqual([0, 1, 2].map(() => ({ t: 'error', error: { status: 400, outcome: expect.objectContaining({ resourceType: 'OperationOutcome' }) } })));

  // The hub and its stored context are intact.
  expect(await app.evaluate((t) => harness.hub.getContext(t), topic)).toEqual(before);
  expect((await app.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-2')] as const)).status).toBe(202);
});

test('garbage on the leader-tab bus is ignored and never stops the hub', async ({ context }) => {
  const app = await openApp(context, 'leader-tab', 'Steady');
  const topic = await app.evaluate(() => harness.hub.createTopic());
  await app.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-1')] as const);
  const before = await app.evaluate((t) => harness.hub.getContext(t), topic);
  const rogue = await context.newPage();
  await rogue.goto('/test-pages/app.html');
  await rogue.evaluate(async () => {
    const bus = new BroadcastChannel('tabcast:bus');
    const hostId = await new Promise<string>((resolve) => {
      bus.onmessage = (e) => e.data?.k === 'here' && e.data.to === 'rogue' && resolve(e.data.from);
      bus.postMessage({ k: 'find', from: 'rogue' });
    });
    for (const junk of [null, 'junk', { k: 'c' }, { k: 'c', from: 'rogue', to: hostId, d: 5 }, { k: 'e', from: 'rogue', to: hostId, d: { t: 'ack' } }, { k: 'c', from: 'rogue', to: hostId, d: { type: 'APPLY', path: ['hello'], argumentList: 3 } }]) {
      bus.postMessage(junk);
    }
    bus.close();
  });
  expect(await app.evaluate((t) => harness.hub.getContext(t), topic)).toEqual(before);
  expect((await app.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-2')] as const)).status).toBe(202);
});
