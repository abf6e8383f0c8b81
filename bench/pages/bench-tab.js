// One benchmark tab. scripts/bench.mjs drives it through page.evaluate(() => bench.<fn>(…)).
// Every path is set up in the same tabs, and samples of the paths alternate in one loop (paired
// sampling, stack-notes pitfall 14). All timing happens in the publishing tab with performance.now().
import { diagnosticReportOpen, diagnosticReportUpdate, imagingStudyNotification, imagingStudyOpen } from './payloads.js';

const FLOOR_WORKER = '/bench/floor-worker.js';
const params = new URLSearchParams(location.search);
const tabName = params.get('name') ?? 'tab';

let hub; // the tabcast connection of this tab (one per tab, as an app would have)
const floorPorts = new Map(); // group → MessagePort of the raw relay
const acks = new Map(); // sample id → {remaining, resolve, version}
const ackChannels = new Map(); // subscriber index → BroadcastChannel (tab A listens)
const subs = new Map(); // group → {port, sub, ack}

/** Joins a group of the floor relay and resolves once the worker has answered the hello. */
function floorJoin(group, role) {
  return new Promise((resolve, reject) => {
    const worker = new SharedWorker(FLOOR_WORKER, { name: 'bench-floor' });
    worker.onerror = () => reject(new Error('floor worker failed to start'));
    const port = worker.port;
    port.onmessage = (m) => {
      if (m.data?.hello !== group) return;
      port.onmessage = null;
      floorPorts.set(group, port);
      resolve(port);
    };
    port.start();
    port.postMessage({ group, role });
  });
}

async function connectTabcast() {
  if (hub) return hub;
  if (typeof Tabcast === 'undefined') throw new Error('Tabcast global missing: is dist/tabcast.iife.js built?');
  hub = await Tabcast.connect({ appName: `bench ${tabName}` });
  return hub;
}

function settle(id, version) {
  const a = acks.get(id);
  if (!a) return;
  if (version !== undefined) a.version = version;
  if (--a.remaining === 0) {
    acks.delete(id);
    a.resolve(a);
  }
}

function expect(id, count) {
  return new Promise((resolve) => acks.set(id, { remaining: count, resolve, version: undefined }));
}

const now = () => performance.now();
/** Absolute time on the clock all processes share (checked: A → B and B → A one-way medians agree within 15 µs). */
const abs = () => performance.timeOrigin + performance.now();
/** Tab B: sample id → [notification received, echo sent], absolute ms. */
const legStamps = new Map();

// ---- pair: A publishes, B echoes; the round trip is A → hub → B → hub → A ------------------------

let pair; // { mode, count, target, t1, t2, echoPort }

/** Tab B: echo every floor message and every tabcast notification of T1 (as a publish to T2). */
async function pairB({ t1, t2, tabcast }) {
  const port = await floorJoin('pair', 'sub');
  pair = { mode: 'echo', count: 0, target: 0 };
  port.onmessage = (m) => {
    if (pair.mode === 'echo') {
      const data = m.data; // B has the event once it is deserialized, as a tabcast callback does
      const tRecv = abs();
      const tSend = abs();
      port.postMessage(data);
      legStamps.set(data.id, [tRecv, tSend]);
    } else if (++pair.count === pair.target) port.postMessage({ id: 'burst-done' });
  };
  if (!tabcast) return;
  const h = await connectTabcast();
  await h.subscribe({ topic: t1, events: ['ImagingStudy-open'], subscriberName: 'bench B' }, (n) => {
    if (pair.mode === 'echo') {
      const tRecv = abs();
      const echo = imagingStudyOpen(`e-${n.id}`);
      const tSend = abs();
      // Once the echo is durable too, tell A (untimed), so that no sample overlaps the last one's writes.
      h.publish(t2, echo).then(() => port.postMessage({ id: `durable-${n.id}` }), reportError);
      legStamps.set(n.id, [tRecv, tSend]);
    } else if (++pair.count === pair.target) {
      h.publish(t2, imagingStudyOpen(`e-burst-done-${n.id}`)).catch(reportError);
    }
  });
}

