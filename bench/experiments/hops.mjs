// Hop by hop: where one publish (tab A) → notification (tab B) leg spends its time, next to the
// same leg through a stamped floor relay. Needs a build with bench/experiments/stamps.patch:
//
//   node bench/experiments/make.mjs /tmp/tabcast-exp stamps
//   node bench/experiments/hops.mjs /tmp/tabcast-exp/stamps [samples]
//
// Tabs stamp with 5 µs clocks; workers are not cross-origin isolated (100 µs jittered steps), so
// worker segments are reported as means. Tab clocks are aligned with the floor's symmetric legs.
import { resolve } from 'node:path';
import { startBenchServer } from '../server.mjs';
import { launch } from '../lib/browser.mjs';
import { attachSharedWorker } from '../lib/cdp.mjs';
import { quantile } from '../lib/stats.mjs';

const lib = resolve(process.argv[2] ?? '/tmp/tabcast-exp/stamps');
const N = Number(process.argv[3] ?? 600);
const server = await startBenchServer({ distDir: `${lib}/dist` });
const browser = await launch();
const ctx = await browser.newContext();
await ctx.addInitScript(() => {
  const d = (window.__diag = { posts: [], lastDispatch: 0 });
  const post = MessagePort.prototype.postMessage;
  MessagePort.prototype.postMessage = function (m, t) {
    const x = performance.now();
    const r = post.call(this, m, t);
    d.posts.push([x, performance.now()]);
    return r;
  };
  const add = MessagePort.prototype.addEventListener;
  MessagePort.prototype.addEventListener = function (type, fn, o) {
    if (type !== 'message') return add.call(this, type, fn, o);
    return add.call(this, type, function (ev) { d.lastDispatch = performance.now(); return fn.call(this, ev); }, o);
  };
});
const open = async (name) => { const p = await ctx.newPage(); await p.goto(`${server.origin}/bench/tab.html?name=${name}&ctx=hops`); await p.waitForFunction(() => window.benchReady); return p; };
const a = await open('A'); const b = await open('B');
const call = (page, fn, arg) => page.evaluate(([f, x]) => window.bench[f](x), [fn, arg]);
const t1 = await call(a, 'createTopic'); const t2 = await call(a, 'createTopic');
// B: echo, recording dispatch start and callback entry
await b.evaluate(async ({ t1, t2 }) => {
  const { imagingStudyOpen } = await import('/bench/payloads.js');
  window.__rec = new Map();
  const h = await window.Tabcast.connect({ appName: 'diag B' });
  await h.subscribe({ topic: t1, events: ['ImagingStudy-open'] }, (n) => {
    const cb = performance.now();
    const disp = window.__diag.lastDispatch;
    window.__diag.posts.length = 0;
    h.publish(t2, imagingStudyOpen(`e-${n.id}`));
    window.__rec.set(n.id, [disp, cb, window.__diag.posts[0]?.[0], performance.timeOrigin]);
  });
  // floor echo on the stamped floor worker
  const w = new SharedWorker('/bench/floor-stamped-worker.js', { name: 'diag' });
  await new Promise((r) => { w.port.onmessage = r; w.port.start(); w.port.postMessage({ group: 'd', role: 'sub' }); });
  w.port.onmessage = (m) => { const d = m.data; const cb = performance.now(); window.__rec.set(d.id, [cb, cb, performance.now(), performance.timeOrigin]); w.port.postMessage(d); };
}, { t1, t2 });
const aRec = await a.evaluate(async ({ n, t1, t2 }) => {
  const { imagingStudyOpen, imagingStudyNotification } = await import('/bench/payloads.js');
  const h = await window.Tabcast.connect({ appName: 'diag A' });
  let waiter;
  await h.subscribe({ topic: t2, events: ['ImagingStudy-open'] }, (x) => { const t = performance.now(); if (waiter && x.id === waiter.id) waiter.resolve([t, window.__diag.lastDispatch]); });
  const w = new SharedWorker('/bench/floor-stamped-worker.js', { name: 'diag' });
  await new Promise((r) => { w.port.onmessage = r; w.port.start(); w.port.postMessage({ group: 'd', role: 'pub' }); });
  const out = [];
  for (let i = 0; i < n; i++) {
    // floor
    {
      const id = `fd-${i}`;
      const frame = imagingStudyNotification('T', id);
      const t0 = performance.now();
      const back = await new Promise((r) => { w.port.onmessage = () => r(performance.now()); w.port.postMessage(frame); });
      out.push({ kind: 'floor', id, t0, post: t0, end: back, to: performance.timeOrigin });
      await new Promise((r) => setTimeout(r, 5));
    }
    // tabcast
    {
      const id = `tc-${i}-${Math.random().toString(36).slice(2, 6)}`;
      window.__diag.posts.length = 0;
      const got = new Promise((resolve) => (waiter = { id: `e-${id}`, resolve }));
      const t0 = performance.now();
      const acc = h.publish(t1, imagingStudyOpen(id));
      const tRet = performance.now();
      await Promise.resolve(); await Promise.resolve(); await Promise.resolve();
      const post = window.__diag.posts[0]?.[0];
      const [end, endDisp] = await got;
      await acc;
      await new Promise((r) => setTimeout(r, 5)); // B's echo is durable too: the next sample starts quiet
      out.push({ kind: 'tc', id, t0, tRet, post, end, endDisp, to: performance.timeOrigin });
    }
  }
  return out;
}, { n: N, t1, t2 });
const bRec = await b.evaluate(() => Object.fromEntries(window.__rec));
const ws = await attachSharedWorker(browser, { scriptPart: 'tabcast-worker', pageMarker: 'ctx=hops' });
const wt = JSON.parse((await ws.send('Runtime.evaluate', { expression: 'JSON.stringify(globalThis.__bench)', returnByValue: true })).result.value);
const fw = await attachSharedWorker(browser, { scriptPart: 'floor-stamped-worker', pageMarker: 'ctx=hops' });
const ft = JSON.parse((await fw.send('Runtime.evaluate', { expression: 'JSON.stringify(globalThis.__bench)', returnByValue: true })).result.value);
const wById = new Map(wt.stamps.map((s) => [s.id, s]));
const fById = new Map(ft.stamps.map((s) => [s.id, s]));
// A/B clock offset from the floor's symmetric legs
const abs = (rec, t) => rec.to + t;
const fl = aRec.filter((r) => r.kind === 'floor').slice(50);
const bAbs = (bb, t) => bb[3] + t;
const oneRaw = fl.map((r) => bAbs(bRec[r.id], bRec[r.id][1]) - abs(r, r.t0));
const backRaw = fl.map((r) => abs(r, r.end) - bAbs(bRec[r.id], bRec[r.id][2]));
const off = (quantile(oneRaw, 0.5) - quantile(backRaw, 0.5)) / 2;
const seg = {};
const add = (k, v) => { if (Number.isFinite(v)) (seg[k] ??= []).push(v); };
for (const r of aRec.slice(100)) {
  const bb = bRec[r.id];
  if (!bb) continue;
  const bDisp = bAbs(bb, bb[0]) - off; const bCb = bAbs(bb, bb[1]) - off;
  if (r.kind === 'floor') {
    const w = fById.get(r.id);
    add('F1 total A send → B onmessage', bCb - abs(r, r.t0));
    if (w) add('F3 W internal (dispatch → posted)', w.w[2] - w.w[0]);
  } else {
    const w = wById.get(r.id);
    add('T1 total A publish() → B callback', bCb - abs(r, r.t0));
    add('T2 A: publish() → control postMessage', r.post - r.t0);
    add('T2b A: publish() sync part', r.tRet - r.t0);
    if (w) {
      const [g0, g1, p0, p1, s0, s1] = w.w;
      add('T3 W internal (dispatch → event posted)', s1 - g0);
      add('T3a W deserialize (event.data)', g1 - g0);
      add('T3b W guard → Comlink → api.publish', p0 - g1);
      add('T3c W jsonBody', p1 - p0);
      add('T3d W engine until post', s0 - p1);
      add('T3e W postMessage of event', s1 - s0);
      add('T3f W rest of sync publish after post', w.c.t5 - s1);
    }
    add('T4 B: port dispatch → callback', bCb - bDisp);
    add('T5 B: callback → echo control post', bb[2] - bb[1]);
    add('T6 A: echo dispatch → callback', r.end - r.endDisp);
  }
}
seg['W flush: JSON copy of record'] = wt.flush.map((f) => f[1] - f[0]);
seg['W flush: IDB put+transaction (sync)'] = wt.flush.filter((f) => f.length >= 4).map((f) => f[3] - f[2]);
const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
console.log('A/B clock offset', off.toFixed(3), 'ms');
for (const [name, xs] of Object.entries(seg).sort()) console.log(name.padEnd(44), 'mean', mean(xs).toFixed(3), 'median', quantile(xs, 0.5).toFixed(3), 'p90', quantile(xs, 0.9).toFixed(3), 'n', xs.length);
await browser.close(); await server.close();
