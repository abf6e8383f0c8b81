// The radiology demo, driven as a person would: the launcher, the worklist, the viewer, reporting
// and the inspector in separate tabs of one browser context (so they share one SharedWorker hub).
import { test, expect, type BrowserContext, type Page, type TestInfo } from '@playwright/test';

/** The first connect of a browser context starts the SharedWorker and opens IndexedDB: allow for a busy machine. */
const CONNECT_MS = 15_000;

// Synthetic studies from demo/data/radiology-worklist.json.
const CT_CHEST = { accession: 'A24100776', patient: 'LINDQVIST, Marta E' };
const MR_LUMBAR = { accession: 'A24100850', patient: 'OKAFOR, Jonah' };
const CR_CHEST_SAME_PATIENT = { accession: 'A24100821', patient: 'LINDQVIST, Marta E' };

type Apps = { launcher: Page; worklist: Page; viewer: Page; reporting: Page; inspector: Page; errors: string[] };

/** Collects console errors and uncaught exceptions of a page. */
function watch(page: Page, errors: string[]): Page {
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  return page;
}

/** Opens the launcher, then every app by following the launcher's own links (same topic). */
async function openApps(context: BrowserContext, apps: readonly string[] = ['worklist', 'viewer', 'reporting', 'inspector']): Promise<Apps> {
  const errors: string[] = [];
  const launcher = watch(await context.newPage(), errors);
  await launcher.goto('/');
  await expect(launcher.locator('#status')).toHaveText(/^Session /, { timeout: CONNECT_MS });
  const pages: Record<string, Page> = {};
  for (const app of apps) {
    const href = await launcher.locator(`#link-${app}`).getAttribute('href');
    expect(href).toContain('topic=');
    const page = watch(await context.newPage(), errors);
    await page.goto(href!);
    await expect(page.locator('#status')).toHaveText('Connected', { timeout: CONNECT_MS });
    pages[app] = page;
  }
  return { launcher, errors, ...(pages as Omit<Apps, 'launcher' | 'errors'>) };
}

async function shoot(page: Page, testInfo: TestInfo, name: string) {
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });
}

async function openStudy(worklist: Page, accession: string) {
  await worklist.getByRole('button', { name: `Open study ${accession}` }).click();
  await expect(worklist.locator('#current')).toContainText(accession);
}

test('the story: open a study, report a finding, refuse a change', async ({ context }, testInfo) => {
  const { launcher, worklist, viewer, reporting, inspector, errors } = await openApps(context);
  await shoot(launcher, testInfo, 'launcher');

  // 1. The worklist opens a study; the viewer and reporting follow.
  await openStudy(worklist, CT_CHEST.accession);
  await expect(worklist.locator('#tabs')).toContainText(CT_CHEST.accession);
  await expect(worklist.locator('#banner')).toContainText(CT_CHEST.patient);
  await expect(viewer.locator('#study-facts')).toContainText(CT_CHEST.accession);
  await expect(viewer.locator('#banner')).toContainText(CT_CHEST.patient);
  await expect(viewer.locator('#image')).toHaveAttribute('aria-label', new RegExp(CT_CHEST.accession));
  await expect(reporting.locator('#study-facts')).toContainText(CT_CHEST.accession);

  // 2. Reporting opens a report and adds a finding; the inspector's content view shows it.
  await reporting.getByRole('button', { name: 'Start report' }).click();
  const version = reporting.locator('#version');
  await expect(version).toBeVisible();
  const firstVersion = await version.getAttribute('title');
  await reporting.getByLabel('Finding', { exact: true }).fill('Pulmonary nodule');
  await reporting.getByLabel('Location', { exact: true }).fill('Right upper lobe');
  await reporting.getByLabel('Size (mm)', { exact: true }).fill('6');
  await reporting.getByRole('button', { name: 'Add finding' }).click();
  await expect(reporting.locator('#findings')).toContainText('Pulmonary nodule');
  await expect(version).not.toHaveAttribute('title', firstVersion!);
  await expect(inspector.locator('#context-type')).toHaveText('DiagnosticReport');
  await expect(inspector.locator('#content')).toContainText('Pulmonary nodule 6 mm (Right upper lobe)');
  await expect(inspector.locator('#subscribers')).toContainText('Viewer');
  await expect(worklist.locator('#tabs')).toContainText(`Report ${CT_CHEST.accession}`);
  await shoot(reporting, testInfo, 'reporting-with-finding');
  await shoot(viewer, testInfo, 'viewer-following');

  // 3. The viewer refuses the next change; the worklist shows the SyncError.
  await viewer.getByLabel('Refuse next change (answer 409)', { exact: true }).check();
  await openStudy(worklist, MR_LUMBAR.accession);
  const syncError = worklist.locator('#syncerrors .syncerror').first();
  await expect(syncError).toContainText('Viewer is out of sync');
  await expect(syncError).toContainText('409');
  await expect(syncError).toContainText('ImagingStudy-open');
  await expect(viewer.locator('#sync-notice')).toContainText('Refused ImagingStudy-open');
  await expect(viewer.getByLabel('Refuse next change (answer 409)', { exact: true })).not.toBeChecked();
  await expect(viewer.locator('#study-facts')).toContainText(CT_CHEST.accession); // it kept the old study
  await expect(reporting.locator('#study-facts')).toContainText(MR_LUMBAR.accession);
  await expect(reporting.locator('#background-list')).toContainText(CT_CHEST.accession); // the report stays open
  await expect(inspector.locator('#log tr.t-syncerror').first()).toBeVisible();

  // Resending the refused open brings the viewer back in step.
  await syncError.getByRole('button', { name: 'Resend ImagingStudy-open' }).click();
  await expect(viewer.locator('#study-facts')).toContainText(MR_LUMBAR.accession);

  await inspector.locator('#log tr.t-syncerror').first().click();
  await expect(inspector.locator('#log-detail')).toContainText('"type": "syncerror"');
  for (const [name, page] of Object.entries({ worklist, viewer, reporting, inspector })) await shoot(page, testInfo, name);
  expect(errors).toEqual([]);
});

