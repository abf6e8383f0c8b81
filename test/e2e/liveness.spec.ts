import { expect, test } from '@playwright/test';
import { isLeaderTab, MODES, openApp, patientOpen, subscribersOf } from './support.js';

for (const mode of MODES) {
  test.describe(`liveness (${mode})`, () => {
    test('HUB-SYNC-08 a tab closed without hub.close() loses its subscription, and SyncError subscribers are told', async ({ context }) => {
      const watcher = await openApp(context, mode, 'Watcher');
      const viewer = await openApp(context, mode, 'Viewer');
      if (mode === 'leader-tab') expect(await isLeaderTab(watcher)).toBe(true); // so closing the viewer keeps the hub
      const topic = await watcher.evaluate(() => harness.hub.createTopic());
      await watcher.evaluate((t) => harness.subscribe(t, ['Patient-open', 'SyncError']), topic);
      await viewer.evaluate((t) => harness.subscribe(t, ['Patient-open'], { name: 'Viewer' }), topic);
      const sent = await watcher.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-1')] as const);
      await viewer.waitForFunction(() => harness.events.length === 1);
      expect((await subscribersOf(watcher, topic)).map((s) => s.name).sort()).toEqual(['Viewer', 'Watcher']);

      await viewer.close();

      await watcher.waitForFunction(() => harness.eventNames().includes('syncerror'));
      const syncError = await watcher.evaluate(() => harness.events.find((n) => n.event['hub.event'] === 'syncerror'));
      const issue = syncError.event.context[0].resource.issue[0];
      expect(issue.diagnostics).toContain('Viewer');
      expect(issue.details.coding).toEqual(
        expect.arrayContaining([
          { system: 'https://fhircast.hl7.org/events/syncerror/subscribername', code: 'Viewer' },
          { system: 'https://fhircast.hl7.org/events/syncerror/eventid', code: sent.id },
        ]),
      );
      expect((await subscribersOf(watcher, topic)).map((s) => s.name)).toEqual(['Watcher']);
    });

    test('hub.close() unsubscribes normally: no SyncError for the others', async ({ context }) => {
      const watcher = await openApp(context, mode, 'Watcher');
      const quiet = await openApp(context, mode, 'Quiet');
      const topic = await watcher.evaluate(() => harness.hub.createTopic());
      await watcher.evaluate((t) => harness.subscribe(t, ['Patient-open', 'SyncError']), topic);
      await quiet.evaluate((t) => harness.subscribe(t, ['Patient-open'], { name: 'Quiet' }), topic);

      await quiet.evaluate(() => harness.hub.close());
      await expect.poll(async () => (await subscribersOf(watcher, topic)).map((s) => s.name)).toEqual(['Watcher']);
      await quiet.close();
      // A later event is the fence: anything the close caused would have arrived before it.
      await watcher.evaluate(([t, r]) => harness.publish(t, r), [topic, patientOpen('pt-2')] as const);
      await watcher.waitForFunction(() => harness.events.length >= 1);
      expect(await watcher.evaluate(() => harness.eventNames())).toEqual(['Patient-open']);
    });
  });
}
