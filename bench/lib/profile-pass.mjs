// Where the time goes: CPU profiles (CDP Profiler, 100 µs sampling) of the tabcast SharedWorker and
// of tabs A and B while they run the pair latency loop, a burst and the content-sharing updates.
// Runs apart from the measured runs, because the profiler itself costs time.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { attachSharedWorker } from './cdp.mjs';
import { openTab } from './browser.mjs';
import { breakdown, loadSourceMap } from './profile.mjs';

const call = (page, fn, arg) => page.evaluate(([f, a]) => window.bench[f](a), [fn, arg]);

export async function profilePass(browser, origin, distDir, cfg, log) {
  const maps = new Map(
    readdirSync(distDir)
      .filter((f) => f.endsWith('.js'))
      .map((f) => ['/' + f, loadSourceMap(join(distDir, `${f}.map`))]),
  );
  const context = await browser.newContext();
  const out = {};
  let worker;
  let floorWorker;
  try {
    const a = await openTab(context, origin, 'A', '&ctx=profile-pass');
    const b = await openTab(context, origin, 'B', '&ctx=profile-pass');
    const t1 = await call(a, 'createTopic');
    const t2 = await call(a, 'createTopic');
    await call(b, 'pairB', { t1, t2, tabcast: true });
    await call(a, 'pairA', { t1, t2, tabcast: true });
    worker = await attachSharedWorker(browser, { scriptPart: 'tabcast-worker', pageMarker: 'ctx=profile-pass' });
    floorWorker = await attachSharedWorker(browser, { scriptPart: 'floor-worker', pageMarker: 'ctx=profile-pass' });
    const pageA = await context.newCDPSession(a);
    const pageB = await context.newCDPSession(b);
    const tabs = [
      ['tab A', (m, p) => pageA.send(m, p)],
      ['tab B', (m, p) => pageB.send(m, p)],
    ];
    const tabcastTargets = [['worker', (m, p) => worker.send(m, p)], ...tabs];
    const floorTargets = [['floor worker', (m, p) => floorWorker.send(m, p)], ...tabs];
    for (const [, send] of [...tabcastTargets, floorTargets[0]]) {
      await send('Profiler.enable');
      await send('Profiler.setSamplingInterval', { interval: 100 });
    }
    // warm the paths before profiling
    await call(a, 'pairLatency', { samples: 100, warmup: 0, tabcast: true });
    const phase = async (name, run, targets = tabcastTargets) => {
      for (const [, send] of targets) await send('Profiler.start');
      const t0 = Date.now();
      const result = await run();
      const wallMs = Date.now() - t0;
      const profiles = {};
      for (const [who, send] of targets) profiles[who] = breakdown((await send('Profiler.stop')).profile, maps);
      out[name] = { wallMs, result, profiles };
    };
    log(`profile: floor relay (${cfg.pairSamples} round trips, for comparison)`);
    await phase('floor', () => call(a, 'pairLatency', { samples: cfg.pairSamples, warmup: 0, tabcast: false }).then((r) => ({ samples: r.floor.length })), floorTargets);
    log(`profile: pair latency (${cfg.pairSamples} round trips)`);
    await phase('pair', () => call(a, 'pairLatency', { samples: cfg.pairSamples, warmup: 0, tabcast: true, floor: false }).then((r) => ({ samples: r.tabcast.length })));
    log(`profile: burst of ${cfg.burst}`);
    await b.evaluate((n) => window.bench.pairMode('count', n), cfg.burst);
    await phase('burst', () => call(a, 'burst', { kind: 'tabcast', count: cfg.burst }));
    await b.evaluate(() => window.bench.pairMode('echo'));
    log('profile: content sharing');
    const topic = await call(a, 'createTopic');
    await call(b, 'fanJoin', { index: 98, group: 'profile-content', topic, events: ['DiagnosticReport-open', 'DiagnosticReport-update'], tabcast: true });
    await call(a, 'fanInit', { group: 'profile-content', indices: [98], tabcast: true });
    await phase('content', () => call(a, 'fanLatency', { group: 'profile-content', topic, n: 1, samples: cfg.updates, warmup: 0, payload: 'update', tabcast: true, floor: false }).then((r) => ({ updates: r.tabcast.length })));
  } finally {
    await worker?.detach();
    await floorWorker?.detach();
    await context.close();
  }
  return out;
}
