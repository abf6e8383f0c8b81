/**
 * The worker's context-change parser is its own chunk, dist/tabcast-change.js (issue 17 item 3): the
 * worker fetches it right after start and answers its pages meanwhile. A change that comes first waits
 * for it; if it cannot load, the change gets a 503 OperationOutcome naming the file, nothing is applied,
 * and a later change loads it again. The chunk imports nothing of the worker's entry module, which a
 * worker started from a URL with a query (these unique URLs) would otherwise evaluate a second time,
 * with a second HubError class (worker-query.spec.ts): its 400s are the hub's own, in the activity log.
 */
import { expect, test } from '@playwright/test';
import { openApp, patientOpen, uniqueWorkerUrl } from './support.js';

const malformed = { 'hub.event': 'Patient-open', context: 'not a list' };

test('HUB-NOTIFY-09 HUB-CHANGE-08 HUB-CHANGE-13 the first changes of a fresh worker go out in order once the parser is there; a malformed one gets a 400 OperationOutcome and is in the activity log', async ({ context }, info) => {
  const page = await openApp(context, 'shared-worker', 'First', { workerUrl: uniqueWorkerUrl(info.testId) });
  const topic = await page.evaluate(() => harness.hub.createTopic());
  await page.evaluate((t) => {
    (window as any).log = [];
    harness.hub.observe((entry: unknown) => (window as any).log.push(entry));
    return harness.subscribe(t, ['patient-open']);
  }, topic);
  // Three changes sent in one task, as early as the page can.
  const answers = await page.evaluate(([t, a, bad, b]) => Promise.all([harness.publish(t, a), harness.publish(t, bad), harness.publish(t, b)]), [topic, patientOpen('p-1'), malformed, patientOpen('p-2')] as const);
  expect(answers[0].status).toBe(202);
  expect(answers[1].error).toMatchObject({ isHubError: true, status: 400, outcome: { resourceType: 'OperationOutcome' } });
  expect(answers[1].error.outcome.issue[0].diagnostics).toContain('event.context');
  expect(answers[2].status).toBe(202);
  await page.waitForFunction(() => harness.events.length === 2);
  expect(await page.evaluate(() => harness.events.map((n) => n.event.context[0].resource.id))).toEqual(['p-1', 'p-2']);
  await page.waitForFunction(() => (window as any).log.some((e: { type: string }) => e.type === 'reject'));
  expect(await page.evaluate(() => (window as any).log.filter((e: { type: string }) => e.type === 'reject').map((e: { status: number }) => e.status))).toEqual([400]);
});

// In leader-tab mode the host runs in the page, whose requests Playwright can route (a SharedWorker's it cannot).
test('HUB-CHANGE-13 tabcast-change.js that fails to load: the change gets a 503 OperationOutcome naming the file and changes nothing; once it is served again, the next change is applied', async ({ context }, info) => {
  await context.route('**/tabcast-change.js*', (route) => route.abort());
  const page = await openApp(context, 'leader-tab', 'Offline', { workerUrl: uniqueWorkerUrl(info.testId) });
  const topic = await page.evaluate(() => harness.hub.createTopic());
  const refused = await page.evaluate((t) => harness.publish(t, { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p-1' } }] }), topic);
  expect(refused.error).toMatchObject({ isHubError: true, status: 503, outcome: { resourceType: 'OperationOutcome' } });
  expect(refused.error.outcome.issue[0].diagnostics).toContain('tabcast-change.js');
  expect((await page.evaluate((t) => harness.hub.getContext(t), topic)).context).toEqual([]);

  await context.unroute('**/tabcast-change.js*');
  const accepted = await page.evaluate((t) => harness.publish(t, { 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p-2' } }] }), topic);
  expect(accepted.status).toBe(202);
  expect((await page.evaluate((t) => harness.hub.getContext(t), topic)).context[0].resource.id).toBe('p-2');
});
