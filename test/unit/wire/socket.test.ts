import { describe, expect, it } from 'vitest';
import { clampReason } from '../../../src/wire/socket.js';
import { FakeSocket, formRequest, jsonRequest, makeWire, patientOpen, subscribeAndConnect, subscribeParams, unsubscribeParams } from './support.js';

describe('HUB-SEC-03 only live endpoints accept a socket', () => {
  it('HUB-SEC-03 a topic URL, hub.url, a made-up endpoint and an ended one are refused', async () => {
    const { wire } = await makeWire();
    const { endpoint } = await subscribeAndConnect(wire, 'T-sec-03', 'Patient-open');
    await wire.handle(formRequest(unsubscribeParams('T-sec-03', endpoint)));
    const refused = [
      `ws://hub.test/fhircast/hub/T-sec-03`,
      'ws://hub.test/fhircast/hub',
      'ws://hub.test/fhircast/hub/ws/AAAAAAAAAAAAAAAAAAAAAA',
      'ws://hub.test/fhircast/hub/ws/T-sec-03',
      'not a url',
      endpoint,
    ];
    for (const url of refused) {
      expect(wire.isEndpoint(url), url).toBe(false);
      const socket = new FakeSocket();
      expect(wire.acceptSocket(url, socket), url).toBeUndefined();
      expect(socket.sent).toEqual([]);
    }
  });

  it('HUB-SEC-03 a live endpoint is accepted under the URL the door sees (another host, http scheme, a query)', async () => {
    const { wire } = await makeWire();
    const res = await wire.handle(formRequest(subscribeParams('T-sec-03b', 'Patient-open')));
    const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
    const path = new URL(endpoint).pathname;
    expect(wire.isEndpoint(endpoint)).toBe(true);
    expect(wire.isEndpoint(`http://localhost:5200${path}`)).toBe(true);
    const socket = new FakeSocket();
    expect(wire.acceptSocket(`http://127.0.0.1${path}?x=1`, socket)).toBeDefined();
    expect(socket.sent[0]['hub.mode']).toBe('subscribe');
  });
});

describe('HUB-SEC-08 frame size limit on sockets', () => {
  it('HUB-SEC-08 a frame over the limit closes the socket with 1009; one at the limit is read', async () => {
    const limit = 2048;
    const { wire } = await makeWire({ bodyLimitBytes: limit });
    const watcher = await subscribeAndConnect(wire, 'T-sec-08', 'SyncError');
    const sub = await subscribeAndConnect(wire, 'T-sec-08', 'Patient-open');
    await wire.handle(jsonRequest(patientOpen('T-sec-08', 'p1', 'ev-08')));
    const ack = JSON.stringify({ id: 'ev-08', status: 200 });
    const atLimit = ack.slice(0, -1) + `,"pad":"${'z'.repeat(limit - ack.length - 9)}"}`;
    expect(new TextEncoder().encode(atLimit).byteLength).toBe(limit);
    sub.handle.receive(atLimit);
    expect(sub.socket.closedWith).toBeUndefined();
    sub.handle.receive('x'.repeat(limit + 1));
    expect(sub.socket.closedWith?.code).toBe(1009);
    // The hub closed it: the engine hears 1009 at once (one SyncError about a lost connection, HUB-SYNC-08),
    // and frames arriving after the close are not read (a 409 would raise a second, "refused" SyncError).
    sub.handle.receive(JSON.stringify({ id: 'ev-08', status: 409 }));
    expect(watcher.socket.events).toHaveLength(1);
    const diagnostics = watcher.socket.events[0].event.context[0].resource.issue[0].diagnostics as string;
    expect(diagnostics).toMatch(/1009/);
    expect(diagnostics).not.toMatch(/refused/);
  });

  it('HUB-SEC-08 the limit counts UTF-8 bytes, not characters, and binary frames too', async () => {
    const { wire } = await makeWire({ bodyLimitBytes: 1000 });
    const text = await subscribeAndConnect(wire, 'T-sec-08b', 'Patient-open');
    text.handle.receive('é'.repeat(501)); // 501 characters, 1002 bytes
    expect(text.socket.closedWith?.code).toBe(1009);
    const binary = await subscribeAndConnect(wire, 'T-sec-08b', 'Patient-open');
    binary.handle.receive(new Uint8Array(1001));
    expect(binary.socket.closedWith?.code).toBe(1009);
    const small = await subscribeAndConnect(wire, 'T-sec-08b', 'Patient-open');
    small.handle.receive(new TextEncoder().encode(JSON.stringify({ 'hub.channel.endpoint': 'x' })));
    expect(small.socket.closedWith).toBeUndefined();
  });
});

describe('HUB-NOTIFY fan-out survives a broken transport', () => {
  it('HUB-NOTIFY-01 HUB-CHANGE-03 a socket whose send throws does not stop the others from getting the notification', async () => {
    const { wire } = await makeWire();
    const broken = await subscribeAndConnect(wire, 'T-fan', 'Patient-open');
    broken.socket.send = () => {
      throw new Error('socket already closed');
    };
    const healthy = await subscribeAndConnect(wire, 'T-fan', 'Patient-open');
    const res = await wire.handle(jsonRequest(patientOpen('T-fan', 'p1', 'ev-fan')));
    expect(res.status).toBe(202);
    expect(healthy.socket.events.map((e) => e.id)).toEqual(['ev-fan']);
  });

  it('HUB-SUB-14 close reasons are cut to the 123 UTF-8 bytes WebSocket allows, without splitting a character', () => {
    expect(clampReason('unsubscribed')).toBe('unsubscribed');
    const cut = clampReason('é'.repeat(200));
    expect(new TextEncoder().encode(cut).byteLength).toBe(122);
    expect(cut).toBe('é'.repeat(61));
  });
});

describe('HUB-SUB-07 confirmation through a door URL', () => {
  it('HUB-SUB-07 HUB-SUB-12 a re-subscribe sends a fresh confirmation on the same, still open socket', async () => {
    const { wire } = await makeWire();
    const sub = await subscribeAndConnect(wire, 'T-sub-12', 'Patient-open');
    const res = await wire.handle(formRequest(subscribeParams('T-sub-12', 'Patient-close', { 'hub.channel.endpoint': sub.endpoint })));
    expect(res.status).toBe(202);
    expect(sub.socket.sent.filter((f) => f['hub.mode'] === 'subscribe').map((f) => f['hub.events'])).toEqual(['Patient-open', 'Patient-close']);
    expect(sub.socket.closedWith).toBeUndefined();
  });
});
