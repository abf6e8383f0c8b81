// `npm run dev`: Vite over the repository, tabcast from source. Pages keep their production URLs:
// /tabcast/tabcast.js and /tabcast/tabcast.iife.js are answered with stand-ins that load
// src/client/dev-entry.ts, whose SharedWorker is written the literal way Vite needs to see it.
import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const DEV_ENTRY = '/src/client/dev-entry.ts';

/** Stand-ins for the built files, so demo and test pages run unchanged under the dev server. */
function tabcastFromSource(): Plugin {
  const stand_ins: Record<string, string> = {
    '/tabcast/tabcast.js': `export * from '${DEV_ENTRY}';\n`,
    // A classic script cannot import statically: connect() loads the module on first use.
    '/tabcast/tabcast.iife.js':
      `window.Tabcast = { connect: (options) => import('${DEV_ENTRY}').then((m) => { window.Tabcast.HubError = m.HubError; return m.connect(options); }) };\n`,
  };
  return {
    name: 'tabcast-from-source',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const body = stand_ins[(req.url ?? '').split('?')[0]!];
        if (body === undefined) return next();
        res.setHeader('content-type', 'text/javascript; charset=utf-8');
        res.setHeader('cache-control', 'no-store');
        res.end(body);
      });
    },
  };
}

export default defineConfig({
  root,
  publicDir: false,
  resolve: { alias: { tabcast: `${root}src/client/dev-entry.ts` } },
  worker: { format: 'es' },
  server: { host: '127.0.0.1' },
  plugins: [tabcastFromSource()],
});
