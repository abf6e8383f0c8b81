/**
 * Issue #7, the browser runtime's doors in node (Node's MessageChannel stands in for the
 * SharedWorker's ports): Comlink calls with arbitrary arguments, raw messages on the control and
 * events ports, and bridge tokens that must stay in the host's memory. Invariants: every call
 * settles with a Result whose error is a 4xx OperationOutcome, nothing the page sends reaches the
 * host's error log, a refused call changes no state, and the host keeps serving.
 */
import fc from 'fast-check';
import { transfer, wrap, type Endpoint } from 'comlink';
import { WebSocket as MockWebSocket } from 'mock-socket';
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import { webCrypto } from '../../../src/adapters/web-crypto.js';
import { BridgeRegistry, type BridgeKv } from '../../../src/bridge/index.js';
import { Hub } from '../../../src/hub/index.js';
import { holdLock, randomId } from '../../../src/link/locks.js';
import { CLIENT_LOCK_PREFIX, HOST_METHODS, type HostApi, type Link } from '../../../src/link/messages.js';
import { HostRuntime } from '../../../src/host/runtime.js';
import { ManualTimers } from '../bridge/support/manual-timers.js';
import { ScriptedRemote } from '../bridge/support/scripted-remote.js';
import { FakeLocks } from '../client/support/fake-locks.js';
import { anyFrame, mutate, nastyString, recipe } from './support/arbitraries.js';
import { acceptedState, expectWellFormedContext, watchUnhandled } from './support/invariants.js';
import { recordStats, runs } from './support/sizes.js';

const HUB_URL = 'http://127.0.0.1:5200/fhircast/hub';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A host as the SharedWorker builds it (memory storage instead of IndexedDB), recording its internal errors. */
async function startHost(options: { bridges?: (hub: Hub) => BridgeRegistry } = {}) {
  const locks = new FakeLocks();
  const hub = await Hub.create({ clock: { now: () => Date.now() }, crypto: webCrypto, storage: memoryStorage(), heartbeatMs: 0 });
  const internal: unknown[] = [];
  const runtime = await HostRuntime.start({ hub, locks: locks.context(), bridges: options.bridges?.(hub), bodyLimitBytes: 64 * 1024, onInternalError: (e) => internal.push(e) });
  return { hub, runtime, locks, internal };
}

type Host = Awaited<ReturnType<typeof startHost>>;

/** A page talking to the host over raw ports: Comlink on the control port, tagged messages on the events port. */
async function rawPage(host: Host) {
  const control = new MessageChannel();
  host.runtime.accept(control.port1 as unknown as Link);
  const api = wrap<HostApi>(control.port2 as unknown as Endpoint);
  const events = new MessageChannel();
  const messages: any[] = [];
  events.port1.on('message', (m: unknown) => messages.push(m));
  const welcome = await api.hello(transfer({ protocol: 1, hubUrl: HUB_URL, events: events.port2 as unknown as MessagePort }, [events.port2 as unknown as Transferable]));
  expect(welcome.ok).toBe(true);
  const lock = `${CLIENT_LOCK_PREFIX}${randomId()}`;
  const lockContext = host.locks.context();
  await holdLock(lockContext, lock);
  expect((await api.watch(lock)).ok).toBe(true);
  const close = () => {
    control.port2.close();
    events.port1.close();
  };
  cleanups.push(close);
  return { api, control: control.port2, events: events.port1, messages, lockContext, close };
}

