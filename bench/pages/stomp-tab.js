// One page, two channels to the in-page hub, each with two apps A and B (issue 13 bench):
// - STOMP: two @stomp/stompjs clients on hub.WebSocket; A SENDs on T1, B gets the MESSAGE and SENDs
//   the echo on T2, A gets the echo;
// - STU3: two standard clients on hub.fetch + hub.WebSocket; A POSTs on T3, B gets the notification,
//   acks it and POSTs the echo on T4, A gets the echo.
// The node driver (../lib/stomp-pass.mjs) adds the stompjs bundle, then calls `stompBench.setup()`
// and alternates `stompBench.stomp(i)` and `stompBench.stu3(i)`, each resolving with a round trip in ms.
import { imagingStudyOpen } from './payloads.js';

const waiters = new Map();
const arrived = (id) => {
  const w = waiters.get(id);
  if (w) {
    waiters.delete(id);
    w(performance.now());
  }
};
const echoId = (id) => `e-${id}`;

async function stompClient(hub, name) {
  const client = new window.StompJs.Client({
    webSocketFactory: () => new hub.WebSocket(`${hub.hubUrl}/websocket`, ['v12.stomp']),
    connectHeaders: { 'client-id': name },
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    reconnectDelay: 0,
  });
  await new Promise((resolve) => {
    client.onConnect = resolve;
    client.activate();
  });
  return client;
}

const subscribed = (client, destination, onMessage) =>
  new Promise((resolve) => {
    const receipt = `sub-${Math.random().toString(36).slice(2)}`;
    client.watchForReceipt(receipt, resolve);
    client.subscribe(destination, onMessage, { receipt });
  });

async function stu3Client(hub, topic, name, onEvent) {
  const res = await hub.fetch(hub.hubUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'ImagingStudy-open', 'subscriber.name': name }),
  });
  const endpoint = (await res.json())['hub.channel.endpoint'];
  const ws = new hub.WebSocket(endpoint);
  await new Promise((resolve) => {
    ws.onmessage = (e) => {
      const frame = JSON.parse(e.data);
      if (frame['hub.mode'] === 'subscribe') return resolve();
      if (!frame.event || frame.event['hub.event'] === 'heartbeat') return;
      onEvent(frame);
      ws.send(JSON.stringify({ id: frame.id, status: 200 }));
    };
  });
  return ws;
}

const stu3Publish = (hub, topic, request) =>
  hub.fetch(hub.hubUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timestamp: new Date().toISOString(), id: request.id, event: { 'hub.topic': topic, 'hub.event': request['hub.event'], context: request.context } }) });

const stompSend = (client, topic, request) =>
  client.publish({ destination: `/hub/fhircast/${topic}/ImagingStudy-open`, body: JSON.stringify({ timestamp: new Date().toISOString(), id: request.id, event: { context: request.context } }) });

window.stompBench = {
  async setup() {
    const hub = await window.Tabcast.connect({ appName: 'stomp bench' });
    const [t1, t2, t3, t4] = await Promise.all([hub.createTopic(), hub.createTopic(), hub.createTopic(), hub.createTopic()]);
    const a = await stompClient(hub, 'STOMP A');
    const b = await stompClient(hub, 'STOMP B');
    await subscribed(b, `/hub/fhircast/${t1}/ImagingStudy-open`, (m) => {
      const n = JSON.parse(m.body);
      stompSend(b, t2, imagingStudyOpen(echoId(n.id)));
    });
    await subscribed(a, `/hub/fhircast/${t2}/ImagingStudy-open`, (m) => arrived(JSON.parse(m.body).id));
    await stu3Client(hub, t3, 'STU3 B', (n) => void stu3Publish(hub, t4, imagingStudyOpen(echoId(n.id))));
    await stu3Client(hub, t4, 'STU3 A', (n) => arrived(n.id));
    Object.assign(this, { hub, a, t1, t3 });
  },
  stomp(i) {
    const id = `stomp-${i}-${Math.random().toString(36).slice(2, 8)}`;
    const done = new Promise((resolve) => waiters.set(echoId(id), resolve));
    const t0 = performance.now();
    stompSend(this.a, this.t1, imagingStudyOpen(id));
    return done.then((t) => t - t0);
  },
  stu3(i) {
    const id = `stu3-${i}-${Math.random().toString(36).slice(2, 8)}`;
    const done = new Promise((resolve) => waiters.set(echoId(id), resolve));
    const t0 = performance.now();
    void stu3Publish(this.hub, this.t3, imagingStudyOpen(id));
    return done.then((t) => t - t0);
  },
};
window.stompBenchReady = true;
