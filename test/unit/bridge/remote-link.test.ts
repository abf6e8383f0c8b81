/**
 * The remote link (src/bridge/remote-link.ts) against a scripted remote (mock-socket): drops,
 * backoff, denial, tokens, lease renewal and stop. The bridge's timers are manual: time moves only by `advance`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/bridge/memory.js';
import { cleanupMocks, LOCAL, mockBridge, patient, REMOTE, remoteConnected } from './support/mock-setup.js';
import { patientOpen, until, waitForState, waitForStatus } from './support/local.js';
import { settle } from './support/manual-timers.js';

afterEach(cleanupMocks);

const bridgeSubscribed = (hub: Awaited<ReturnType<typeof mockBridge>>['hub']) =>
  hub.inspect().topics.find((t) => t.topic === LOCAL)?.subscribers.some((s) => s.name === 'tabcast bridge') ?? false;

describe('reconnecting', () => {
  it.each([1006, 1011])('reopens the same endpoint after an abnormal close %i, without subscribing again', async (code) => {
    const { remote, bridge, timers } = await mockBridge();
    remote.closeSocket(code, 'gone');
    const s = await waitForState(bridge, 'reconnecting');
    expect(s.lastError).toContain(`code ${code}`);
    await timers.advance(1000);
    await waitForState(bridge, 'connected');
    expect(remote.subscribes).toHaveLength(1);
    expect(remote.connections).toBe(1);
  });

  it('subscribes again when the endpoint is gone after an abnormal close (hub restarted)', async () => {
    const { remote, bridge, timers } = await mockBridge();
    remote.closeSocket(1006);
    await waitForState(bridge, 'reconnecting');
    remote.forget('wss://remote.test/ws/ep1');
    await timers.advance(1000); // reopening ep1 fails before any confirmation
    // mock-socket reports a refused connection as error + close 1000, before any confirmation
    await until(() => bridge.status().lastError?.includes('code 1000') === true, 'the failed reopen');
    expect(remote.subscribes).toHaveLength(1);
    await timers.advance(2000);
    await waitForState(bridge, 'connected');
    expect(remote.subscribes).toHaveLength(2);
    expect(remote.subscribes[1]!.form!['hub.channel.endpoint']).toBeUndefined();
  });

  it.each([1000, 1001])('subscribes again straight away after a close %i that came without a denial', async (code) => {
    const { remote, bridge, timers } = await mockBridge();
    remote.closeSocket(code);
    await waitForState(bridge, 'reconnecting');
    await timers.advance(1000);
    await waitForState(bridge, 'connected');
    expect(remote.subscribes).toHaveLength(2);
  });

  it('gives up on a connection whose confirmation never comes after confirmationTimeoutMs, then subscribes again', async () => {
    const { remote, bridge, timers } = await mockBridge({ confirmation: 'none', connect: false, tuning: { confirmationTimeoutMs: 5000 } });
    await remoteConnected(remote);
    await timers.advance(4999);
    expect(bridge.status().state).toBe('connecting');
    await timers.advance(1);
    expect(bridge.status()).toMatchObject({ state: 'reconnecting', lastError: expect.stringContaining('no confirmation') });
    await until(() => remote.closes.length === 1, 'the close');
    expect(remote.closes).toEqual([4000]);
    remote.confirmation = 'stu3';
    await timers.advance(1000);
    await waitForState(bridge, 'connected');
    expect(remote.subscribes).toHaveLength(2);
  });

  it('waits longer after each failed attempt (exponential backoff with jitter), and resets once connected', async () => {
    const { remote, bridge, timers } = await mockBridge({ connect: false, tuning: { backoffBaseMs: 100, backoffMaxMs: 1000 } });
    remote.subscribeStatus = 503;
    await waitForState(bridge, 'connected');
    remote.closeSocket(1000);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      await until(() => timers.delays().length > 0 && bridge.status().state === 'reconnecting', 'a scheduled retry');
      const d = timers.delays().filter((x) => x <= 1000)[0]!;
      delays.push(d);
      await timers.advance(d);
      await settle();
    }
    // random() is 0.5: half of each step is fixed and a quarter comes from the jitter.
    expect(delays).toEqual([75, 150, 300, 600, 750, 750]);
    expect(remote.subscribes).toHaveLength(7);
    remote.subscribeStatus = undefined;
    await timers.advance(750);
    await waitForState(bridge, 'connected');
    remote.closeSocket(1000);
    await waitForState(bridge, 'reconnecting');
    expect(timers.delays()[0]).toBe(75);
  });

  it('spreads the backoff with its random part: the same step gives different delays for different random values', () => {
    expect(backoffDelay(3, 500, 30_000, () => 0)).toBe(2000);
    expect(backoffDelay(3, 500, 30_000, () => 0.999)).toBe(3998);
    expect(backoffDelay(40, 500, 30_000, () => 1)).toBe(30_000);
  });
});

describe('denial, tokens and leases', () => {
  it('stops as denied on a denial frame: no more attempts, local subscription gone', async () => {
    const { remote, hub, bridge, timers } = await mockBridge();
    expect(bridgeSubscribed(hub)).toBe(true);
    remote.send({ 'hub.mode': 'denied', 'hub.topic': REMOTE, 'hub.events': 'Patient-open', 'hub.reason': 'session ended' });
    const s = await waitForState(bridge, 'denied');
    expect(s.lastError).toContain('session ended');
    await timers.advance(600_000);
    expect(remote.subscribes).toHaveLength(1);
    expect(timers.delays()).toEqual([]);
    expect(bridgeSubscribed(hub)).toBe(false);
  });

  it('is denied when the remote refuses the subscription request with 403', async () => {
    const { bridge, remote } = await mockBridge({ connect: false, prepare: (r) => void (r.subscribeStatus = 403) });
    const s = await waitForState(bridge, 'denied');
    expect(s.lastError).toContain('403');
    expect(remote.subscribes).toHaveLength(1);
  });

  it('stops and waits for a token when the remote answers 401 and no getToken is given', async () => {
    const { bridge, timers, remote } = await mockBridge({ connect: false, config: { token: 'expired' }, prepare: (r) => void (r.acceptToken = 'fresh') });
    const s = await waitForState(bridge, 'stopped');
    expect(s.lastError).toMatch(/401.*token/);
    await timers.advance(600_000);
    expect(remote.subscribes).toHaveLength(1);
  });

  it('asks getToken again after a 401 and carries on with the fresh token', async () => {
    const tokens = ['expired', 'fresh'];
    const { bridge, remote, timers } = await mockBridge({ connect: false, config: { getToken: async () => tokens.shift() }, prepare: (r) => void (r.acceptToken = 'fresh') });
    await waitForState(bridge, 'reconnecting');
    await timers.advance(0); // the second try goes at once
    await waitForState(bridge, 'connected');
    expect(remote.subscribes.map((r) => r.authorization)).toEqual(['Bearer expired', 'Bearer fresh']);
  });

  it('renews the lease at 80 % by subscribing again with the same endpoint', async () => {
    const { remote, bridge, timers } = await mockBridge(); // the scripted remote grants 3600 s
    await timers.advance(2879_000);
    expect(remote.subscribes).toHaveLength(1);
    await timers.advance(1000);
    await until(() => remote.subscribes.length === 2, 'the renewal');
    expect(remote.subscribes[1]!.form!['hub.channel.endpoint']).toBe('wss://remote.test/ws/ep1');
    expect(bridge.status().state).toBe('connected');
  });

  it('moves to the endpoint a renewal names: opens it, closes the old socket with 1000, and stays connected', async () => {
    const { remote, bridge, timers } = await mockBridge();
    remote.moveOnRenew = true;
    await timers.advance(2880_000);
    await until(() => remote.closes.length === 1 && remote.connections === 1 && remote.socket !== undefined, 'the move');
    expect(remote.closes).toEqual([1000]);
    expect(remote.subscribes.map((r) => r.form!['hub.channel.endpoint'])).toEqual([undefined, 'wss://remote.test/ws/ep1']);
    await waitForState(bridge, 'connected');
    remote.send(remote.notification('r-after-move', 'Patient-open', [patient('p9')]));
    await until(() => remote.acks.some((a) => a.id === 'r-after-move'), 'the ack on the new endpoint');
    expect(bridge.status().state).toBe('connected');
  });

  it('subscribes anew when a renewal is answered 404', async () => {
    const { remote, bridge, timers } = await mockBridge();
    remote.forget('wss://remote.test/ws/ep1');
    await timers.advance(2880_000);
    await waitForState(bridge, 'reconnecting');
    await timers.advance(1000);
    await waitForState(bridge, 'connected');
    expect(remote.subscribes.map((r) => r.form!['hub.channel.endpoint'])).toEqual([undefined, 'wss://remote.test/ws/ep1', undefined]);
  });
});

describe('stop', () => {
  it('unsubscribes at the remote, closes with 1000, leaves the local topic, and leaves no timer behind', async () => {
    const { remote, hub, bridge, timers } = await mockBridge();
    await bridge.stop();
    const unsub = remote.requests.find((r) => r.form?.['hub.mode'] === 'unsubscribe')!;
    expect(unsub.form).toMatchObject({ 'hub.topic': REMOTE, 'hub.channel.endpoint': 'wss://remote.test/ws/ep1', 'hub.channel.type': 'websocket' });
    await until(() => remote.closes.length === 1, 'the close');
    expect(remote.closes).toEqual([1000]);
    expect(bridge.status().state).toBe('stopped');
    expect(bridgeSubscribed(hub)).toBe(false);
    expect(timers.delays()).toEqual([]);
    await hub.publish(patientOpen(LOCAL, 'p1', 'after-stop'));
    await settle();
    expect(remote.publishes).toHaveLength(0);
  });

  it('reports every status change to onStatus listeners until they unsubscribe', async () => {
    const { bridge } = await mockBridge({ connect: false });
    const seen: string[] = [];
    const off = bridge.onStatus((s) => seen.push(s.state));
    await waitForStatus(bridge, (s) => s.state === 'connected');
    off();
    await bridge.stop();
    expect(seen).toEqual(['connected']);
    expect(bridge.status().state).toBe('stopped');
  });

  it('in backoff after an abnormal close: unsubscribes the kept endpoint, cancels the retry, and never connects again', async () => {
    const { remote, bridge, timers } = await mockBridge();
    remote.closeSocket(1006);
    await waitForState(bridge, 'reconnecting');
    expect(timers.delays().length).toBeGreaterThan(0);
    await bridge.stop();
    const unsub = remote.requests.find((r) => r.form?.['hub.mode'] === 'unsubscribe')!;
    expect(unsub.form!['hub.channel.endpoint']).toBe('wss://remote.test/ws/ep1');
    expect(timers.delays()).toEqual([]);
    await timers.advance(600_000);
    expect(remote.subscribes).toHaveLength(1);
    expect(remote.connections).toBe(0);
    expect(bridge.status().state).toBe('stopped');
  });
});
