import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

/**
 * The tests that judge the engine and the protocol, for Stryker (`npm run mutate`): the spec-ordered
 * conformance suites and the engine's and the protocol's own unit tests. A protocol or engine mutant is covered by
 * nearly every test, so each suite added here is paid once per mutant; the bridge, page, wire and
 * hardening suites are left out for that cost (a mutant they alone would kill counts as survived),
 * and the browser project cannot run inside Stryker's sandbox.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    name: 'unit',
    environment: 'node',
    include: ['test/unit/conformance/**/*.test.ts', 'test/unit/hub/**/*.test.ts', 'test/unit/protocol/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
