// The bridge path: tab → worker → remote hub → worker → tab, across two browser contexts (two
// SharedWorkers) bridged to the same `tabcast serve`. Worker 1 bridges T1 ↔ R1 and T4 ↔ R2, worker 2
// bridges T2 ↔ R1 and T3 ↔ R2. Tab A (context 1) publishes to T1; tab B (context 2) is subscribed
// to T2 and echoes to T3; tab A is subscribed to T4. So no tab ever sees its own event.
import { openTab, splitLegs } from './browser.mjs';

const call = (page, fn, arg) => page.evaluate(([f, a]) => window.bench[f](a), [fn, arg]);

/** One run of `warmup` + `samples` round trips; undefined when this build has no `hub.bridge`. */
export async function bridgeRun(browser, origin, hubUrl, cfg, runIndex, log) {
  const ctx1 = await browser.newContext();
  const ctx2 = await browser.newContext();
  try {
    const a = await openTab(ctx1, origin, 'bridgeA', `&run=${runIndex}`);
    const b = await openTab(ctx2, origin, 'bridgeB', `&run=${runIndex}`);
    await call(a, 'connect');
    const hasBridge = await a.evaluate(() => window.bench.hasBridge());
    if (!hasBridge) {
      log('bridge: this build has no hub.bridge; skipped');
      return undefined;
    }
    log(`run ${runIndex + 1}: bridge (${cfg.warmup} warm-up + ${cfg.samples} round trips)`);
    const [t1, t4] = [await call(a, 'createTopic'), await call(a, 'createTopic')];
    const [t2, t3] = [await call(b, 'createTopic'), await call(b, 'createTopic')];
    const tag = Math.random().toString(36).slice(2, 8);
    const [r1, r2] = [`bench-bridge-1-${tag}`, `bench-bridge-2-${tag}`];
    const events = ['ImagingStudy-open'];
    await call(a, 'bridgeOpen', { topic: t1, remoteHubUrl: hubUrl, remoteTopic: r1, events });
    await call(a, 'bridgeOpen', { topic: t4, remoteHubUrl: hubUrl, remoteTopic: r2, events });
    await call(b, 'bridgeOpen', { topic: t2, remoteHubUrl: hubUrl, remoteTopic: r1, events });
    await call(b, 'bridgeOpen', { topic: t3, remoteHubUrl: hubUrl, remoteTopic: r2, events });
    await call(b, 'pairB', { t1: t2, t2: t3, tabcast: true });
    // B's durable notes travel on the floor relay, which does not cross contexts: no quiescing here
    await call(a, 'pairA', { t1, t2: t4, tabcast: true, quiesce: false });
    const r = splitLegs(await call(a, 'pairLatency', { samples: cfg.samples, warmup: cfg.warmup, tabcast: true, floor: false }), await b.evaluate(() => window.bench.takeLegStamps()));
    const statuses = [...(await call(a, 'bridgesStop')), ...(await call(b, 'bridgesStop'))];
    return { bridge: r.tabcast, bridgeAccepted: r.tabcastAccepted, statuses };
  } catch (error) {
    log(`bridge: skipped (${String(error.message ?? error).split('\n')[0]})`);
    return undefined;
  } finally {
    await ctx1.close();
    await ctx2.close();
  }
}
