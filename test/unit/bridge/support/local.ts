/**
 * The local side of bridge tests: an engine, an app subscribed to it, events to publish, status waits.
 * Nothing here waits on real time: waits end on an event (a status change) or poll between turns
 * of the event loop, and a wait that never ends is cut by vitest's test timeout.
 */
import { Hub, type Clock } from '../../../../src/hub/index.js';
import { memoryStorage } from '../../../../src/adapters/memory-storage.js';
import { webCrypto } from '../../../../src/adapters/web-crypto.js';
import type { Bridge, BridgeState, BridgeStatus } from '../../../../src/bridge/index.js';
import type { ManualTimers } from './manual-timers.js';

/** A local engine as the worker builds it, minus IndexedDB, on the test's clock. Deadlines are off: nothing ticks it. */
export function localHub(clock: Clock): Promise<Hub> {
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

/** Resolves with the status once `test` holds (now or at a later change). */
export function waitForStatus(bridge: Bridge, test: (s: BridgeStatus) => boolean): Promise<BridgeStatus> {
  return new Promise((resolve) => {
    if (test(bridge.status())) return resolve(bridge.status());
    const off = bridge.onStatus((s) => {
      if (!test(s)) return;
      off();
      resolve(s);
    });
  });
}

/** Resolves once the bridge reaches `state`. */
export const waitForState = (bridge: Bridge, state: BridgeState) => waitForStatus(bridge, (s) => s.state === state);

/** Checks `test` after each turn of the event loop until it holds (for effects with no event to await). */
export async function until(test: () => boolean, _what: string): Promise<void> {
  // A wait that never ends fails on vitest's test timeout; `_what` names it for the reader.
  while (!test()) await new Promise((r) => setImmediate(r));
}

/** The anchor id of a topic's current context on an engine. */
export const currentPatient = (hub: Hub, topic: string) => (hub.getContext(topic).context.find((e) => e.key === 'patient')?.resource?.id as string | undefined);

/**
 * Runs each backoff the bridge waits on (the soonest manual timer, when it is no longer than
 * `maxBackoffMs`) until the bridge is connected again; between them the sockets and requests are real.
 */
export async function reconnected(bridge: Bridge, manual: ManualTimers, maxBackoffMs: number): Promise<void> {
  while (bridge.status().state !== 'connected') {
    const soonest = manual.delays()[0];
    if (soonest !== undefined && soonest <= maxBackoffMs) await manual.advance(soonest);
    else await new Promise((r) => setImmediate(r));
  }
}

/** What a three-restart test drives: the local side, the remote's publish log, and how to stop and relaunch it. */
export interface RestartRig {
  hub: Hub;
  app: ReturnType<typeof localApp>;
  bridge: Bridge;
  manual: ManualTimers;
  maxBackoffMs: number;
  localTopic: string;
  remoteTopic: string;
  /** Event ids the remote engine accepted, in order, across restarts. */
  published: string[];
  remotePublish(body: unknown): Promise<void>;
  stop(): Promise<void>;
  /** Starts the remote again on the same port and data; may check the relaunched remote. */
  relaunch(): Promise<void>;
}

/**
 * Three rounds of: a live event each way, the remote stopped, two local events queued while it is
 * down, the remote relaunched, the bridge reconnected on manual backoff and the queue delivered.
 * Returns the ids published locally and remotely, in order.
 */
export async function restartThreeTimes(rig: RestartRig): Promise<{ localIds: string[]; remoteIds: string[] }> {
  const { hub, app, bridge, published } = rig;
  const localIds: string[] = [];
  const remoteIds: string[] = [];
  for (let round = 1; round <= 3; round++) {
    const live = `L${round}-live`;
    await hub.publish(patientOpen(rig.localTopic, `p${round}a`, live));
    localIds.push(live);
    await until(() => published.includes(live), `${live} at the remote`);
    const far = `R${round}`;
    await rig.remotePublish(patientOpen(rig.remoteTopic, `r${round}`, far));
    remoteIds.push(far);
    await until(() => app.ids().includes(far), `${far} locally`);

    await rig.stop();
    await waitForState(bridge, 'reconnecting');
    for (const tag of ['b', 'c']) {
      const queued = `L${round}-queued-${tag}`;
      await hub.publish(patientOpen(rig.localTopic, `p${round}${tag}`, queued));
      localIds.push(queued);
    }
    await rig.relaunch();
    await reconnected(bridge, rig.manual, rig.maxBackoffMs);
    await until(() => published.includes(`L${round}-queued-c`), `round ${round}'s queue at the remote`);
  }
  return { localIds, remoteIds };
}
