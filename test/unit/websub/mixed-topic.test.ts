/**
 * One topic, four doors (channels.md intro): a webhook, a 2019-envelope socket, a STOMP client
 * (unmodified @stomp/stompjs) and an STU3 socket on `tabcast serve --websub` get the same events in
 * the same order.
 */
import { afterEach, expect, it } from 'vitest';
import { startServer } from '../../../src/server/index.js';
import { ManualTimers } from '../bridge/support/manual-timers.js';
import { until } from '../bridge/support/local.js';
import { cleanup, postSubscription, publish, subscribeAndOpen, TestSocket, track } from '../server/support.js';
import { cleanup as cleanupStomp, StompApp } from '../stomp/support.js';
import { CallbackServer } from './support.js';

const TOPIC = 'T-mixed';
let listener: CallbackServer | undefined;
afterEach(async () => {
  await cleanupStomp();
  await cleanup();
  await listener?.close();
});

function event(n: number) {
  const kinds = [
    ['Patient-open', [{ key: 'patient', resource: { resourceType: 'Patient', id: `p${n}` } }]],
    ['ImagingStudy-open', [{ key: 'patient', resource: { resourceType: 'Patient', id: `p${n}` } }, { key: 'study', resource: { resourceType: 'ImagingStudy', id: `s${n}` } }]],
    ['ImagingStudy-close', [{ key: 'study', resource: { resourceType: 'ImagingStudy', id: `s${n - 1}` } }]],
  ] as const;
  const [name, context] = kinds[n % 3]!;
  return { timestamp: '2026-01-01T00:00:00Z', id: `m${n}`, event: { 'hub.topic': TOPIC, 'hub.event': name, context } };
}

it('HUB-WEBSUB-04 / HUB-ENV-01 / HUB-STOMP-10: a webhook, a 2019 socket, a STOMP client and an STU3 socket on one topic get the same events in the same order', async () => {
  const timers = new ManualTimers();
  const server = track(await startServer({ port: 0, heartbeatMs: 0, clock: timers.clock, websub: { timers: { set: timers.setTimeout, clear: timers.clearTimeout } } }));
  listener = await CallbackServer.start();
  listener.secret = 'mixed-secret';
  const connected = new Promise<void>((resolve) => {
    const off = server.hub.observe((e) => e.type === 'connect' && e.subscriber === 'hook' && (off(), resolve()));
  });
  const hookRes = await postSubscription(server.url, {
    'hub.channel.type': 'webhook', 'hub.mode': 'subscribe', 'hub.topic': TOPIC, 'hub.events': '*', 'hub.callback': listener.url, 'hub.secret': 'mixed-secret', 'subscriber.name': 'hook',
  });
  expect(hookRes.status).toBe(202);
  await connected;

  const envRes = await postSubscription(server.url, { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': TOPIC, 'hub.events': '*', 'hub.channel.dialect': '2019', 'subscriber.name': 'env' });
  const env = await TestSocket.open(((await envRes.json()) as any)['hub.channel.endpoint']);
  await env.next(() => true, 'the 2019 greeting');
  const stu3 = await subscribeAndOpen(server.url, TOPIC, '*', { name: 'stu3' });
  const stomp = new StompApp(`${server.url.replace(/^http/, 'ws')}/websocket`);
  await stomp.connected;
  stomp.subscribe(`/hub/fhircast/${TOPIC}/*`);
  await until(() => server.hub.inspect().topics[0]!.subscribers.some((s) => s.channel === 'stomp'), 'the STOMP subscription');

  // Both socket subscribers answer every notification the way their channel does.
  const envIds: string[] = [];
  const stu3Ids: string[] = [];
  env.ws.on('message', (data) => {
    const f = JSON.parse(String(data));
    if (!f.body) return;
    envIds.push(f.body.id);
    env.send({ timestamp: new Date().toISOString(), status: 'OK', statusCode: '200' });
  });
  stu3.sock.ws.on('message', (data) => {
    const f = JSON.parse(String(data));
    if (!f.event || f.event['hub.event'] === 'heartbeat') return;
    stu3Ids.push(f.id);
    stu3.sock.ack(f);
  });

  const sent: string[] = [];
  for (let n = 1; n <= 9; n++) {
    const e = event(n);
    expect((await publish(server.url, e)).status).toBe(202);
    sent.push(e.id);
  }
  await listener.waitFor(9, (r) => r.method === 'POST', 'nine webhook deliveries');
  await until(() => envIds.length === 9 && stu3Ids.length === 9 && stomp.messages.items.length === 9, 'the socket subscribers');
  expect(stomp.messages.items.map((m) => JSON.parse(m.body).id)).toEqual(sent);
  const hookIds = listener.deliveries.map((d) => d.id);
  expect(hookIds).toEqual(sent);
  expect(envIds).toEqual(sent);
  expect(stu3Ids).toEqual(sent);
  expect(listener.badSignatures).toBe(0);
  await until(() => server.hub.inspect().topics[0]!.subscribers.every((s) => s.pending === 0), 'every answer');
  expect(server.hub.inspect().topics[0]!.subscribers.map((s) => s.channel).sort()).toEqual(['2019', 'stomp', 'stu3', 'websub']);
});
