/**
 * One remote connection (src/bridge/remote-session.ts): the heartbeat watchdog, against a scripted
 * remote (mock-socket) on manual timers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupMocks, mockBridge, REMOTE } from './support/mock-setup.js';
import { until, waitForState } from './support/local.js';

afterEach(cleanupMocks);

describe('heartbeats', () => {
  it("treats 2.5 periods without a sandbox 'JS SANDBOX' heartbeat (15 s, no period) as a lost connection and reopens the endpoint", async () => {
    const { remote, bridge, timers } = await mockBridge({ config: { dialect: 'topic-path' }, confirmation: 'sandbox' });
    const hb = { id: 'JS SANDBOX', event: { 'hub.topic': REMOTE, 'hub.event': 'heartbeat' } };
    remote.send(hb);
    await until(() => timers.delays().includes(37_500), 'the silence watchdog');
    await timers.advance(30_000);
    remote.send(hb); // a heartbeat in time re-arms the watchdog
    await until(() => timers.delays().includes(37_500), 'the re-armed watchdog');
    await timers.advance(37_499);
    expect(bridge.status().state).toBe('connected');
    await timers.advance(1);
    expect(bridge.status()).toMatchObject({ state: 'reconnecting', lastError: expect.stringContaining('no heartbeat for 38 s') });
    expect(remote.acks).toEqual([]);
    await timers.advance(1000);
    await waitForState(bridge, 'connected');
    expect(remote.subscribes).toHaveLength(1); // the endpoint was still alive: reopened, not re-subscribed
  });

  it('uses the period a Medplum-style heartbeat states', async () => {
    const { remote, bridge, timers } = await mockBridge();
    remote.send({ timestamp: new Date().toISOString(), id: 'hb', event: { 'hub.topic': REMOTE, 'hub.event': 'heartbeat', context: [{ key: 'period', decimal: '2' }] } });
    await until(() => timers.delays().includes(5000), 'the watchdog at 2.5 × 2 s');
    await timers.advance(5000);
    expect(bridge.status().state).toBe('reconnecting');
  });

  it('does not watch for silence when the remote never sends heartbeats', async () => {
    const { bridge, timers } = await mockBridge();
    await timers.advance(600_000);
    expect(bridge.status().state).toBe('connected');
  });
});
