/**
 * Issue #19 L1 (HUB-SEC-15): in leader-tab mode every tab of the origin hears the bus, so secrets
 * in control calls (the getTopic secret, the Bearer secret of hub.fetch, a bridge token) must not
 * cross it in the clear. Another tab is played by a BroadcastChannel on the same bus name that
 * records everything; the calls themselves must still work.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { leaderTabTransport } from '../../../src/client/transports.js';
import { serveBus } from '../../../src/host/serve-bus.js';
import { Bus } from '../../../src/link/bus.js';
import { sealedLink, startRendezvous } from '../../../src/link/sealed-link.js';
import type { Link } from '../../../src/link/messages.js';
import { FakeLocks } from '../client/support/fake-locks.js';
import { openPage, startHost } from '../client/support/rig.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const APP_SECRET = 'app-secret-4f9c2e71';
const BRIDGE_TOKEN = 'bridge-token-8d1a55b0';
let busCount = 0;

describe('issue #19 L1: secrets never cross the leader-tab bus in the clear (HUB-SEC-15)', () => {
  it('L1 HUB-SEC-15 getTopic, a Bearer fetch and a bridge token reach the leader, and another tab on the bus sees none of them', async () => {
    const name = `tabcast-l1-${++busCount}`;
    const heard: unknown[] = [];
    const otherTab = new BroadcastChannel(name);
    otherTab.addEventListener('message', (event) => heard.push(event.data));
    cleanup.push(() => otherTab.close());

    const locks = new FakeLocks();
    const host = await startHost(locks);
    await host.hub.configureUsers({ secret: APP_SECRET, groups: [['alice', 'bob']] });
    const stop = serveBus(host.runtime, new Bus(host.runtime.hostId, name));
    cleanup.push(() => (stop(), host.die()));
    const page = await openPage(locks, leaderTabTransport(() => undefined, name), 'L1 page');
    cleanup.push(() => page.hub.close());

    const topic = await page.hub.getTopic('alice', APP_SECRET);
    expect(topic).toBe(await host.hub.getTopic('bob', APP_SECRET));
    const res = await page.hub.fetch(`http://127.0.0.1:5200/fhircast/hub/${encodeURIComponent(topic)}`, { headers: { authorization: `Bearer ${APP_SECRET}` } });
    expect(res.status).toBe(200);
    // The rig has no bridge registry: the call fails at the leader, after the token went there.
    await page.hub.bridge({ topic, remoteHubUrl: 'https://remote.example/fhircast/hub', token: BRIDGE_TOKEN }).catch(() => undefined);

    expect(heard.length).toBeGreaterThan(0);
    const text = JSON.stringify(heard, (_k, v: unknown) => (v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? Buffer.from(v as ArrayBuffer).toString('latin1') : v));
    expect(text).not.toContain(APP_SECRET);
    expect(text).not.toContain(BRIDGE_TOKEN);
  });

  it('L1 HUB-SEC-15 a sealed message opens only with the key of its rendezvous, in order, with its bodies intact', async () => {
    const a = await startRendezvous();
    const b = await startRendezvous();
    const eve = await startRendezvous();
    const [keyA, keyB, keyEve] = await Promise.all([a.derive(b.publicKey), b.derive(a.publicKey), eve.derive(a.publicKey)]);
    const wire: Array<(event: MessageEvent) => void> = [];
    const pipe = (listeners: typeof wire): Link => ({
      postMessage: (data) => queueMicrotask(() => listeners.forEach((l) => l({ data } as MessageEvent))),
      addEventListener: (_t, l) => listeners.push(l),
      removeEventListener: () => undefined,
    });
    const sender = sealedLink(pipe(wire), keyA);
    const got: unknown[] = [];
    const gotEve: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      sealedLink(pipe(wire), keyB).addEventListener('message', (e) => {
        got.push(e.data);
        if (got.length === 3) resolve();
      });
    });
    sealedLink(pipe(wire), keyEve).addEventListener('message', (e) => gotEve.push(e.data));
    sender.postMessage({ n: 1, secret: APP_SECRET });
    sender.postMessage({ n: 2, body: new Uint8Array([0, 255, 7]).buffer });
    sender.postMessage({ n: 3 });
    await done;
    expect(got.map((m: any) => m.n)).toEqual([1, 2, 3]);
    expect(new Uint8Array((got[1] as { body: ArrayBuffer }).body)).toEqual(new Uint8Array([0, 255, 7]));
    expect(gotEve).toEqual([]);
  });

  it('L1 HUB-SEC-15 on an origin without WebCrypto (plain http) leader-tab sessions still open, unsealed, as docs/security.md says', async () => {
    const name = `tabcast-l1-${++busCount}`;
    const realCrypto = globalThis.crypto;
    const locks = new FakeLocks();
    const host = await startHost(locks);
    // Only the bus ends lose WebCrypto: the engine keeps its own injected random source.
    vi.stubGlobal('crypto', { getRandomValues: realCrypto.getRandomValues.bind(realCrypto), randomUUID: realCrypto.randomUUID.bind(realCrypto) });
    cleanup.push(() => vi.unstubAllGlobals());
    const stop = serveBus(host.runtime, new Bus(host.runtime.hostId, name));
    cleanup.push(() => (stop(), host.die()));
    const page = await openPage(locks, leaderTabTransport(() => undefined, name), 'plain page');
    cleanup.push(() => page.hub.close());
    const topic = await page.hub.createTopic();
    expect(await host.hub.getContext(topic)).toBeDefined();
  });
});
