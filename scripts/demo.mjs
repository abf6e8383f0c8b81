// `npm run demo`: builds the library when dist/ is missing or older than its sources, serves the
// demo on 127.0.0.1 and prints the launcher's URL. `-- --with-remote` also starts `tabcast serve`
// on a free port and hands its hub.url to the launcher, whose inspector link bridges to it.
// Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStaticServer } from './static-server.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const HELP = `Usage: npm run demo -- [options]

  --port N         port of the demo server on 127.0.0.1 (default 5173; 0 = any free port)
  --with-remote    also start \`tabcast serve\` and bridge the demo session to it
  --no-build       serve dist/ as it is, even when it looks stale
  --help           print this text`;

function parseArgs(argv) {
  const options = { port: 5173, withRemote: false, build: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(HELP);
      process.exit(0);
    } else if (arg === '--with-remote') options.withRemote = true;
    else if (arg === '--no-build') options.build = false;
    else if (arg === '--port' || arg.startsWith('--port=')) {
      const value = arg.includes('=') ? arg.slice(7) : argv[++i];
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port needs a port number from 0 to 65535, got ${JSON.stringify(value)}`);
      options.port = port;
    } else fail(`unknown option ${arg}\n\n${HELP}`);
  }
  return options;
}

function fail(message) {
  console.error(`demo: ${message}`);
  process.exit(1);
}

/** Newest modification time of the files under `dir` (0 when it does not exist). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = 0;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

/** Why dist/ needs a build, or undefined when it is fresh. */
function staleReason(withRemote) {
  const outputs = ['tabcast.iife.js', 'tabcast.js', 'tabcast-worker.js', ...(withRemote ? ['tabcast-server.js'] : [])];
  const missing = outputs.filter((f) => !existsSync(join(root, 'dist', f)));
  if (missing.length) return `dist/${missing[0]} is missing`;
  const built = Math.min(...outputs.map((f) => statSync(join(root, 'dist', f)).mtimeMs));
  const inputs = ['src', 'worker', 'scripts/build.mjs', 'package.json', 'tsconfig.build.json'];
  const changed = inputs.find((p) => newest(join(root, p)) > built);
  return changed ? `${changed} changed since the last build` : undefined;
}

/** Starts `tabcast serve` on a free port; resolves with its hub.url once it accepts connections. */
function startRemote(allowOrigin) {
  const child = spawn(process.execPath, [join(root, 'bin/tabcast.js'), 'serve', '--port', '0', '--allow-origin', allowOrigin], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.on('data', (chunk) => process.stderr.write(`[tabcast serve] ${chunk}`));
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('tabcast serve did not report "FHIRcast hub listening on …" within 15 s')), 15_000);
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const match = /FHIRcast hub listening on (\S+)/.exec(buffered);
      if (match) {
        clearTimeout(timer);
        resolve({ child, hubUrl: match[1] });
      }
      if (buffered.length > 65_536) buffered = buffered.slice(-4096);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`tabcast serve exited early (${signal ?? `code ${code}`})`));
    });
  });
}

const options = parseArgs(process.argv.slice(2));
let stopping = false;

if (options.build) {
  const reason = staleReason(options.withRemote);
  if (reason) {
    console.log(`demo: building the library (${reason})…`);
    const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) fail('`npm run build` failed; fix the build and try again');
  }
} else if (!existsSync(join(root, 'dist/tabcast.iife.js'))) {
  fail('dist/ is empty: run `npm run build` or drop --no-build');
}

let server;
try {
  server = await startStaticServer({ port: options.port });
} catch (error) {
  if (error?.code === 'EADDRINUSE') fail(`port ${options.port} is in use; pass another with \`npm run demo -- --port 5174\` (or --port 0 for any free port)`);
  throw error;
}

let remote;
if (options.withRemote) {
  if (!existsSync(join(root, 'bin/tabcast.js'))) {
    await server.close();
    fail('bin/tabcast.js is missing, so --with-remote cannot start `tabcast serve`');
  }
  try {
    remote = await startRemote(server.origin);
  } catch (error) {
    await server.close();
    fail(error instanceof Error ? error.message : String(error));
  }
  remote.child.once('exit', (code, signal) => {
    if (!stopping) console.error(`demo: tabcast serve stopped (${signal ?? `code ${code}`}); the demo keeps running without it`);
  });
}

const launcher = remote ? `${server.origin}/?remote=${encodeURIComponent(remote.hubUrl)}` : `${server.origin}/`;
console.log(`tabcast demo on ${launcher}`);
console.log('  open that URL: the launcher links the worklist, the viewer, reporting, the inspector and a side-by-side view');
if (remote) {
  console.log(`  remote hub (tabcast serve): ${remote.hubUrl}`);
  console.log('  the launcher\'s inspector link connects a bridge from the demo session to it');
}
console.log('  Ctrl-C stops everything');

async function stop() {
  if (stopping) return;
  stopping = true;
  // Wait for `tabcast serve` to be gone: once this process exits, nothing answers on either port.
  const remoteGone = remote && remote.child.exitCode === null && remote.child.signalCode === null ? new Promise((resolve) => remote.child.once('exit', resolve)) : undefined;
  if (remoteGone) remote.child.kill('SIGTERM');
  server.server.closeAllConnections?.();
  await Promise.all([server.close(), remoteGone]);
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
