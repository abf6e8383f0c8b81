import { expect, test } from '@playwright/test';
import { MODES, openApp, reportOpen, reportUpdate, sharedWorkerTargets, uniqueWorkerUrl } from './support.js';

for (const mode of MODES) {
  test(`HUB-PERSIST-02 HUB-PERSIST-03 closing every tab and opening a new one restores the context, content versionId included (${mode})`, async ({ context, browser }, info) => {
    const workerUrl = uniqueWorkerUrl(info.testId);
    const a = await openApp(context, mode, 'Reporting', { workerUrl });
    const b = await openApp(context, mode, 'Viewer', { workerUrl });
    const topic = await a.evaluate(() => harness.hub.createTopic());
    expect((await a.evaluate(([t, r]) => harness.publish(t, r), [topic, reportOpen('dr-1', 'pt-7')] as const)).status).toBe(202);
    const opened = await b.evaluate((t) => harness.hub.getContext(t), topic);
    const updated = await b.evaluate(([t, r]) => harness.publish(t, r), [topic, reportUpdate('dr-1', opened['context.versionId'], 'obs-1')] as const);
    expect(updated.status).toBe(202); // resolved only once durable
    const before = await a.evaluate((t) => harness.hub.getContext(t), topic);
    expect(before['context.versionId']).not.toBe(opened['context.versionId']);
    expect(before.context.at(-1).resource.entry).toHaveLength(1);

    await a.close();
    await b.close();
    // Nothing of the old hub may survive: its worker is gone (no tabs, no leader).
    if (mode === 'shared-worker') await expect.poll(() => sharedWorkerTargets(browser, info.testId)).toHaveLength(0);

    const c = await openApp(context, mode, 'Reporting again', { workerUrl });
    expect(await c.evaluate((t) => harness.hub.getContext(t), topic)).toEqual(before);
    // The restored versionId still guards the content: stale is refused, current is accepted.
    const stale = await c.evaluate(([t, r]) => harness.publish(t, r), [topic, reportUpdate('dr-1', opened['context.versionId'], 'obs-2')] as const);
    expect(stale.error).toMatchObject({ isHubError: true, status: 409, outcome: { issue: [{ code: 'conflict' }] } });
    const fresh = await c.evaluate(([t, r]) => harness.publish(t, r), [topic, reportUpdate('dr-1', before['context.versionId'], 'obs-2')] as const);
    expect(fresh.status).toBe(202);
  });
}
