// A small static file server for the demo, the e2e tests and the benchmarks (127.0.0.1 only).
// Mounts: /tabcast/* → dist/*, /test-pages/* → test/e2e/pages/*, and /, /demo/*, /docs/* from the repo.
import http from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};
const MOUNTS = [
  ['/tabcast/', 'dist'],
  ['/test-pages/', 'test/e2e/pages'],
  ['/demo/', 'demo'],
  ['/docs/', 'docs'],
  ['/vendor/stompjs/', 'node_modules/@stomp/stompjs/bundles'], // the demo's STOMP app (reporting ?channel=stomp)
];

function locate(pathname) {
  if (pathname === '/' || pathname === '/index.html') return join(root, 'index.html');
  for (const [prefix, dir] of MOUNTS) {
    if (pathname.startsWith(prefix)) {
      const rel = normalize(decodeURIComponent(pathname.slice(prefix.length))).replace(/^(\.\.[/\\])+/, '');
      const base = join(root, dir);
      const file = join(base, rel);
      return file.startsWith(base) ? file : undefined;
    }
  }
  return undefined;
}

/** Starts the server; resolves with its origin. `isolated` adds COOP/COEP for fine-grained timers. */
export function startStaticServer({ port = 0, host = '127.0.0.1', isolated = false } = {}) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let file = locate(url.pathname);
    try {
      if (file && statSync(file).isDirectory()) file = join(file, 'index.html');
      if (!file || !statSync(file).isFile()) throw new Error('missing');
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' };
    if (isolated) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolvePromise({ origin: `http://${host}:${addr.port}`, close: () => new Promise((r) => server.close(() => r())), server });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const portArg = process.argv.indexOf('--port');
  const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 5173;
  const { origin } = await startStaticServer({ port, isolated: process.argv.includes('--isolated') });
  console.log(`static server on ${origin}`);
}
