/**
 * A host and its clients in one node process: the engine over memory storage, the host runtime,
 * and pages connected over Node's MessageChannel, exactly as the SharedWorker door connects them.
 */
import { memoryStorage } from '../../../../src/adapters/memory-storage.js';
import { webCrypto } from '../../../../src/adapters/web-crypto.js';
import { HubClient } from '../../../../src/client/hub-client.js';
import { openSession } from '../../../../src/client/session.js';
import type { Transport } from '../../../../src/client/transports.js';
import { Hub, type HubOptions, type HubStorage } from '../../../../src/hub/index.js';
import type { BridgeRegistryLike } from '../../../../src/host/bridges.js';
import type { Link } from '../../../../src/link/messages.js';
import { HostRuntime, type HostRuntimeOptions } from '../../../../src/host/runtime.js';
import { FakeLocks, type LockContext } from './fake-locks.js';

/** The hub.url of every rig. */
export const HUB_URL = 'http://127.0.0.1:5200/fhircast/hub';

/** A running host: `die()` is a terminated worker (ports dead, locks freed). */
export interface RigHost {
  hub: Hub;
  runtime: HostRuntime;
  die(): void;
}

/** A host over `storage`, its locks in `locks`. */
export async function startHost(
  locks: FakeLocks,
  storage: HubStorage = memoryStorage(),
  options: Partial<HubOptions> = {},
  bridges?: BridgeRegistryLike,
  runtimeOptions: Partial<HostRuntimeOptions> = {},
): Promise<RigHost> {
  const context = locks.context();
  const hub = await Hub.create({ clock: { now: () => Date.now() }, crypto: webCrypto, storage, heartbeatMs: 0, ...options });
  const runtime = await HostRuntime.start({ hub, locks: context, bridges, ...runtimeOptions });
  const ports: MessagePort[] = [];
  const accept = runtime.accept.bind(runtime);
  runtime.accept = (control, events, onEnded) => {
    ports.push(control as unknown as MessagePort);
    return accept(control, events, onEnded);
  };
  return {
    hub,
    runtime,
    die() {
      for (const port of ports) port.close();
      context.die();
    },
  };
}

/** A transport to whichever host `current()` names at the time of each (re)connect. */
export function channelTransport(current: () => RigHost): Transport {
  return async () => {
    const control = new MessageChannel();
    current().runtime.accept(control.port1 as unknown as Link);
    const events = new MessageChannel();
    return {
      control: control.port2 as unknown as Link,
      events: events.port1 as unknown as Link,
      hostEvents: events.port2,
      failed: new Promise(() => undefined),
      dispose() {
        control.port2.close();
        events.port1.close();
      },
    };
  };
}

/** A page: its own lock context and a connected hub client. */
export interface RigPage {
  hub: HubClient;
  locks: LockContext;
}

/** Connects a page named `appName` through `transport`. */
export async function openPage(locks: FakeLocks, transport: Transport, appName: string): Promise<RigPage> {
  const context = locks.context();
  const hub = new HubClient(HUB_URL, (receive) => openSession(transport, { appName, hubUrl: HUB_URL }, context, receive));
  await hub.start();
  return { hub, locks: context };
}

/** Resolves once `condition()` is true; checks again after every macrotask (no fixed sleeps). */
export async function until(condition: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A Patient-open event for `publish`. */
export const patientOpen = (id: string) => ({ 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id } }] });
