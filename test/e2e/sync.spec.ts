import { expect, test } from '@playwright/test';
import { entry, isLeaderTab, MODES, openApp, patientOpen, sharedWorkerTargets, uniqueWorkerUrl } from './support.js';

for (const mode of MODES) {
  test.describe(`tabs in sync (${mode})`, () => {
    test('two tabs see each other\u2019s context changes, in both directions', async ({ context }) => {
      const a = await openApp(context, mode, 'Worklist');
      const b = await openApp(context, mode, 'Viewer');
      const topic = await a.evaluate(() => harness.hub.createTopic());
      for (const page of [a, b]) await page.evaluate((t) => harness.subscribe(t, ['Patient-open', 'Patient-close']), topic);

      const fromA = await a.evaluate(([t, req]) => harness.publish(t, req), [topic, patientOpen('pt-1')] as const);
      expect(fromA).toEqual({ status: 202, id: expect.any(String) });
      await b.waitForFunction(() => harness.events.length === 1);
      expect(await b.evaluate(() => harness.events[0])).toEqual({
        timestamp: expect.any(String),
        id: fromA.id,
        event: { 'hub.topic': topic, 'hub.event': 'Patient-open', context: [entry('patient', 'Patient', 'pt-1')], 'context.versionId': expect.any(String) },
      });

      const fromB = await b.evaluate(([t, req]) => harness.publish(t, req), [topic, patientOpen('pt-2')] as const);
      await a.waitForFunction(() => harness.events.length === 2);
      expect(await a.evaluate(() => harness.events.map((n) => n.id))).toEqual([fromA.id, fromB.id]);
      const current = await a.evaluate((t) => harness.hub.getContext(t), topic);
      expect(current['context.type']).toBe('Patient');
      expect(current.context[0]).toEqual(entry('patient', 'Patient', 'pt-2'));
    });

    test('five tabs receive every change in the same order', async ({ context }) => {
      const pages = [];
      for (let i = 0; i < 5; i++) pages.push(await openApp(context, mode, `App ${i}`));
      const topic = await pages[0]!.evaluate(() => harness.hub.createTopic());
      for (const page of pages) await page.evaluate((t) => harness.subscribe(t, ['Patient-open']), topic);
      const ids: string[] = [];
      for (const [i, page] of pages.entries()) {
        const answer = await page.evaluate(([t, req]) => harness.publish(t, req), [topic, patientOpen(`pt-${i}`)] as const);
        ids.push(answer.id);
      }
      for (const page of pages) {
        await page.waitForFunction(() => harness.events.length === 5);
        expect(await page.evaluate(() => harness.events.map((n) => n.id))).toEqual(ids);
      }
      const snapshot = await pages[4]!.evaluate(() => harness.hub.inspect());
      const mine = snapshot.topics.find((t: { topic: string }) => t.topic === topic);
      expect(mine.subscribers.map((s: { name: string }) => s.name).sort()).toEqual(['App 0', 'App 1', 'App 2', 'App 3', 'App 4']);
    });
  });
}

test('auto mode runs the hub in a SharedWorker, and a page forced to leader-tab mode joins that same hub', async ({ context, browser }, info) => {
  const workerUrl = uniqueWorkerUrl(info.testId);
  const auto = await openApp(context, 'auto', 'Auto', { workerUrl });
  expect(await sharedWorkerTargets(browser, info.testId)).toHaveLength(1);
  const forced = await openApp(context, 'leader-tab', 'Forced', { workerUrl });
  expect(await isLeaderTab(forced)).toBe(false); // it found the worker's host on the bus instead of electing itself
  const topic = await auto.evaluate(() => harness.hub.createTopic());
  await forced.evaluate((t) => harness.subscribe(t, ['Patient-open']), topic);
  const sent = await auto.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-1')] as const);
  await forced.waitForFunction((id) => harness.events.some((n) => n.id === id), sent.id);
});
