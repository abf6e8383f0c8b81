// `npm run bench -- cluster`: cluster mode (issue 15) against the built dist/ and a real redis-server
// on a free loopback port (persistence off). Every figure is a ratio to one plain instance (no Redis)
// measured in the same run, since the machine is shared:
//   - publish → notify: one subscriber, the publisher posts to another instance than the one holding
//     the subscriber's socket;
//   - fan-out: 300 subscribers spread over 3 instances, time until the last one has the event;
//   - per-change cost on Redis with 1,000 open contexts on the topic, against 10 (flat means ≈ 1×).
// Runs: --runs N (default 5) rounds, alternating which side goes first (cluster first in every other
// round), so warm-up and drift hit both sides alike; each ratio is per round, reported as the median
// of the rounds with their range.
// Flags: --samples N (default 200), --fan-samples N (default 30), --runs N (default 5). Prints a table; writes nothing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { startServe } from './lib/server-path.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const num = (name, fallback) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
const SAMPLES = num('--samples', 200);
const FAN_SAMPLES = num('--fan-samples', 30);
const RUNS = num('--runs', 5);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const child = spawn(process.env.REDIS_SERVER ?? 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code})`)));
  });
  child.stdout.resume();
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

function post(url, body, form = false) {
  const text = form ? new URLSearchParams(body).toString() : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

let counter = 0;
const patientOpen = (topic, id) => ({ timestamp: new Date().toISOString(), id: `ev-${++counter}`, event: { 'hub.topic': topic, 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id } }] } });

/** Subscribes through `issuer`, opens the socket on `opener`; every notification is acked and handed to `onEvent`. */
async function subscriber(issuer, opener, topic, onEvent) {
  const res = await post(issuer, { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'Patient-open' }, true);
  const endpoint = JSON.parse(res.body)['hub.channel.endpoint'].replace(/^ws:\/\/[^/]+/, `ws://${new URL(opener).host}`);
  const ws = new WebSocket(endpoint);
  await new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame['hub.mode'] === 'subscribe') return resolve();
      if (frame.event) {
        ws.send(JSON.stringify({ id: frame.id, status: 200 }));
        onEvent(frame);
      }
    });
    ws.once('error', reject);
  });
  return ws;
}

const median = (xs) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length * 0.95)];

/** publish → notify: the publisher posts to `publishTo`, the subscriber's socket is on `holder`. */
async function publishToNotify(publishTo, holder, label) {
  const topic = `bench-pn-${label}-${Date.now()}`;
  let waiting;
  const ws = await subscriber(holder, holder, topic, (f) => waiting?.(f));
  const times = [];
  for (let i = 0; i < SAMPLES + 20; i++) {
    const body = patientOpen(topic, `p-${i}`);
    const got = new Promise((r) => (waiting = (f) => f.id === body.id && r()));
    const t0 = performance.now();
    await post(publishTo, body);
    await got;
    if (i >= 20) times.push(performance.now() - t0);
  }
  ws.terminate();
  return times;
}

/** Fan-out: 300 subscribers over `hubs`, time until the last one has the event. */
async function fanOut(hubs, label) {
  const topic = `bench-fan-${label}-${Date.now()}`;
  let pending = 0;
  let done;
  let want;
  const socks = [];
  for (let i = 0; i < 300; i++) {
    socks.push(await subscriber(hubs[i % hubs.length], hubs[(i + 1) % hubs.length], topic, (f) => {
      if (f.id === want && --pending === 0) done();
    }));
  }
  const times = [];
  for (let i = 0; i < FAN_SAMPLES + 3; i++) {
    const body = patientOpen(topic, `p-${i}`);
    want = body.id;
    pending = 300;
    const all = new Promise((r) => (done = r));
    const t0 = performance.now();
    await post(hubs[i % hubs.length], body);
    await all;
    if (i >= 3) times.push(performance.now() - t0);
  }
  for (const s of socks) s.terminate();
  return times;
}