/** Awaits a host call, failing clearly if it never settles (a hang is a finding, not a timeout). */
async function settled(call: Promise<unknown>, what: string): Promise<any> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} never settled`)), 5000)));
  try {
    return await Promise.race([call, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Checks a Result: ok, or an error whose status is a 4xx (501 only for bridges on a host without them) with an OperationOutcome. */
function expectResult(result: any, what: string, allow501 = false): void {
  expect(typeof result, what).toBe('object');
  if (result.ok === true) return;
  expect(result.ok, what).toBe(false);
  const { status, outcome } = result.error;
  if (!(allow501 && status === 501)) {
    expect(status, `${what}: ${JSON.stringify(outcome)}`).toBeGreaterThanOrEqual(400);
    expect(status, `${what}: ${JSON.stringify(outcome)}`).toBeLessThan(500);
  }
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue[0].severity).toBe('error');
  expect(outcome.issue[0].diagnostics.length).toBeGreaterThan(0);
}

const anyArg = fc.oneof(
  fc.anything({ maxDepth: 3, withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withDate: true, withNullPrototype: true, withSparseArray: true }),
  nastyString,
  fc.constantFrom(undefined, null, '', 'x'.repeat(70_000), -1, 1e308, Number.NaN),
);

describe('hardening: Comlink calls into the host', () => {
  it('HUB-SEC-09 any method with any arguments settles with a Result: value, or a 4xx OperationOutcome; a refusal changes nothing', async () => {
    const unhandled = watchUnhandled();
    let calls = 0;
    const host = await startHost();
    const methods = HOST_METHODS.filter((m) => m !== 'hello' && m !== 'bye');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...methods), fc.array(anyArg, { maxLength: 3 })), { minLength: 1, maxLength: 8 }), async (sequence) => {
        const page = await rawPage(host);
        for (const [method, args] of sequence) {
          calls++;
          const before = acceptedState(host.hub);
          const call = (page.api as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(...args);
          let result: any;
          try {
            result = await settled(call, method);
          } catch (error) {
            // Comlink could not clone an argument on the page's side: the host never saw the call.
            expect(String(error), method).toMatch(/DataCloneError|could not be cloned|never settled/);
            expect(String(error)).not.toMatch(/never settled/);
            continue;
          }
          expectResult(result, `${method}(${args.map((a) => typeof a).join(', ')})`, method === 'bridge');
          if (!result.ok) expect(acceptedState(host.hub), `a refused ${method} changed the hub`).toBe(before);
        }
        page.close();
      }),
      runs(1),
    );
    expect(host.internal, 'nothing a page sent was the host\u2019s own fault').toStrictEqual([]);
    const page = await rawPage(host);
    const ok = (await page.api.publish({ id: 'after', event: { 'hub.topic': 'T', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p' } }] } })) as any;
    expect(ok.ok).toBe(true);
    unhandled.check();
    recordStats('browser runtime (node)', 'Comlink calls with arbitrary arguments', { calls });
  }, 60_000);

  it('HUB-CHANGE-14 mutated context changes through publish(): accepted, or a 4xx that changes nothing', async () => {
    const host = await startHost();
    const page = await rawPage(host);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(recipe(fc.constantFrom('topic-a', 'topic-b'), 300), async (r) => {
        n++;
        const value = r.template.build(undefined) as Record<string, unknown>;
        value.id = `rq-${n}`;
        const body = JSON.parse(mutate(value as never, r.mutations));
        const before = acceptedState(host.hub);
        const result = (await settled(page.api.publish(body), 'publish')) as any;
        expectResult(result, 'publish');
        if (!result.ok) expect(acceptedState(host.hub)).toBe(before);
        expectWellFormedContext((await page.api.getContext('topic-a') as any).value);
        expect(host.hub.inspect().storage.ok).toBe(true);
      }),
      runs(1),
    );
    expect(host.internal).toStrictEqual([]);
    recordStats('browser runtime (node)', 'mutated context changes through Comlink publish', { calls: n });
  }, 60_000);

  it('HUB-SEC-09 raw messages on the control port get an error reply or a Result, and the session keeps working', async () => {
    const host = await startHost();
    let n = 0;
    const comlinkish = fc.record(
      {
        id: fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)),
        type: fc.constantFrom('APPLY', 'GET', 'SET', 'CONSTRUCT', 'ENDPOINT', 'RELEASE', 'apply', ''),
        // A well-formed `bye` ends the session on purpose (the full-size run found one): it is not garbage.
        path: fc.oneof(fc.array(fc.constantFrom(...HOST_METHODS.filter((m) => m !== 'bye'), 'constructor', '__proto__', 'then', 'api'), { maxLength: 3 }), anyArg),
        argumentList: fc.oneof(fc.array(fc.oneof(fc.record({ type: fc.constant('RAW'), value: anyArg }), fc.record({ type: fc.constantFrom('HANDLER', 'PROXY'), name: fc.constantFrom('proxy', 'throw'), value: anyArg })), { maxLength: 3 }), anyArg),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(comlinkish, anyArg), { minLength: 1, maxLength: 6 }), async (messages) => {
        const page = await rawPage(host);
        const replies: any[] = [];
        page.control.on('message', (m: unknown) => replies.push(m));
        for (const m of messages) {
          n++;
          try {
            page.control.postMessage(m);
          } catch {
            continue; // not cloneable: never sent
          }
        }
        // A real call after the garbage: its reply proves every earlier message was handled.
        const topic = (await settled(page.api.createTopic(), 'createTopic after garbage')) as any;
        expect(topic.ok).toBe(true);
        for (const r of replies) {
          if (r?.type === 'HANDLER') expect(r.name).toBe('throw');
          if (r?.type === 'RAW' && r.value && typeof r.value === 'object' && 'ok' in r.value) expectResult(r.value, 'raw APPLY', true);
        }
        page.close();
      }),
      runs(1),
    );
    expect(host.internal).toStrictEqual([]);
    recordStats('browser runtime (node)', 'raw messages on the control port', { messages: n });
  }, 60_000);

  it('HUB-SEC-09 raw messages on the events port: malformed ones are answered with an error message, acks and sockets stay sane', async () => {
    const host = await startHost();
    let n = 0;
    const clientMessage = fc.oneof(
      fc.record({ t: fc.constant('ack'), sub: fc.oneof(fc.constant('s1'), nastyString), id: fc.oneof(fc.string(), fc.integer()), status: fc.oneof(fc.integer({ min: -1, max: 999 }), fc.double(), fc.string()) }, { requiredKeys: [] }),
      fc.record({ t: fc.constant('ws-open'), id: fc.oneof(fc.constant('w1'), fc.string()), url: fc.oneof(fc.constantFrom(`${HUB_URL}/topic-a`, 'ws://127.0.0.1:5200/fhircast/hub/ws/nope', 'http://[', ''), nastyString) }, { requiredKeys: [] }),
      fc.record({ t: fc.constant('ws-frame'), id: fc.oneof(fc.constant('w1'), fc.string()), data: fc.oneof(fc.string(), anyFrame) }, { requiredKeys: [] }),
      fc.record({ t: fc.constant('ws-close'), id: fc.oneof(fc.constant('w1'), fc.string()), code: fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.double()), reason: fc.oneof(fc.string(), anyArg) }, { requiredKeys: [] }),
      anyArg,
    );
    await fc.assert(
      fc.asyncProperty(fc.array(clientMessage, { minLength: 1, maxLength: 8 }), async (messages) => {
        const page = await rawPage(host);
        const sub = (await page.api.subscribe('s1', { topic: 'room-7', events: ['Patient-open'] })) as any;
        expect(sub.ok).toBe(true);
        for (const m of messages) {
          n++;
          try {
            page.events.postMessage(m);
          } catch {
            continue;
          }
        }
        // After the garbage the subscription still gets its events.
        const id = `ev-${n}`;
        const published = (await page.api.publish({ id, event: { 'hub.topic': 'room-7', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p' } }] } })) as any;
        expect(published.ok).toBe(true);
        await settled(
          new Promise<void>((resolve) => {
            const look = () => (page.messages.some((m) => m.t === 'event' && m.frame.id === id) ? resolve() : page.events.once('message', () => setImmediate(look)));
            look();
          }),
          'the event after the garbage',
        );
        for (const m of page.messages) {
          expect(['event', 'ended', 'ws-open', 'ws-frame', 'ws-close', 'log', 'bridge', 'error']).toContain(m.t);
          if (m.t === 'error') expect(m.error.status).toBeLessThan(500);
        }
        expect((await page.api.unsubscribe('s1')) as any).toMatchObject({ ok: true });
        page.close();
      }),
      runs(1),
    );
    expect(host.internal).toStrictEqual([]);
    recordStats('browser runtime (node)', 'raw messages on the events port', { messages: n });
  }, 60_000);
});

describe('hardening: bridge tokens stay in the host (docs/security.md)', () => {
  it('a bridge token is used for the remote hub, but never stored, never in a status, and never sent to any page', async () => {
    const TOKEN = `tok-${randomId()}`;
    const remote = new ScriptedRemote('T-remote');
    remote.acceptToken = TOKEN;
    cleanups.push(() => remote.stop());
    const kvWrites: string[] = [];
    const kvData = new Map<string, unknown>();
    const kv: BridgeKv = {
      get: async (k) => kvData.get(k),
      set: async (k, v) => {
        kvWrites.push(JSON.stringify(v));
        kvData.set(k, JSON.parse(JSON.stringify(v)));
      },
      del: async (k) => {
        kvData.delete(k);
      },
    };
    const timers = new ManualTimers();
    let registry: BridgeRegistry | undefined;
    const host = await startHost({
      bridges: (hub) => (registry = new BridgeRegistry({ hub, kv, fetch: remote.fetch, WebSocket: MockWebSocket, clock: timers.clock, timers: timers.timers, random: () => 0.5 })),
    });
    cleanups.push(() => registry?.shutdown());
    const owner = await rawPage(host);
    const other = await rawPage(host);
    expect((await other.api.observe(true)) as any).toMatchObject({ ok: true });
    const replies: unknown[] = [];
    const opened = (await owner.api.bridge({ topic: 'T-local', remoteHubUrl: remote.hubUrl, remoteTopic: 'T-remote', token: TOKEN })) as any;
    replies.push(opened);
    expect(opened.ok, JSON.stringify(opened)).toBe(true);
    // The other tab watches the bridge, reads everything it can, and the bridge relays an event.
    replies.push(await other.api.watchBridge(opened.value.id), await other.api.inspect(), await owner.api.inspect());
    await settled(
      (async () => {
        while (!remote.socket) await new Promise((r) => setImmediate(r));
      })(),
      'the bridge connecting',
    );
    remote.send(remote.notification('remote-1', 'Patient-open', [{ key: 'patient', resource: { resourceType: 'Patient', id: 'pt-remote' } }]));
    await settled(
      (async () => {
        while (host.hub.getContext('T-local')['context.type'] !== 'Patient') await new Promise((r) => setImmediate(r));
      })(),
      'the remote event arriving',
    );
    replies.push(await other.api.getContext('T-local'), await other.api.stopBridge(opened.value.id));
    expect(remote.requests.some((r) => r.authorization === `Bearer ${TOKEN}`), 'the token was used with the remote hub').toBe(true);
    const seenByPages = JSON.stringify([owner.messages, other.messages, replies]);
    expect(other.messages.some((m) => m.t === 'bridge'), 'the other tab got status messages').toBe(true);
    expect(seenByPages).not.toContain(TOKEN);
    expect(kvWrites.length).toBeGreaterThan(0);
    expect(kvWrites.join('\n'), 'the stored configuration').not.toContain(TOKEN);
    expect(JSON.stringify(host.hub.inspect())).not.toContain(TOKEN);
    expect(host.internal).toStrictEqual([]);
  });
});
