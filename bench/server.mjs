// The benchmark's own static server (127.0.0.1 only): /tabcast/* → dist/*, /bench/* → bench/pages/*.
// Always cross-origin isolated (COOP + COEP), so pages get 5 µs performance.now() steps (stack-notes §9.9).
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json' };

function locate(mounts, pathname) {
  for (const [prefix, base] of mounts) {
    if (!pathname.startsWith(prefix)) continue;
    const file = join(base, normalize(decodeURIComponent(pathname.slice(prefix.length))));
    return file.startsWith(base + '/') ? file : undefined;
  }
  return undefined;
}

/**
 * Starts the server on an ephemeral port; resolves with `{ origin, close() }`. `distDir` points
 * /tabcast/ at another build (experiments with a patched copy of the library).
 */
export function startBenchServer({ distDir = join(root, 'dist') } = {}) {
  const mounts = [
    ['/tabcast/', resolve(distDir)],
    ['/bench/', join(root, 'bench', 'pages')],
  ];
  const server = http.createServer(async (req, res) => {
    const file = locate(mounts, new URL(req.url ?? '/', 'http://x').pathname);
    let body;
    try {
      body = file && (await readFile(file));
    } catch {
      body = undefined;
    }
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(body);
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      done({ origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