test('multi-tab: tabs re-send opens, closing a tab sends the close, another patient clears the viewer', async ({ context }) => {
  const { worklist, viewer, reporting, errors } = await openApps(context, ['worklist', 'viewer', 'reporting']);
  await worklist.getByRole('button', { name: `Open patient ${CT_CHEST.patient}` }).first().click();
  await expect(worklist.locator('#current')).toContainText('Patient/');
  await openStudy(worklist, CT_CHEST.accession);
  await openStudy(worklist, CR_CHEST_SAME_PATIENT.accession);
  const tabs = worklist.locator('#tabs li');
  await expect(tabs).toHaveCount(3);
  await expect(viewer.locator('#study-facts')).toContainText(CR_CHEST_SAME_PATIENT.accession);

  // Selecting the first study's tab makes it current again everywhere.
  await worklist.locator('#tabs li', { hasText: CT_CHEST.accession }).getByRole('button').first().click();
  await expect(worklist.locator('#tabs li.is-current')).toContainText(CT_CHEST.accession);
  await expect(viewer.locator('#study-facts')).toContainText(CT_CHEST.accession);
  await expect(reporting.locator('#study-facts')).toContainText(CT_CHEST.accession);

  // Closing the current study's tab: no current context; the viewer empties its screen.
  await worklist.getByRole('button', { name: `Close ${CT_CHEST.accession} CT` }).click();
  await expect(tabs).toHaveCount(2);
  await expect(worklist.locator('#current')).toContainText('None current');
  await expect(viewer.locator('#study-facts')).toContainText('Study closed');
  await expect(reporting.locator('#report-body')).toContainText('Open a study');

  // Another patient while a study is displayed: the viewer never shows the wrong patient's images.
  await worklist.locator('#tabs li', { hasText: CR_CHEST_SAME_PATIENT.accession }).getByRole('button').first().click();
  await expect(viewer.locator('#study-facts')).toContainText(CR_CHEST_SAME_PATIENT.accession);
  await worklist.getByRole('button', { name: `Open patient ${MR_LUMBAR.patient}` }).click();
  await expect(viewer.locator('#banner')).toContainText(`Patient ${MR_LUMBAR.patient} opened`);
  await expect(viewer.locator('#study-facts')).not.toContainText(CR_CHEST_SAME_PATIENT.accession);
  await expect(worklist.locator('#banner')).toContainText(MR_LUMBAR.patient);

  // Home: contexts stay open, none is current.
  await worklist.getByRole('button', { name: 'Home' }).click();
  await expect(worklist.locator('#current')).toContainText('None current');
  await expect(tabs).toHaveCount(3);
  expect(errors).toEqual([]);
});