/** Tab B: switch between echoing and counting a burst of `target` messages. */
function pairMode(mode, target = 0) {
  pair.mode = mode;
  pair.count = 0;
  pair.target = target;
}

/** Tab A: the publishing side of the pair. */
async function pairA({ t1, t2, tabcast, quiesce = true }) {
  const port = await floorJoin('pair', 'pub');
  port.onmessage = (m) => settle(m.data.id);
  pair = { t1, t2, quiesce };
  if (!tabcast) return;
  const h = await connectTabcast();
  await h.subscribe({ topic: t2, events: ['ImagingStudy-open'], subscriberName: 'bench A' }, (n) => settle(n.id));
}

async function floorRoundTrip(i, stamps) {
  const id = `f-${i}`;
  const frame = imagingStudyNotification(pair.t1, id);
  const t0 = now();
  const done = expect(id, 1);
  floorPorts.get('pair').postMessage(frame);
  await done;
  const t1 = now();
  stamps?.push([id, performance.timeOrigin + t0, performance.timeOrigin + t1]);
  return t1 - t0;
}

async function tabcastRoundTrip(i, stamps) {
  const id = `a-${i}-${Math.random().toString(36).slice(2, 8)}`;
  const event = imagingStudyOpen(id);
  const t0 = now();
  const echoed = expect(`e-${id}`, 1);
  const echoDurable = pair.quiesce ? expect(`durable-${id}`, 1) : undefined;
  let tAck = 0;
  const accepted = hub.publish(pair.t1, event).then(() => (tAck = now() - t0));
  await echoed;
  const t1 = now();
  stamps?.push([id, performance.timeOrigin + t0, performance.timeOrigin + t1]);
  await accepted;
  await echoDurable;
  return [t1 - t0, tAck];
}

/**
 * Tab A: `warmup` + `samples` iterations; each iteration measures one floor and one tabcast round
 * trip, in alternating order. Returns the samples in ms. `gapMs` > 0 idles that long after each
 * sample (paced, human-like traffic: nothing from one sample overlaps the next).
 */
async function pairLatency({ samples, warmup, tabcast, floor = true, gapMs = 0 }) {
  const out = { floor: [], tabcast: [], tabcastAccepted: [], stamps: { floor: [], tabcast: [] } };
  const gap = () => (gapMs > 0 ? new Promise((r) => setTimeout(r, gapMs)) : undefined);
  for (let i = 0; i < warmup + samples; i++) {
    const keep = i >= warmup;
    const floorFirst = i % 2 === 0;
    if (floor && floorFirst) {
      const f = await floorRoundTrip(i, keep ? out.stamps.floor : undefined);
      if (keep) out.floor.push(f);
      await gap();
    }
    if (tabcast) {
      const [rtt, ack] = await tabcastRoundTrip(i, keep ? out.stamps.tabcast : undefined);
      if (keep) {
        out.tabcast.push(rtt);
        out.tabcastAccepted.push(ack);
      }
      await gap();
    }
    if (floor && !floorFirst) {
      const f = await floorRoundTrip(i, keep ? out.stamps.floor : undefined);
      if (keep) out.floor.push(f);
      await gap();
    }
  }
  return out;
}

/** Tab A: one burst of `count` one-way messages to B; B answers once after the last. */
async function burst({ kind, count }) {
  if (kind === 'floor') {
    const port = floorPorts.get('pair');
    const base = imagingStudyNotification(pair.t1, 'x');
    const done = expect('burst-done', 1);
    const t0 = now();
    for (let i = 0; i < count; i++) port.postMessage({ ...base, id: `b-${i}` });
    const tSent = now() - t0;
    await done;
    return { count, ms: now() - t0, sendMs: tSent };
  }
  const base = imagingStudyOpen('x');
  const tag = Math.random().toString(36).slice(2, 8);
  const lastId = `b-${tag}-${count - 1}`;
  const done = expect(`e-burst-done-${lastId}`, 1);
  const accepted = [];
  let rejected = 0;
  const t0 = now();
  for (let i = 0; i < count; i++) accepted.push(hub.publish(pair.t1, { ...base, id: `b-${tag}-${i}` }).catch(() => rejected++));
  const tSent = now() - t0;
  await done;
  const ms = now() - t0;
  await Promise.all(accepted);
  return { count, ms, sendMs: tSent, acceptedMs: now() - t0, rejected };
}

