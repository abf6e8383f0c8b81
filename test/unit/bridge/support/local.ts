/** The local side of bridge tests: an engine, an app subscribed to it, events to publish, status waits. */
import { Hub, type Clock } from '../../../../src/hub/index.js';
import { memoryStorage } from '../../../../src/adapters/memory-storage.js';
import { systemClock } from '../../../../src/adapters/system-clock.js';
import { webCrypto } from '../../../../src/adapters/web-crypto.js';
import type { Bridge, BridgeState, BridgeStatus } from '../../../../src/bridge/index.js';

/** A local engine as the worker builds it, minus IndexedDB. Deadlines are off: nothing ticks it. */
export function localHub(clock: Clock = systemClock): Promise<Hub> {
  return Hub.create({ clock, crypto: webCrypto, storage: memoryStorage(), heartbeatMs: 0, ackTimeoutMs: 0 });
}

/** A local application subscribed to every event of `topic`; it acks each notification with 200. */
export function localApp(hub: Hub, topic: string) {
  const events: any[] = [];
  const sub = hub.subscribe({ topic, events: ['*'], subscriberName: 'local app' });
  let handle: { receive(frame: unknown): void } | undefined;
  handle = hub.connect(sub.endpoint, {
    send(frame: any) {
      if (!frame.event || frame.event['hub.event'] === 'heartbeat') return;
      events.push(JSON.parse(JSON.stringify(frame)));
      void Promise.resolve().then(() => handle?.receive({ id: frame.id, status: 200 }));
    },
    close() {},
  });
  return {
    events,
    ids: () => events.map((e) => e.id as string),
    named: (name: string) => events.filter((e) => e.event['hub.event'] === name),
  };
}

/** A Patient-open request for patient `pid` on `topic`. */
export function patientOpen(topic: string, pid: string, id = `ev-${pid}-${Math.random().toString(36).slice(2, 8)}`) {
  return {
    id,
    timestamp: new Date().toISOString(),
    event: { 'hub.topic': topic, 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: pid } }] },
  };
}

/** Resolves with the status once `test` holds (now or at a later change); rejects after `ms`. */
export function waitForStatus(bridge: Bridge, test: (s: BridgeStatus) => boolean, ms = 15_000): Promise<BridgeStatus> {
  return new Promise((resolve, reject) => {
    if (test(bridge.status())) return resolve(bridge.status());
    const timer = setTimeout(() => {
      off();
      reject(new Error(`bridge status never matched; last ${JSON.stringify(bridge.status())}`));
    }, ms);
    const off = bridge.onStatus((s) => {
      if (!test(s)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

/** Resolves once the bridge reaches `state`. */
export const waitForState = (bridge: Bridge, state: BridgeState, ms?: number) => waitForStatus(bridge, (s) => s.state === state, ms);

/** Polls `test` on real time until it holds (for effects that have no event to await). */
export async function until(test: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The anchor id of a topic's current context on an engine. */
export const currentPatient = (hub: Hub, topic: string) => (hub.getContext(topic).context.find((e) => e.key === 'patient')?.resource?.id as string | undefined);
