import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

/**
 * The unit tests that pin the engine and the protocol, for Stryker (`npm run mutate`). The browser
 * project cannot run inside Stryker's sandbox, and the suites that spawn processes, kill servers
 * or push load (server, hardening/load, faults, host, bridge-remote) would cost minutes per mutant.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    name: 'unit',
    environment: 'node',
    include: [
      'test/unit/hub/**/*.test.ts',
      'test/unit/conformance/**/*.test.ts',
      'test/unit/wire/**/*.test.ts',
      'test/unit/bridge/**/*.test.ts',
      'test/unit/client/**/*.test.ts',
      'test/unit/hardening/{engine,security,wire}.test.ts',
    ],
    testTimeout: 20_000,
  },
});
