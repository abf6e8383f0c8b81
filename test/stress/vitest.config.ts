/**
 * The full-size hardening run (`npm run test:stress` → scripts/stress.mjs). It runs the files of
 * test/unit/hardening with TABCAST_STRESS=1: fast-check properties at full run counts, 50
 * subscribers × 10 000 events, the 10-minute soak, repeated SIGKILL rounds. Files run one after
 * another so the load tests do not compete with each other for the two cores.
 */
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  root,
  test: {
    name: 'stress',
    environment: 'node',
    include: ['test/unit/hardening/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60 * 60_000,
    hookTimeout: 120_000,
    env: { TABCAST_STRESS: '1' },
  },
});
