// The inspector shows each subscriber's channel (issue 14): an STU3 client and a 2019-envelope
// client, both unmodified and given hub.fetch / hub.WebSocket, join the demo's session topic in
// the shared worker; the inspector's subscriber table names their channels.
import { expect, test } from '@playwright/test';

const CONNECT_MS = 15_000;

test('HUB-ENV-01 the inspector names each subscriber\'s channel: STU3 and 2019 over hub.fetch / hub.WebSocket', async ({ context }) => {
  const launcher = await context.newPage();
  await launcher.goto('/');
  await expect(launcher.locator('#status')).toHaveText(/^Session /, { timeout: CONNECT_MS });
  const href = (await launcher.locator('#link-inspector').getAttribute('href'))!;
  const topic = new URL(href, 'http://x').searchParams.get('topic')!;
  const inspector = await context.newPage();
  await inspector.goto(href);
  await expect(inspector.locator('#status')).toHaveText('Connected', { timeout: CONNECT_MS });

  const page = await context.newPage();
  await page.goto('/test-pages/stu3.html');
  await page.evaluate(async () => {
    const hubUrl = await window.harness.connect({ mode: 'shared-worker', appName: 'channels' });
    const hub = window.harness.hub;
    Object.assign(window, { stu3: (window as any).createStu3Client({ hubUrl, fetch: hub.fetch, WebSocket: hub.WebSocket }), opened: {} });
  });
  for (const [name, dialect] of [['Plain STU3', 'stu3'], ['Old PACS', '2019']] as const) {
    const res = await page.evaluate(
      ([t, n, d]) => (window as any).stu3.requestSubscription({ 'hub.mode': 'subscribe', 'hub.topic': t, 'hub.events': 'ImagingStudy-open', 'subscriber.name': n, 'hub.channel.dialect': d }),
      [topic, name, dialect] as const,
    );
    expect(res.status).toBe(202);
    await page.evaluate(([key, url]) => void ((window as any).opened[key] = (window as any).stu3.open(url)), [dialect, res.body['hub.channel.endpoint']] as const);
  }
  await page.waitForFunction(() => (window as any).opened['2019'].received.length === 1 && (window as any).opened.stu3.received.length === 1);
  expect(await page.evaluate(() => (window as any).opened['2019'].received[0])).toMatchObject({ status: 'OK', statusCode: '200' });

  await expect(inspector.locator('#subscribers tr[data-name="Plain STU3"]')).toContainText('STU3');
  await expect(inspector.locator('#subscribers tr[data-name="Old PACS"]')).toContainText('2019');
  await expect(inspector.locator('#subscribers thead')).toContainText('Channel');
});
