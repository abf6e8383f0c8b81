// The npm package's extra artefacts, built after scripts/build.mjs's own (which leaves those untouched):
// dist/tabcast-worker.bundle.js (`tabcast/worker`, one self-contained module for bundlers),
// dist/tabcast-relay.js + dist/relay.html (the same-site relay), dist/tabcast-node.js + .d.ts (`tabcast/server`).
import { build } from 'vite';
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';

/** Builds the package's extra entries into `${root}/dist`. */
export async function buildPackageExtras(root) {
  const common = { root, configFile: false, logLevel: 'warn', publicDir: false };
  const nodeExternal = ['ws', 'lmdb', 'ioredis', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

  // One file, since a bundler copies one file (`new URL('tabcast/worker', import.meta.url)`); the
  // script-tag worker (tabcast-worker.js and its on-demand chunks) stays as build.mjs makes it.
  await build({
    ...common,
    build: {
      outDir: 'dist',
      emptyOutDir: false,
      target: 'es2022',
      minify: true,
      sourcemap: true,
      modulePreload: false, // the preload helper touches `document`, which a worker lacks
      rollupOptions: {
        input: { 'tabcast-worker.bundle': 'worker/hub-worker.ts' },
        preserveEntrySignatures: 'allow-extension', // leader-tab pages import the worker's exports
        output: { format: 'es', entryFileNames: '[name].js', codeSplitting: false },
      },
    },
  });
  console.log('built dist/tabcast-worker.bundle.js (self-contained, for bundlers)');

  // The relay: a classic script for a page on the hub's origin (it reads its own tag), and that page as an example.
  await build({
    ...common,
    build: {
      outDir: 'dist',
      emptyOutDir: false,
      target: 'es2022',
      minify: true,
      sourcemap: true,
      lib: { entry: 'src/relay/relay-entry.ts', formats: ['iife'], name: 'TabcastRelay', fileName: () => 'tabcast-relay.js' },
      rollupOptions: { output: { codeSplitting: false } },
    },
  });
  copyFileSync(`${root}/src/relay/relay.html`, `${root}/dist/relay.html`);
  console.log('built dist/tabcast-relay.js and dist/relay.html (example relay page)');

  // `tabcast/server`: the Node API alone (startServer); importing it starts nothing.
  await build({
    ...common,
    build: {
      outDir: 'dist',
      emptyOutDir: false,
      target: 'node20',
      ssr: 'src/server/index.ts',
      minify: false,
      sourcemap: true,
      rollupOptions: { external: nodeExternal, output: { entryFileNames: 'tabcast-node.js', format: 'es', codeSplitting: false } },
    },
  });
  const tsc = spawnSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.node-build.json'], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('type declarations of tabcast/server failed');
  writeFileSync(`${root}/dist/tabcast-node.d.ts`, "export * from './types/server/index.js';\n");
  console.log('built dist/tabcast-node.js and dist/tabcast-node.d.ts');
}