// ---- one-to-N: A publishes, N subscriber tabs each post an ack on their own BroadcastChannel ----------

/** Subscriber tab: join `group` on the floor and subscribe to `topic`; ack both on BroadcastChannel `bench-ack-<index>`. */
async function fanJoin({ index, group, topic, events, tabcast }) {
  const ack = new BroadcastChannel(`bench-ack-${index}`);
  const port = await floorJoin(group, 'sub');
  port.onmessage = (m) => ack.postMessage({ id: m.data.id });
  let sub;
  if (tabcast) {
    const h = await connectTabcast();
    sub = await h.subscribe({ topic, events, subscriberName: `bench ${tabName}` }, (n) => {
      ack.postMessage({ id: n.id, v: n.event['context.versionId'] });
    });
  }
  subs.set(group, { port, sub, ack });
}

/** Subscriber tab: leave a group (unsubscribe, close the port). */
async function fanLeave({ group }) {
  const s = subs.get(group);
  if (!s) return;
  subs.delete(group);
  s.port.close();
  await s.sub?.unsubscribe();
  s.ack.close();
}

/** Tab A: publisher side of a group; listens on the ack channels of the given subscriber indices. */
async function fanInit({ group, indices, tabcast }) {
  await floorJoin(group, 'pub');
  for (const i of indices) {
    if (ackChannels.has(i)) continue;
    const bc = new BroadcastChannel(`bench-ack-${i}`);
    bc.onmessage = (m) => settle(m.data.id, m.data.v);
    ackChannels.set(i, bc);
  }
  if (tabcast) await connectTabcast();
}

/**
 * Tab A: `warmup` + `samples` iterations; each sends one event over the floor and one through
 * tabcast (alternating order) and waits until all `n` subscribers have acked it.
 * payload 'study': the ImagingStudy-open. 'update': DiagnosticReport-updates chained by versionId.
 */
async function fanLatency({ group, topic, n, samples, warmup, payload = 'study', tabcast, floor = true }) {
  const out = { floor: [], tabcast: [], tabcastAccepted: [] };
  const tag = Math.random().toString(36).slice(2, 8);
  let version;
  if (payload === 'update' && tabcast) {
    const id = `open-${tag}`;
    const got = expect(id, n);
    await hub.publish(topic, diagnosticReportOpen(id));
    version = (await got).version;
  }
  const make = (id, i) => (payload === 'update' ? diagnosticReportUpdate(id, i, version ?? 'none') : imagingStudyOpen(id));
  const floorOnce = async (i) => {
    const id = `f-${tag}-${i}`;
    const body = make(id, i);
    const frame = { timestamp: '2025-03-02T09:15:00.120Z', id, event: { 'hub.topic': topic, ...body } };
    const got = expect(id, n);
    const t0 = now();
    floorPorts.get(group).postMessage(frame);
    await got;
    return now() - t0;
  };
  const tabcastOnce = async (i) => {
    const id = `t-${tag}-${i}`;
    const body = make(id, i);
    const got = expect(id, n);
    const t0 = now();
    let tAck = 0;
    const accepted = hub.publish(topic, body).then(() => (tAck = now() - t0));
    const a = await got;
    const ms = now() - t0;
    await accepted;
    if (a.version) version = a.version;
    return [ms, tAck];
  };
  for (let i = 0; i < warmup + samples; i++) {
    const keep = i >= warmup;
    const floorFirst = i % 2 === 0;
    if (floor && floorFirst) {
      const f = await floorOnce(i);
      if (keep) out.floor.push(f);
    }
    if (tabcast) {
      const [ms, ack] = await tabcastOnce(i);
      if (keep) {
        out.tabcast.push(ms);
        out.tabcastAccepted.push(ack);
      }
    }
    if (floor && !floorFirst) {
      const f = await floorOnce(i);
      if (keep) out.floor.push(f);
    }
  }
  return out;
}

