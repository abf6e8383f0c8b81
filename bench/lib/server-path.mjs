// The server-hub baseline: `tabcast serve` on loopback, two STU3 clients in this node process
// (HTTP POST over a keep-alive agent, notifications over `ws`). Same event, same echo as in the
// browser: A publishes to T1, B gets it, acks it and publishes the echo to T2, A gets the echo.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { imagingStudyOpen } from '../pages/payloads.js';

/** Starts `node bin/tabcast.js serve --port 0`; resolves once it prints its hub.url. */
export function startServe(root, extraArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${root}/bin/tabcast.js`, 'serve', '--port', '0', ...extraArgs], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => fail(new Error(`tabcast serve printed no hub.url within 15 s:\n${out}`)), 15_000);
    const fail = (error) => {
      clearTimeout(timer);
      child.kill();
      reject(error);
    };
    const onData = (chunk) => {
      out += chunk;
      const m = /FHIRcast hub listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.resume();
        child.stderr.resume();
        resolve({
          hubUrl: m[1],
          pid: child.pid,
          close: () =>
            new Promise((r) => {
              if (child.exitCode !== null) return r();
              child.once('exit', () => r());
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 3000).unref();
            }),
        });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
    child.once('exit', (code) => fail(new Error(`tabcast serve exited with ${code}:\n${out}`)));
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** POSTs a body; resolves with { status, text }. */
function post(url, contentType, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Publishes a request context change (fhircast-spec.md §5.1) as JSON. */
export async function publish(hubUrl, topic, request) {
  const { id, ...event } = request;
  const body = JSON.stringify({ timestamp: new Date().toISOString(), id, event: { 'hub.topic': topic, ...event } });
  const res = await post(hubUrl, 'application/json', body);
  if (res.status < 200 || res.status > 299) throw new Error(`publish answered ${res.status}: ${res.text}`);
  return res;
}

/** Subscribes over HTTP, opens the WebSocket, waits for the confirmation; acks every event with 200. */
export async function subscribe(hubUrl, topic, events, name, onEvent) {
  const form = new URLSearchParams({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': events.join(','), 'subscriber.name': name });
  const res = await post(hubUrl, 'application/x-www-form-urlencoded', form.toString());
  if (res.status !== 202) throw new Error(`subscribe answered ${res.status}: ${res.text}`);
  const endpoint = JSON.parse(res.text)['hub.channel.endpoint'];
  const ws = new WebSocket(endpoint);
  await new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('message', (data) => {
      const frame = JSON.parse(String(data));
      if (frame['hub.mode'] === 'subscribe') resolve();
      else reject(new Error(`expected a confirmation, got ${String(data).slice(0, 200)}`));
    });
  });
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data));
    if (!frame.event || frame.event['hub.event'] === 'heartbeat') return;
    onEvent(frame); // first, as tabcast's client runs the callback before it acks
    ws.send(JSON.stringify({ id: frame.id, status: 200 }));
  });
  return { ws, endpoint, close: () => ws.close(1000) };
}

/**
 * Round trips A → serve → B → serve → A: `warmup` + `samples`, sequential. Returns the samples (ms)
 * and the POST → 202 times of A's publishes.
 */
export async function serverLatency(hubUrl, { samples, warmup }) {
  const tag = Math.random().toString(36).slice(2, 8);
  const t1 = `bench-serve-1-${tag}`;
  const t2 = `bench-serve-2-${tag}`;
  const waiters = new Map();
  const received = new Map(); // sample id → when B had it
  const echoes = new Map(); // sample id → B's echo POST (awaited, untimed, before the next sample)
  const b = await subscribe(hubUrl, t1, ['ImagingStudy-open'], 'bench B', (n) => {
    received.set(n.id, performance.now());
    const echoed = publish(hubUrl, t2, imagingStudyOpen(`e-${n.id}`));
    echoes.set(n.id, echoed);
    echoed.catch((e) => console.error('server echo failed:', e.message));
  });
  const a = await subscribe(hubUrl, t2, ['ImagingStudy-open'], 'bench A', (n) => {
    const w = waiters.get(n.id);
    if (w) {
      waiters.delete(n.id);
      w();
    }
  });
  const out = { tabcastServe: [], tabcastServeAccepted: [], tabcastServeOneWay: [] };
  try {
    for (let i = 0; i < warmup + samples; i++) {
      const id = `a-${tag}-${i}`;
      const echoed = new Promise((r) => waiters.set(`e-${id}`, r));
      const t0 = performance.now();
      let tAck = 0;
      const accepted = publish(hubUrl, t1, imagingStudyOpen(id)).then(() => (tAck = performance.now() - t0));
      await echoed;
      const rtt = performance.now() - t0;
      await accepted;
      await echoes.get(id)?.catch(() => undefined);
      echoes.delete(id);
      if (i >= warmup) {
        out.tabcastServeOneWay.push(received.get(id) - t0);
        out.tabcastServe.push(rtt);
        out.tabcastServeAccepted.push(tAck);
      }
    }
  } finally {
    a.close();
    b.close();
  }
  return out;
}
