/**
 * The outbox (src/bridge/outbox.ts): local publishes queued while the remote is down, against a
 * scripted remote (mock-socket) on manual timers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupMocks, LOCAL, mockBridge, patient } from './support/mock-setup.js';
import { patientOpen, until, waitForState } from './support/local.js';
import { settle } from './support/manual-timers.js';

afterEach(cleanupMocks);

describe('queueing while disconnected', () => {
  it('keeps local publishes made while the remote is down and sends them in order after reconnecting, before reading the remote context', async () => {
    const { remote, hub, bridge, timers } = await mockBridge();
    remote.offline = true;
    remote.closeSocket(1006);
    await waitForState(bridge, 'reconnecting');
    for (const n of [1, 2, 3]) await hub.publish(patientOpen(LOCAL, `p${n}`, `q-${n}`));
    await timers.advance(1000);
    await settle();
    expect(remote.publishes).toHaveLength(0);
    remote.offline = false;
    remote.context = { 'context.type': 'Patient', 'context.versionId': 'v9', context: [patient('p3')] };
    const before = remote.requests.length;
    await timers.advance(5000);
    await waitForState(bridge, 'connected');
    const after = remote.requests.slice(before).filter((r) => r.json?.event || r.method === 'GET');
    expect(after.map((r) => r.json?.id ?? 'GET context')).toEqual(['q-1', 'q-2', 'q-3', 'GET context']);
    expect(bridge.status().eventsOut).toBe(3);
  });

  it('drops the oldest event when the queue overflows and says so with one SyncError per dropped event on the local topic', async () => {
    const { remote, hub, app, bridge, timers } = await mockBridge({ tuning: { queueLimit: 3 } });
    remote.offline = true;
    remote.closeSocket(1006);
    await waitForState(bridge, 'reconnecting');
    for (const n of [1, 2, 3, 4, 5]) await hub.publish(patientOpen(LOCAL, `p${n}`, `o-${n}`));
    await until(() => app.named('syncerror').length === 2, 'two SyncErrors');
    const about = app.named('syncerror').map((e) => e.event.context[0].resource.issue[0].details.coding[0].code);
    expect(about).toEqual(['o-1', 'o-2']);
    expect(app.named('syncerror')[0].event.context[0].resource.issue[0].diagnostics).toContain('queue of 3 events overflowed');
    remote.offline = false;
    await timers.advance(5000);
    await waitForState(bridge, 'connected');
    expect(remote.publishes.map((r) => r.json.id)).toEqual(['o-3', 'o-4', 'o-5']);
  });

  it('keeps an event whose POST failed on the network and sends it once after reconnecting', async () => {
    const { remote, hub, app, bridge, timers } = await mockBridge();
    remote.offline = true;
    await hub.publish(patientOpen(LOCAL, 'p1', 'n-1'));
    await waitForState(bridge, 'reconnecting');
    expect(bridge.status().lastError).toContain('n-1');
    remote.offline = false;
    await timers.advance(1000);
    await waitForState(bridge, 'connected');
    expect(remote.publishes.filter((r) => r.json.id === 'n-1')).toHaveLength(1);
    expect(app.ids()).toEqual(['n-1']);
  });
});