// ---- heap: many events, many tabs -------------------------------------------------------------

/** Tab A: publishes `count` events to `topic` in chunks, waiting for every 202. */
async function publishMany({ topic, count, chunk = 250 }) {
  const base = imagingStudyOpen('x');
  const tag = Math.random().toString(36).slice(2, 8);
  for (let i = 0; i < count; i += chunk) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + chunk); j++) batch.push(hub.publish(topic, { ...base, id: `h-${tag}-${j}` }));
    await Promise.all(batch);
  }
}

let received = 0;
/** Any tab: subscribe to `topic` and count notifications. */
async function subscribeCount({ topic }) {
  const h = await connectTabcast();
  await h.subscribe({ topic, events: ['*'], subscriberName: `bench ${tabName}` }, () => {
    received++;
  });
  return true;
}

// ---- server hub from the page: `tabcast serve` as a web app reaches it (fetch + WebSocket, CORS) --

const serve = { hubUrl: '', sockets: [] };

/** POSTs a context change to the server hub with fetch, as a web app does (JSON, so CORS preflights once). */
async function servePublish(topic, request) {
  const { id, ...event } = request;
  const res = await fetch(serve.hubUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ timestamp: new Date().toISOString(), id, event: { 'hub.topic': topic, ...event } }),
  });
  if (res.status < 200 || res.status > 299) throw new Error(`serve publish answered ${res.status}: ${await res.text()}`);
  return res;
}

/** Subscribes over HTTP, opens the WebSocket, waits for its confirmation; acks each event with 200 after `onEvent`. */
async function serveSubscribe(topic, name, onEvent) {
  const form = new URLSearchParams({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'ImagingStudy-open', 'subscriber.name': name });
  const res = await fetch(serve.hubUrl, { method: 'POST', body: form });
  if (res.status !== 202) throw new Error(`serve subscribe answered ${res.status}: ${await res.text()}`);
  const endpoint = (await res.json())['hub.channel.endpoint'];
  const ws = new WebSocket(endpoint);
  serve.sockets.push(ws);
  await new Promise((resolve, reject) => {
    ws.onerror = () => reject(new Error(`serve WebSocket ${endpoint} failed`));
    ws.onmessage = (m) => {
      const frame = JSON.parse(m.data);
      if (frame['hub.mode'] === 'subscribe') resolve();
      else reject(new Error(`expected a confirmation, got ${String(m.data).slice(0, 200)}`));
    };
  });
  ws.onmessage = (m) => {
    const frame = JSON.parse(m.data);
    if (!frame.event || frame.event['hub.event'] === 'heartbeat') return;
    onEvent(frame); // first, as tabcast's client runs the callback before it acks
    ws.send(JSON.stringify({ id: frame.id, status: 200 }));
  };
}

/** Tab B: the floor echo (pairB) plus an echo of every server-hub event of T1 as a publish to T2. */
async function serveB({ hubUrl, t1, t2 }) {
  serve.hubUrl = hubUrl;
  await pairB({ t1, t2, tabcast: false });
  const port = floorPorts.get('pair');
  await serveSubscribe(t1, 'bench B (page)', (n) => {
    const tRecv = abs();
    const echo = imagingStudyOpen(`e-${n.id}`);
    const tSend = abs();
    servePublish(t2, echo).then(() => port.postMessage({ id: `durable-${n.id}` }), reportError);
    legStamps.set(n.id, [tRecv, tSend]);
  });
}

/** Tab A: the floor (pairA) plus a server-hub subscription to T2 for the echoes. */
async function serveA({ hubUrl, t1, t2 }) {
  serve.hubUrl = hubUrl;
  await pairA({ t1, t2, tabcast: false });
  await serveSubscribe(t2, 'bench A (page)', (n) => settle(n.id));
}

