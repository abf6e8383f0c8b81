// Issue #19 M1 "Must show": the cost of one subscribe as never-connected subscriptions pile up in
// `tabcast serve`, from 1 to 100,000 (10,000 with --quick). A subscribe should cost the same at
// every size: no engine call may scan all subscriptions. Measured as the server's own CPU time
// per subscribe (from /proc, so the load of other processes matters less) and wall time, in a
// window of subscribes at each size; the figure that counts is the ratio of the last to the first.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { startServe } from './server-path.mjs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU time (user + system) of a process in ms, from /proc/PID/stat. */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

function rssMb(pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Posts `count` subscribes, `concurrency` at a time, over keep-alive connections. */
async function subscribeMany(hubUrl, agent, count, concurrency, serial) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const body = `hub.channel.type=websocket&hub.mode=subscribe&hub.topic=bench-unconnected-${(serial.n + i) % 97}&hub.events=Patient-open`;
      await new Promise((resolve, reject) => {
        const req = http.request(hubUrl, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
          if (res.statusCode !== 202) reject(new Error(`subscribe answered ${res.statusCode}`));
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end(body);
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  serial.n += count;
}

function post(hubUrl, agent, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(hubUrl, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Warms the server's code paths with subscribes that are unsubscribed at once, so the count stays at zero. */
async function warmUp(hubUrl, agent, count) {
  for (let i = 0; i < count; i++) {
    const topic = `bench-warm-${i % 7}`;
    const made = await post(hubUrl, agent, `hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}&hub.events=Patient-open`);
    const endpoint = JSON.parse(made.text)['hub.channel.endpoint'];
    await post(hubUrl, agent, new URLSearchParams({ 'hub.channel.type': 'websocket', 'hub.mode': 'unsubscribe', 'hub.topic': topic, 'hub.channel.endpoint': endpoint }).toString());
  }
}

/**
 * Runs the pass against `root`'s bin/tabcast.js: `sizes` are the subscription counts at which a
 * window of `window` subscribes is measured.
 */
export async function unconnectedPass(root, { sizes, window, concurrency }, log) {
  // A hub with a connect deadline (issue #12) would end the first subscriptions during a long fill.
  const usage = spawnSync(process.execPath, [`${root}/bin/tabcast.js`, '--help'], { encoding: 'utf8' }).stdout ?? '';
  const deadline = usage.includes('--connect-timeout-ms') ? ['--connect-timeout-ms', '2000000000'] : [];
  const topics = usage.includes('--max-topics') ? ['--max-topics', '1000000'] : [];
  const serve = await startServe(root, ['--max-unconnected-per-ip', '1000000', '--heartbeat-ms', '0', ...deadline, ...topics]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const serial = { n: 0 };
  const rows = [];
  try {
    log('unconnected: warming up (subscribe + unsubscribe)');
    await warmUp(serve.hubUrl, agent, 2000);
    for (const size of sizes) {
      const fill = size - serial.n;
      if (fill > 0) {
        log(`unconnected: filling to ${size} subscriptions`);
        await subscribeMany(serve.hubUrl, agent, fill, concurrency, serial);
      }
      const cpu0 = cpuMs(serve.pid);
      const t0 = performance.now();
      await subscribeMany(serve.hubUrl, agent, window, concurrency, serial);
      const wallMs = (performance.now() - t0) / window;
      const serverCpuMs = (cpuMs(serve.pid) - cpu0) / window;
      rows.push({ size, serverCpuMs, wallMs, rssMb: rssMb(serve.pid) });
      log(`unconnected: at ${size}: ${(serverCpuMs * 1000).toFixed(0)} µs server CPU, ${(wallMs * 1000).toFixed(0)} µs wall per subscribe`);
    }
  } finally {
    agent.destroy();
    await serve.close();
  }
  const first = rows[0];
  const last = rows.at(-1);
  return { rows, window, ratio: { serverCpu: last.serverCpuMs / first.serverCpuMs, wall: last.wallMs / first.wallMs }, from: first.size, to: last.size };
}

/** The pass as text for the console and docs. */
export function unconnectedText(result) {
  const lines = [`Subscribe cost vs never-connected subscriptions held (window of ${result.window} subscribes at each size)`];
  lines.push('  subscriptions   server CPU/sub   wall/sub   server RSS');
  for (const r of result.rows) {
    lines.push(`  ${String(r.size).padStart(13)}   ${(r.serverCpuMs * 1000).toFixed(0).padStart(11)} µs   ${(r.wallMs * 1000).toFixed(0).padStart(5)} µs   ${r.rssMb.toFixed(0).padStart(6)} MB`);
  }
  lines.push(`  ratio ${result.to} / ${result.from}: server CPU ×${result.ratio.serverCpu.toFixed(2)}, wall ×${result.ratio.wall.toFixed(2)}`);
  return lines.join('\n');
}
