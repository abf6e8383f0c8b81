import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

/**
 * The unit project alone, for Stryker (`npm run mutate`): the browser project cannot run inside
 * Stryker's sandbox, and the CLI/server tests that spawn processes only slow every mutant down.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    name: 'unit',
    environment: 'node',
    include: ['test/unit/**/*.test.ts'],
    exclude: ['test/unit/server/**', 'test/unit/link/**'],
    testTimeout: 20_000,
  },
});
