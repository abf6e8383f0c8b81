// Builds the stable, unhashed artefacts of DESIGN.md: dist/tabcast.js (ESM), dist/tabcast.iife.js
// (global Tabcast), dist/tabcast-worker.js, dist/tabcast.d.ts, and dist/tabcast-server.js for `tabcast serve`.
import { build } from 'vite';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { buildPackageExtras } from './build-package.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const started = Date.now();
rmSync(`${root}/dist`, { recursive: true, force: true });

const common = { root, configFile: false, logLevel: 'warn', publicDir: false };
const browserTarget = 'es2022';

async function browserLib(entry, fileName, format, name) {
  await build({
    ...common,
    build: {
      outDir: 'dist',
      emptyOutDir: false,
      target: browserTarget,
      minify: true,
      sourcemap: true,
      lib: { entry, formats: [format], name, fileName: () => fileName },
      rollupOptions: { output: { codeSplitting: false } },
    },
  });
  console.log(`built dist/${fileName}`);
}

await browserLib('src/client/index.ts', 'tabcast.js', 'es');
await browserLib('src/client/script-tag.ts', 'tabcast.iife.js', 'iife', 'Tabcast');
// The worker is an app build (full minification) that keeps its exports for leader-tab pages. Its
// first load is tabcast-worker.js alone. The context-change parser with zod (tabcast-change.js) is
// fetched right after start, while the hub already answers (a change that comes first waits for it,
// src/hub/change-parser.ts); the STU3 surface of hub.fetch/hub.WebSocket (tabcast-wire.js), the
// bridge (tabcast-bridge.js), GetTopic's identity code (tabcast-identity.js), the validation and
// restore of stored records (tabcast-restore.js, only when IndexedDB holds records) and the sealing of
// leader-tab links (tabcast-seal.js, on the first leader-tab client) load on first use
// and import what they share with the worker from tabcast-worker.js. The host answers the pages'
// Comlink calls itself (src/host/control-guard.ts), so Comlink is not in the worker at all.
await build({
  ...common,
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: browserTarget,
    minify: true,
    sourcemap: true,
    modulePreload: false, // the preload helper touches `document`, which a worker lacks
    rollupOptions: {
      input: { 'tabcast-worker': 'worker/hub-worker.ts' },
      // 'allow-extension' keeps the entry's exports; the on-demand chunks import from it.
      preserveEntrySignatures: 'allow-extension',
      output: {
        format: 'es',
        entryFileNames: '[name].js',
        chunkFileNames: (chunk) => {
          if (!chunk.isDynamicEntry) return 'tabcast-[name].js';
          if (chunk.facadeModuleId?.includes('standard-api')) return 'tabcast-wire.js';
          // GetTopic's identity code: the worker has no users file, so it never loads this.
          if (/[\\/]hub[\\/]identity\.ts$/.test(chunk.facadeModuleId ?? '')) return 'tabcast-identity.js';
          // Validation and restore of stored records: loaded only when the store holds records.
          if (/[\\/]hub[\\/]restore\.ts$/.test(chunk.facadeModuleId ?? '')) return 'tabcast-restore.js';
          // The sealing of leader-tab links: loaded on the first leader-tab client's rendezvous.
          if (/[\\/]link[\\/]sealed-link\.ts$/.test(chunk.facadeModuleId ?? '')) return 'tabcast-seal.js';
          return 'tabcast-bridge.js';
        },
        codeSplitting: {
          // Everything the worker loads at start goes into its entry file: one file gzips about
          // 0.8 KB smaller than the entry plus a shared chunk (the shared chunk's export list, and
          // two gzip dictionaries instead of one). The on-demand chunks import from the entry.
          // Only the modules the worker itself imports at start, not everything they import: the
          // subscription-request parser (used by the wire alone) would otherwise ride along.
          includeDependenciesRecursively: false,
          groups: [
            { name: 'worker', tags: ['$initial'] },
            // The STOMP frame codec, shared by the wire's STOMP door and the bridge's stomp dialect: one
            // on-demand chunk with a stable name, loaded with either.
            { name: 'stomp', test: (id) => /[\\/]src[\\/]stomp[\\/](frame|parser)\.ts$/.test(id) },
            // The context-change parser and zod (the engine's one zod user at start): fetched right after
            // start, not before it (src/hub/change-parser.ts). The record validation of tabcast-restore.js
            // imports zod from it.
            { name: 'change', test: (id) => /[\\/]node_modules[\\/]zod[\\/]|[\\/]src[\\/]protocol[\\/](change-request|plain-json)\.ts$/.test(id) },
          ],
        },
      },
    },
  },
});
console.log('built dist/tabcast-worker.js (right after start: tabcast-change.js; on demand: tabcast-wire.js, tabcast-bridge.js, tabcast-identity.js, tabcast-stomp.js, tabcast-restore.js, tabcast-seal.js)');

await build({
  ...common,
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'node20',
    ssr: 'src/server/cli.ts',
    minify: false,
    sourcemap: true,
    rollupOptions: {
      external: ['ws', 'lmdb', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
      // One file: the engine's lazily loaded parts (GetTopic's identity code) go inside it.
      output: { entryFileNames: 'tabcast-server.js', format: 'es', codeSplitting: false },
    },
  },
});
console.log('built dist/tabcast-server.js');

// Type declarations: tsc emits per-file .d.ts; dist/tabcast.d.ts is the stable entry that re-exports them.
const tsc = spawnSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('type declarations failed');
  process.exit(1);
}
mkdirSync(`${root}/dist`, { recursive: true });
writeFileSync(`${root}/dist/tabcast.d.ts`, "export * from './types/client/index.js';\n");
console.log(`built dist/tabcast.d.ts (build took ${((Date.now() - started) / 1000).toFixed(1)} s)`);

// The npm package's extra entries (tabcast/worker, tabcast/relay, tabcast/server): scripts/build-package.mjs.
await buildPackageExtras(root);
