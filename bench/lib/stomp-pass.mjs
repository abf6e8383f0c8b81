// Issue 13 bench: a STOMP round trip against the STU3 WebSocket's, in the same run, sampled in turn
// (paired: sample i of each path, alternating which goes first), both in the page and against
// `tabcast serve`. The round trip is A → hub → B → echo → hub → A with the ~2 KB ImagingStudy-open
// (pages/payloads.js): over STOMP both legs are SENDs on the socket; over STU3 they are HTTP POSTs
// (hub.fetch in the page), with notifications and acks on the WebSocket.
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Client } from '@stomp/stompjs';
import { WebSocket } from 'ws';
import { imagingStudyOpen } from '../pages/payloads.js';
import { publish, subscribe } from './server-path.mjs';
import { ratio, summarize } from './stats.mjs';

const STOMP_UMD = fileURLToPath(new URL('../../node_modules/@stomp/stompjs/bundles/stomp.umd.js', import.meta.url));

/** Paired samples of two paths; `run(path, i)` resolves with one round trip in ms. */
async function paired(run, { samples, warmup }) {
  const out = { stomp: [], stu3: [] };
  for (let i = 0; i < warmup + samples; i++) {
    const order = i % 2 === 0 ? ['stomp', 'stu3'] : ['stu3', 'stomp'];
    for (const path of order) {
      const ms = await run(path, i);
      if (i >= warmup) out[path].push(ms);
    }
  }
  return out;
}

/** The figures of one pass: each path's summary and the median ratio STOMP / STU3. */
function figures(samples) {
  const stomp = summarize(samples.stomp);
  const stu3 = summarize(samples.stu3);
  return { stomp, stu3, medianRatio: ratio(stomp?.median, stu3?.median), p95Ratio: ratio(stomp?.p95, stu3?.p95) };
}

/** The in-page pass: one tab, both channels to its in-page hub. */
export async function stompInPage(browser, origin, cfg) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`[stomp bench] page error: ${e.message}`));
    await page.goto(`${origin}/bench/stomp.html`);
    await page.addScriptTag({ path: STOMP_UMD });
    await page.waitForFunction(() => window.stompBenchReady === true);
    await page.evaluate(() => window.stompBench.setup());
    const samples = await paired((path, i) => page.evaluate(([p, n]) => window.stompBench[p](n), [path, i]), cfg);
    return { samples, ...figures(samples) };
  } finally {
    await context.close();
  }
}

function nodeStomp(url, name) {
  const client = new Client({ webSocketFactory: () => new WebSocket(url, ['v12.stomp']), connectHeaders: { 'client-id': name }, heartbeatIncoming: 0, heartbeatOutgoing: 0, reconnectDelay: 0 });
  return new Promise((resolve) => {
    client.onConnect = () => resolve(client);
    client.activate();
  });
}

const subscribed = (client, destination, onMessage) =>
  new Promise((resolve) => {
    const receipt = `sub-${Math.random().toString(36).slice(2)}`;
    client.watchForReceipt(receipt, resolve);
    client.subscribe(destination, onMessage, { receipt });
  });

const send = (client, topic, request) =>
  client.publish({ destination: `/hub/fhircast/${topic}/ImagingStudy-open`, body: JSON.stringify({ timestamp: new Date().toISOString(), id: request.id, event: { context: request.context } }) });

/** The serve pass: stompjs over `ws` against `{hub.url}/websocket`, the STU3 clients of server-path.mjs. */
export async function stompAgainstServe(hubUrl, cfg) {
  const tag = Math.random().toString(36).slice(2, 8);
  const [t1, t2, t3, t4] = [1, 2, 3, 4].map((n) => `bench-stomp-${n}-${tag}`);
  const waiters = new Map();
  const arrived = (id) => {
    const w = waiters.get(id);
    if (w) {
      waiters.delete(id);
      w(performance.now());
    }
  };
  const stompUrl = `${hubUrl.replace(/^http/, 'ws')}/websocket`;
  const a = await nodeStomp(stompUrl, 'STOMP A');
  const b = await nodeStomp(stompUrl, 'STOMP B');
  await subscribed(b, `/hub/fhircast/${t1}/ImagingStudy-open`, (m) => send(b, t2, imagingStudyOpen(`e-${JSON.parse(m.body).id}`)));
  await subscribed(a, `/hub/fhircast/${t2}/ImagingStudy-open`, (m) => arrived(JSON.parse(m.body).id));
  const sb = await subscribe(hubUrl, t3, ['ImagingStudy-open'], 'STU3 B', (n) => void publish(hubUrl, t4, imagingStudyOpen(`e-${n.id}`)).catch(() => undefined));
  const sa = await subscribe(hubUrl, t4, ['ImagingStudy-open'], 'STU3 A', (n) => arrived(n.id));
  try {
    const samples = await paired((path, i) => {
      const id = `${path}-${i}-${tag}`;
      const done = new Promise((resolve) => waiters.set(`e-${id}`, resolve));
      const t0 = performance.now();
      if (path === 'stomp') send(a, t1, imagingStudyOpen(id));
      else void publish(hubUrl, t3, imagingStudyOpen(id));
      return done.then((t) => t - t0);
    }, cfg);
    return { samples, ...figures(samples) };
  } finally {
    sa.close();
    sb.close();
    await Promise.all([a.deactivate(), b.deactivate()]);
  }
}

/** One line per pass for the console. */
export function stompSummary(result) {
  const line = (name, r) =>
    r ? `${name}: STOMP median ${r.stomp.median.toFixed(2)} ms (p95 ${r.stomp.p95.toFixed(2)}), STU3 WebSocket median ${r.stu3.median.toFixed(2)} ms (p95 ${r.stu3.p95.toFixed(2)}); STOMP/STU3 = ${r.medianRatio.toFixed(2)} (median), ${r.p95Ratio.toFixed(2)} (p95)` : `${name}: not measured`;
  return [line('in the page', result.inPage), line('tabcast serve', result.serve)].join('\n');
}