async function serveRoundTrip(i, stamps) {
  const id = `s-${i}-${Math.random().toString(36).slice(2, 8)}`;
  const t0 = now();
  const echoed = expect(`e-${id}`, 1);
  const echoAnswered = expect(`durable-${id}`, 1);
  let tAck = 0;
  const accepted = servePublish(pair.t1, imagingStudyOpen(id)).then(() => (tAck = now() - t0));
  await echoed;
  const t1 = now();
  stamps?.push([id, performance.timeOrigin + t0, performance.timeOrigin + t1]);
  await accepted;
  await echoAnswered;
  return [t1 - t0, tAck];
}

/** Tab A: `warmup` + `samples` iterations, each one floor and one server-hub round trip in alternating order. */
async function serveLatency({ samples, warmup }) {
  const out = { floor: [], serve: [], serveAccepted: [], stamps: { floor: [], serve: [] } };
  for (let i = 0; i < warmup + samples; i++) {
    const keep = i >= warmup;
    const floorFirst = i % 2 === 0;
    if (floorFirst) {
      const f = await floorRoundTrip(i, keep ? out.stamps.floor : undefined);
      if (keep) out.floor.push(f);
    }
    const [rtt, ack] = await serveRoundTrip(i, keep ? out.stamps.serve : undefined);
    if (keep) {
      out.serve.push(rtt);
      out.serveAccepted.push(ack);
    }
    if (!floorFirst) {
      const f = await floorRoundTrip(i, keep ? out.stamps.floor : undefined);
      if (keep) out.floor.push(f);
    }
  }
  return out;
}

// ---- bridge: the tabs of two browser contexts, each worker bridged to the same remote hub ------

const bridges = [];

/** Opens a bridge of a local topic to a remote topic and waits until it is connected. */
async function bridgeOpen({ topic, remoteHubUrl, remoteTopic, events }) {
  const h = await connectTabcast();
  const br = await h.bridge({ topic, remoteHubUrl, remoteTopic, events });
  bridges.push(br);
  if (br.status.state !== 'connected') {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bridge ${topic} → ${remoteTopic} not connected after 10 s: ${JSON.stringify(br.status)}`)), 10_000);
      const off = br.onStatus((s) => {
        if (s.state === 'connected') {
          clearTimeout(timer);
          off();
          resolve();
        } else if (s.state === 'denied' || s.state === 'stopped') {
          clearTimeout(timer);
          off();
          reject(new Error(`bridge ${topic} → ${remoteTopic}: ${s.state} (${s.lastError ?? ''})`));
        }
      });
    });
  }
  return br.status;
}

/** Stops every bridge this tab opened; returns their last statuses. */
async function bridgesStop() {
  const statuses = [];
  for (const br of bridges.splice(0)) {
    await br.stop();
    statuses.push(br.status);
  }
  return statuses;
}

function reportError(error) {
  console.error('bench:', error);
  window.benchErrors = (window.benchErrors ?? 0) + 1;
}

window.bench = {
  hasTabcast: () => typeof Tabcast !== 'undefined',
  hasBridge: () => typeof hub?.bridge === 'function',
  isolated: () => self.crossOriginIsolated,
  connect: async () => {
    await connectTabcast();
    return true;
  },
  createTopic: async () => (await connectTabcast()).createTopic(),
  close: () => hub?.close(),
  received: () => received,
  pairA,
  pairB,
  pairMode,
  pairLatency,
  /** Tab B: hands over (and forgets) its [received, echo sent] stamps by sample id. */
  takeLegStamps: () => {
    const out = Object.fromEntries(legStamps);
    legStamps.clear();
    return out;
  },
  burst,
  fanJoin,
  fanLeave,
  fanInit,
  fanLatency,
  publishMany,
  subscribeCount,
  serveA,
  serveB,
  serveLatency,
  bridgeOpen,
  bridgesStop,
};
window.benchReady = true;
