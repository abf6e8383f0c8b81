/**
 * Issue #7, the remote hub killed during a bridge burst: `tabcast serve --data` (a real process)
 * is SIGKILLed while a local topic keeps publishing through the bridge, then restarted on the same
 * port. The rule: every local event ends up stored at the remote, or the local topic gets a
 * SyncError naming it (the bridge's "not delivered"); none is lost silently.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import { systemClock } from '../../../src/adapters/system-clock.js';
import { webCrypto } from '../../../src/adapters/web-crypto.js';
import { startBridge } from '../../../src/bridge/index.js';
import { Hub } from '../../../src/hub/index.js';
import { waitForState } from '../bridge/support/local.js';
import { watchUnhandled } from './support/invariants.js';
import { LeanSubscriber } from './support/lean-subscriber.js';
import { readStore, storedAnchorIds } from '../support/stored.js';
import { ServeProcess } from './support/serve-process.js';
import { budget, KILL_BURST, recordStats } from './support/sizes.js';

const LOCAL = 'ward-local';
const REMOTE = 'ward-remote';
const FAST = { backoffBaseMs: 20, backoffMaxMs: 200, confirmationTimeoutMs: 3000, requestTimeoutMs: 3000 };

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

const open = (patient: string, id: string) => ({
  id,
  timestamp: new Date().toISOString(),
  event: { 'hub.topic': LOCAL, 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: patient } }] },
});

describe('hardening: the remote hub killed during a bridge burst', () => {
  it('HUB-PERSIST-05 every local event is stored at the restarted remote, or a local SyncError says it was not delivered', async () => {
    const unhandled = watchUnhandled();
    const dir = mkdtempSync(join(tmpdir(), 'tabcast-bridge-kill-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const data = join(dir, 'remote');
    // Every event opens a new patient: room for all of them, so none is forgotten (HUB-BOUND-03).
    const room = ['--max-open-contexts', String(KILL_BURST + 10)];
    let remote = await ServeProcess.start(['--data', data, '--heartbeat-ms', '0', ...room]);
    cleanups.push(() => remote.kill());
    const port = String(remote.port);

    const hub = await Hub.create({ clock: systemClock, crypto: webCrypto, storage: memoryStorage(), heartbeatMs: 0, ackTimeoutMs: 0 });
    const undelivered = new Set<string>();
    const watcher = hub.subscribe({ topic: LOCAL, events: ['SyncError'], subscriberName: 'watcher' });
    hub.connect(watcher.endpoint, {
      send(frame: any) {
        if (frame.event?.['hub.event'] !== 'syncerror') return;
        const codings = frame.event.context[0]?.resource?.issue?.[0]?.details?.coding ?? [];
        const id = codings.find((c: { system: string }) => c.system.endsWith('/eventid'))?.code;
        if (id) undelivered.add(id);
      },
      close() {},
    });
    const bridge = startBridge({ topic: LOCAL, remoteHubUrl: remote.url, remoteTopic: REMOTE }, { hub, fetch: (url, init) => fetch(url, init), WebSocket, tuning: FAST });
    cleanups.push(() => bridge.stop());
    await waitForState(bridge, 'connected');

    const killAt = Math.floor(KILL_BURST / 3);
    const restartAt = Math.floor(KILL_BURST / 2);
    let restarted: Promise<ServeProcess> | undefined;
    for (let i = 0; i < KILL_BURST; i++) {
      await hub.publish(open(`pt-${i}`, `ev-${i}`));
      if (i === killAt) remote.child.kill('SIGKILL'); // events from here on meet a dead or restarting remote
      if (i === restartAt) {
        await remote.exited;
        restarted = ServeProcess.start(['--port', port, '--data', data, '--heartbeat-ms', '0', ...room]);
        remote = await restarted;
      }
      await new Promise<void>((resolve) => setImmediate(resolve)); // let the bridge's outbox run between publishes
    }
    expect(restarted).toBeDefined();
    // The outbox sends in order: once the marker is at the remote, everything before it was sent or reported.
    await waitForState(bridge, 'connected', 30_000);
    const observer = await LeanSubscriber.join(remote.url, REMOTE, 'Patient-open');
    cleanups.push(() => observer.leave());
    await hub.publish(open('pt-final', 'ev-final'));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the marker never reached the remote; bridge ${JSON.stringify(bridge.status())}`)), 30_000);
      observer.ws.on('message', (raw) => {
        if (String(raw).includes('"ev-final"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await remote.kill(); // every 202 the remote gave is in its data file (HUB-PERSIST-05)
    const stored = new Set(storedAnchorIds(await readStore(data), REMOTE));
    const lost = Array.from({ length: KILL_BURST }, (_, i) => i).filter((i) => !stored.has(`pt-${i}`) && !undelivered.has(`ev-${i}`));
    expect(lost.map((i) => `ev-${i}`), 'events neither stored at the remote nor reported as not delivered').toStrictEqual([]);
    unhandled.check();
    recordStats('bridge', 'remote tabcast serve SIGKILLed during a bridge burst', {
      'local events': KILL_BURST,
      'stored at the remote': [...stored].filter((p) => p !== 'pt-final').length,
      'reported not delivered (SyncError)': undelivered.size,
      'lost silently': lost.length,
    });
  }, budget(30_000 + KILL_BURST * 20));
});
