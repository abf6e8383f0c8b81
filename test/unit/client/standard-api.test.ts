/** hub.fetch and hub.WebSocket over a real host runtime, in node: the STU3 surface as a standard client sees it. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { channelTransport, HUB_URL, openPage, patientOpen, startHost, until } from './support/rig.js';
import { FakeLocks } from './support/fake-locks.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  vi.restoreAllMocks();
});

async function page() {
  const locks = new FakeLocks();
  const host = await startHost(locks);
  const { hub } = await openPage(locks, channelTransport(() => host), 'Standard');
  cleanup.push(() => host.die(), () => hub.close());
  return { hub, host };
}

/** A socket whose events are recorded. */
function record(socket: WebSocket) {
  const log = { events: [] as string[], frames: [] as any[], close: undefined as undefined | { code: number; reason: string; wasClean: boolean } };
  socket.onopen = () => log.events.push('open');
  socket.onerror = () => log.events.push('error');
  socket.addEventListener('message', (e) => log.frames.push(JSON.parse((e as MessageEvent).data)));
  socket.addEventListener('close', (e) => {
    const { code, reason, wasClean } = e as CloseEvent;
    log.events.push('close');
    log.close = { code, reason, wasClean };
  });
  return log;
}

const form = (params: Record<string, string>): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });

describe('hub.fetch and hub.WebSocket', () => {
  it('subscribe, confirmation, notification, ack and a client close, as with a real hub', async () => {
    const { hub, host } = await page();
    const topic = await hub.createTopic();
    const response = await hub.fetch(HUB_URL, form({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'Patient-open' }));
    expect(response.status).toBe(202);
    const endpoint: string = (await response.json())['hub.channel.endpoint'];
    expect(endpoint.startsWith('ws://127.0.0.1:5200/fhircast/hub/')).toBe(true);

    const socket = new hub.WebSocket(endpoint);
    expect([socket.readyState, socket.url, socket.protocol, socket.bufferedAmount]).toEqual([hub.WebSocket.CONNECTING, endpoint, '', 0]);
    expect(() => socket.send('too early')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    const log = record(socket);
    await until(() => log.frames.length === 1, 'the confirmation');
    expect(socket.readyState).toBe(socket.OPEN);
    expect(log.frames[0]).toEqual({ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'Patient-open', 'hub.lease_seconds': 7200 });

    const posted = await hub.fetch(HUB_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'e1', event: { 'hub.topic': topic, ...patientOpen('p') } }) });
    expect([posted.status, await posted.json()]).toEqual([202, { id: 'e1' }]);
    await until(() => log.frames.length === 2, 'the notification');
    expect(log.frames[1]).toMatchObject({ id: 'e1', event: { 'hub.event': 'Patient-open' } });
    socket.send(JSON.stringify({ id: 'e1', status: 200 }));
    await until(() => host.hub.inspect().topics[0]!.subscribers[0]!.lastAck?.status === 200, 'the ack');

    expect(() => socket.close(1006)).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    socket.close();
    expect(socket.readyState).toBe(socket.CLOSING);
    await until(() => log.close !== undefined, 'the close');
    expect(log.close).toEqual({ code: 1005, reason: '', wasClean: true });
    expect(log.events).toEqual(['open', 'close']);
    expect(host.hub.inspect().topics[0]!.subscribers).toEqual([]); // 1005 is a normal close: the subscription ends
  });

  it('an endpoint that is not live fails like a refused upgrade: error, then close 1006', async () => {
    const { hub } = await page();
    const socket = new hub.WebSocket('http://127.0.0.1:5200/fhircast/hub/ws/not-an-endpoint');
    expect(socket.url).toBe('ws://127.0.0.1:5200/fhircast/hub/ws/not-an-endpoint');
    const log = record(socket);
    await until(() => log.close !== undefined, 'the failure');
    expect(log.events).toEqual(['error', 'close']);
    expect(log.close).toMatchObject({ code: 1006, wasClean: false });
  });

  it('the constructor checks URLs as a browser does', async () => {
    const { hub } = await page();
    for (const bad of ['ftp://127.0.0.1:5200/fhircast/hub/ws/x', 'ws://127.0.0.1:5200/fhircast/hub/ws/x#frag', 'not a url']) {
      expect(() => new hub.WebSocket(bad)).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    }
  });

  it('hub.fetch answers errors as the wire does and sends other URLs to the real fetch', async () => {
    const { hub } = await page();
    const wellKnown = await hub.fetch(`${HUB_URL}/.well-known/fhircast-configuration`);
    expect(wellKnown.status).toBe(200);
    expect((await wellKnown.json()).websocketSupport).toBe(true);
    const bad = await hub.fetch(HUB_URL, form({ 'hub.mode': 'subscribe' }));
    expect([bad.status, bad.headers.get('content-type')]).toEqual([400, 'text/plain; charset=utf-8']);
    expect(await bad.text()).toContain('hub.channel.type');
    const options = await hub.fetch(HUB_URL, { method: 'OPTIONS' });
    expect([options.status, await options.text()]).toEqual([204, '']);

    const realFetch = vi.spyOn(globalThis, 'fetch').mockResolvedValue(new Response('elsewhere'));
    const other = await hub.fetch('http://127.0.0.1:5200/fhir/Patient/1');
    expect(await other.text()).toBe('elsewhere');
    expect((realFetch.mock.calls[0]![0] as Request).url).toBe('http://127.0.0.1:5200/fhir/Patient/1');
  });

  it('sockets of a host that dies drop with 1006 and the page keeps working with the next host', async () => {
    const locks = new FakeLocks();
    let host = await startHost(locks);
    const { hub } = await openPage(locks, channelTransport(() => host), 'Standard');
    cleanup.push(() => host.die(), () => hub.close());
    const topic = await hub.createTopic();
    const response = await hub.fetch(HUB_URL, form({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': '*' }));
    const log = record(new hub.WebSocket((await response.json())['hub.channel.endpoint']));
    await until(() => log.events.includes('open'));
    const old = host;
    host = await startHost(locks);
    old.die();
    await until(() => log.close !== undefined, 'the drop');
    expect(log.events).toEqual(['open', 'error', 'close']);
    expect(log.close).toMatchObject({ code: 1006, wasClean: false });
    expect((await hub.fetch(`${HUB_URL}/.well-known/fhircast-configuration`)).status).toBe(200);
  });
});