test('content sharing: edit, remove, and recovery from a stale version', async ({ context }) => {
  const { worklist, reporting, inspector, errors } = await openApps(context, ['worklist', 'reporting', 'inspector']);
  await openStudy(worklist, MR_LUMBAR.accession);
  await reporting.getByRole('button', { name: 'Start report' }).click();
  await expect(reporting.locator('#version')).toBeVisible();

  const add = async (finding: string, site: string) => {
    await reporting.getByLabel('Finding', { exact: true }).fill(finding);
    await reporting.getByLabel('Location', { exact: true }).fill(site);
    await reporting.getByRole('button', { name: 'Add finding' }).click();
    await expect(reporting.locator('#findings')).toContainText(finding);
  };
  await add('Disc herniation', 'L4-L5');
  // The next update goes out with an old context.versionId: the hub answers 409, the app re-reads and retries.
  await reporting.getByLabel('Send next update with a stale version', { exact: true }).check();
  await add('Bone marrow oedema', 'L5 endplate');
  await expect(reporting.locator('#report-notice')).toContainText('Recovered');
  await expect(reporting.locator('#findings tbody tr')).toHaveCount(2);
  await expect(inspector.locator('#content tbody tr')).toHaveCount(2);
  await expect(inspector.locator('#log tr.t-reject').first()).toContainText('409');

  // Edit: a PUT of the same Observation id.
  await reporting.getByRole('button', { name: 'Edit Disc herniation' }).click();
  await reporting.getByLabel('Size (mm)', { exact: true }).fill('4');
  await reporting.getByRole('button', { name: 'Save finding' }).click();
  await expect(inspector.locator('#content')).toContainText('Disc herniation 4 mm (L4-L5)');
  // Remove: a DELETE entry.
  await reporting.getByRole('button', { name: 'Remove Bone marrow oedema' }).click();
  await expect(reporting.locator('#findings tbody tr')).toHaveCount(1);
  await expect(inspector.locator('#content tbody tr')).toHaveCount(1);

  // A second reporting tab joins late and reads the same content from the hub.
  const second = watch(await context.newPage(), errors);
  await second.goto(reporting.url());
  await expect(second.locator('#findings')).toContainText('Disc herniation');
  await expect(second.locator('#version')).toHaveAttribute('title', (await reporting.locator('#version').getAttribute('title'))!);

  // Closing the report drops its content on the hub.
  await reporting.getByRole('button', { name: 'Close report' }).click();
  await expect(inspector.locator('#context-view')).toContainText('No current context');
  await expect(second.locator('#report-body')).toContainText('Open a study');
  expect(errors).toEqual([]);
});

test('the session survives closing every tab (the hub keeps it in IndexedDB)', async ({ context }) => {
  const { launcher, worklist, viewer, reporting, inspector, errors } = await openApps(context);
  await openStudy(worklist, CT_CHEST.accession);
  await reporting.getByRole('button', { name: 'Start report' }).click();
  await reporting.getByLabel('Finding', { exact: true }).fill('Pleural effusion');
  await reporting.getByRole('button', { name: 'Add finding' }).click();
  await expect(reporting.locator('#findings')).toContainText('Pleural effusion');
  const reportingUrl = reporting.url();
  const worklistUrl = worklist.url();
  for (const page of [launcher, worklist, viewer, reporting, inspector]) await page.close();

  // A fresh hub (the worker ended with the last tab) replays the open contexts to new subscribers.
  const again = watch(await context.newPage(), errors);
  await again.goto(reportingUrl);
  await expect(again.locator('#status')).toHaveText('Connected', { timeout: CONNECT_MS });
  await expect(again.locator('#findings')).toContainText('Pleural effusion');
  await expect(again.locator('#banner')).toContainText(CT_CHEST.patient);
  const list = watch(await context.newPage(), errors);
  await list.goto(worklistUrl);
  await expect(list.locator('#tabs')).toContainText(`Report ${CT_CHEST.accession}`);
  await expect(list.locator('#current')).toContainText('DiagnosticReport/');
  expect(errors).toEqual([]);
});

test('a viewer tab that crashes: the worklist shows the SyncError the hub raises', async ({ context }) => {
  const { worklist, viewer, errors } = await openApps(context, ['worklist', 'viewer']);
  await openStudy(worklist, CT_CHEST.accession);
  await expect(viewer.locator('#study-facts')).toContainText(CT_CHEST.accession);
  const cdp = await context.newCDPSession(viewer);
  void cdp.send('Page.crash').catch(() => undefined); // the renderer dies: no pagehide, no hub.close()
  const syncError = worklist.locator('#syncerrors .syncerror').first();
  await expect(syncError).toContainText('Viewer is out of sync', { timeout: 15_000 });
  await expect(syncError).toContainText('lost its connection');
  expect(errors).toEqual([]);
});

