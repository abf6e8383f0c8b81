import { defineConfig } from '@playwright/test';

const port = Number(process.env.TABCAST_E2E_PORT ?? 4317);

export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test-results',
  timeout: 30_000,
  fullyParallel: true,
  workers: 2,
  retries: 0,
  forbidOnly: true,
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  webServer: {
    command: `node scripts/static-server.mjs --port ${port}`,
    url: `http://127.0.0.1:${port}/tabcast/tabcast.iife.js`,
    reuseExistingServer: !process.env.CI,
    timeout: 20_000,
  },
});
