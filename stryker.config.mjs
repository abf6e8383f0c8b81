// Mutation testing of the engine and the protocol (`npm run mutate`), see docs/architecture.md.
// Not in CI: a full run takes long on two cores. Narrow it with `npm run mutate -- --mutate 'src/protocol/**/*.ts'`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  mutate: ['src/hub/**/*.ts', 'src/protocol/**/*.ts', '!src/**/index.ts'],
  // Only the tests that cover a mutant run against it.
  coverageAnalysis: 'perTest',
  // Stryker would rewrite tsconfig.json with the TypeScript JS API, which TypeScript 7 no longer has;
  // nothing here extends or references another tsconfig, so point it at none.
  tsconfigFile: 'no-tsconfig-to-rewrite.json',
  // Module-level mutants would rerun every test each; they are constants and tables, read elsewhere.
  ignoreStatic: true,
  concurrency: 2,
  // A mutant that loops is cut after its tests' normal time plus this.
  timeoutMS: 5_000,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  cleanTempDir: true,
};