/** Per-change cost at `open` open contexts: the time of one more open (202 answered), on `hub`. */
async function perChange(hub, open, label) {
  const topic = `bench-scale-${label}-${open}-${Date.now()}`;
  for (let i = 0; i < open; i++) await post(hub, patientOpen(topic, `base-${i}`));
  const times = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    const r = await post(hub, patientOpen(topic, `base-${i % open}`)); // a re-open: touches one context, the header
    if (r.status !== 202) throw new Error(`publish answered ${r.status}: ${r.body}`);
    times.push(performance.now() - t0);
  }
  return times;
}

if (!existsSync(`${root}dist/tabcast-server.js`)) {
  console.log('dist/ is missing: building it first (npm run build)…');
  if (spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
}

const redis = await startRedis();
// 300 sockets come from this one process (one address): lift the per-address caps (HUB-SEC-14).
const quiet = ['--heartbeat-ms', '0', '--ack-timeout-ms', '0', '--max-open-contexts', '2000', '--max-connections-per-ip', '2000', '--max-unconnected-per-ip', '2000'];
const single = await startServe(root, quiet);
const cluster = [];
for (const id of ['a', 'b', 'c']) cluster.push(await startServe(root, [...quiet, '--redis', redis.url, '--instance-id', id]));
const [a, b, c] = cluster.map((s) => s.hubUrl);
try {
  /** Measures `first` and `second` in the order of the round: `second` goes first in every other round. */
  const paired = async (round, first, second) => {
    if (round % 2 === 0) return [await first(), await second()];
    const later = await second();
    return [await first(), later];
  };
  const WHAT = ['publish → notify (publisher on another instance)', 'fan-out to 300 subscribers (3 instances)', 'per-change cost on Redis: 1,000 vs 10 open contexts'];
  const rounds = WHAT.map(() => []);
  for (let round = 0; round < RUNS; round++) {
    const measured = [
      await paired(round, () => publishToNotify(single.hubUrl, single.hubUrl, `single${round}`), () => publishToNotify(a, b, `cluster${round}`)),
      await paired(round, () => fanOut([single.hubUrl], `single${round}`), () => fanOut([a, b, c], `cluster${round}`)),
      await paired(round, () => perChange(a, 10, `redis${round}`), () => perChange(a, 1000, `redis${round}`)),
    ];
    measured.forEach(([base, other], i) => rounds[i].push({ base: median(base), other: median(other), ratio: median(other) / median(base), p95b: p95(base), p95o: p95(other) }));
    console.log(`round ${round + 1}/${RUNS}: ${rounds.map((r) => r.at(-1).ratio.toFixed(2) + '×').join(', ')}`);
  }
  const mid = (list, key) => median(list.map((r) => r[key]));
  const range = (list) => `${Math.min(...list.map((r) => r.ratio)).toFixed(2)}–${Math.max(...list.map((r) => r.ratio)).toFixed(2)}`;
  console.log(`\ncluster bench (${RUNS} rounds, alternating order; ${SAMPLES} samples, fan-out ${FAN_SAMPLES}; medians over rounds of each round's median, p95 in brackets)\n`);
  console.log('| what | baseline | cluster | ratio: median of rounds (min–max) |');
  console.log('| --- | --- | --- | --- |');
  WHAT.forEach((what, i) => console.log(`| ${what} | ${mid(rounds[i], 'base').toFixed(2)} (${mid(rounds[i], 'p95b').toFixed(2)}) ms | ${mid(rounds[i], 'other').toFixed(2)} (${mid(rounds[i], 'p95o').toFixed(2)}) ms | ${mid(rounds[i], 'ratio').toFixed(2)}× (${range(rounds[i])}) |`));
  console.log('\nBaselines: one plain instance (no Redis) for the first two rows; 10 open contexts on the same clustered instance for the last.');
} finally {
  await Promise.all([single, ...cluster].map((s) => s.close()));
  redis.stop();
  agent.destroy();
}