test('log out from the viewer ends the session in every app', async ({ context }) => {
  const { worklist, viewer, reporting, inspector, errors } = await openApps(context);
  await openStudy(worklist, CT_CHEST.accession);
  await expect(viewer.locator('#study-facts')).toContainText(CT_CHEST.accession);
  await viewer.getByRole('button', { name: 'Log out' }).click();
  for (const page of [worklist, viewer, reporting]) {
    await expect(page.getByRole('dialog', { name: 'Signed out' })).toContainText('user-initiated');
  }
  await expect(worklist.locator('#tabs li')).toHaveCount(0);
  await expect(viewer.locator('#banner')).toContainText('Signed out');
  await expect(inspector.locator('#open-contexts')).toContainText('Nothing open');
  await viewer.getByRole('button', { name: 'Sign in again' }).click();
  await expect(viewer.getByRole('dialog')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('side by side: three apps in iframes of one window stay in step', async ({ context }, testInfo) => {
  const errors: string[] = [];
  const launcher = watch(await context.newPage(), errors);
  await launcher.goto('/');
  await expect(launcher.locator('#status')).toHaveText(/^Session /, { timeout: CONNECT_MS });
  const page = watch(await context.newPage(), errors);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto((await launcher.locator('#link-side-by-side').getAttribute('href'))!);
  const worklist = page.frameLocator('#frame-worklist');
  const viewer = page.frameLocator('#frame-viewer');
  const reporting = page.frameLocator('#frame-reporting');
  for (const frame of [worklist, viewer, reporting]) await expect(frame.locator('#status')).toHaveText('Connected', { timeout: CONNECT_MS });
  await worklist.getByRole('button', { name: `Open study ${CT_CHEST.accession}` }).click();
  await expect(viewer.locator('#study-facts')).toContainText(CT_CHEST.accession);
  await expect(reporting.locator('#study-facts')).toContainText(CT_CHEST.accession);
  await reporting.getByRole('button', { name: 'Start report' }).click();
  await reporting.getByLabel('Finding', { exact: true }).fill('Pulmonary nodule');
  await reporting.getByLabel('Location', { exact: true }).fill('Right upper lobe');
  await reporting.getByLabel('Size (mm)', { exact: true }).fill('6');
  await reporting.getByRole('button', { name: 'Add finding' }).click();
  await expect(reporting.locator('#findings')).toContainText('Pulmonary nodule');
  await page.screenshot({ path: testInfo.outputPath('side-by-side.png') });
  // TABCAST_DOCS_SCREENSHOT=docs/screenshot-demo.png regenerates the README picture (see docs/demo.md).
  if (process.env.TABCAST_DOCS_SCREENSHOT) await page.screenshot({ path: process.env.TABCAST_DOCS_SCREENSHOT });
  expect(errors).toEqual([]);
});

test('inspector: log filters, JSON detail and export', async ({ context }) => {
  const { worklist, inspector, errors } = await openApps(context, ['worklist', 'viewer', 'inspector']);
  await openStudy(worklist, CT_CHEST.accession);
  await expect(inspector.locator('#log tbody tr.t-publish').first()).toContainText('ImagingStudy-open');
  await inspector.getByLabel('Type', { exact: true }).selectOption('ack');
  await expect(inspector.locator('#log tbody tr').first()).toContainText('ack');
  await expect(inspector.locator('#log tbody tr.t-publish')).toHaveCount(0);
  await inspector.getByLabel('Type', { exact: true }).selectOption('');
  await inspector.getByLabel('Event', { exact: true }).fill('imagingstudy');
  await expect(inspector.locator('#log tbody tr').first()).toContainText('ImagingStudy-open');
  // Keyboard: focus a row and press Enter to see its JSON.
  await inspector.locator('#log tbody tr.t-publish').first().focus();
  await inspector.keyboard.press('Enter');
  await expect(inspector.locator('#log-detail')).toContainText('"hub.event": "ImagingStudy-open"');
  const [download] = await Promise.all([inspector.waitForEvent('download'), inspector.getByRole('button', { name: 'Export JSON' }).click()]);
  const file = await download.path();
  const { readFile } = await import('node:fs/promises');
  const exported = JSON.parse(await readFile(file, 'utf8'));
  expect(exported.entries.some((e: { type: string; event?: string }) => e.type === 'publish' && e.event === 'ImagingStudy-open')).toBe(true);
  expect(errors).toEqual([]);
});

test('accessible and tidy: labelled controls, keyboard use, no overflow on a narrow window', async ({ context }) => {
  const { launcher, worklist, viewer, reporting, inspector, errors } = await openApps(context);
  // Keyboard only: Tab to a study's Open button and press Enter.
  await worklist.getByRole('button', { name: `Open study ${CT_CHEST.accession}` }).focus();
  await worklist.keyboard.press('Enter');
  await expect(viewer.locator('#study-facts')).toContainText(CT_CHEST.accession);
  await reporting.getByRole('button', { name: 'Start report' }).focus();
  await reporting.keyboard.press('Enter');
  await expect(reporting.getByLabel('Finding', { exact: true })).toBeVisible();

  for (const page of [launcher, worklist, viewer, reporting, inspector]) {
    const controls = page.locator('button:visible, input:visible, select:visible, a[href]:visible');
    const count = await controls.count();
    expect(count).toBeGreaterThan(0);
    for (let i = 0; i < count; i++) await expect(controls.nth(i)).toHaveAccessibleName(/\S/);
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await page.setViewportSize({ width: 420, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${page.url()} scrolls sideways on a narrow window`).toBeLessThanOrEqual(0);
  }
  expect(errors).toEqual([]);
});
