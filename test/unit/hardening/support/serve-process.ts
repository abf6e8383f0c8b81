/**
 * `tabcast serve` as a real process, built from the current sources. The tests bundle
 * src/server/cli.ts themselves (as `npm run build` does for dist/tabcast-server.js) into
 * node_modules/.cache, so they run what is in src/ now and never race a rebuild of dist/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const OUT = `${ROOT}node_modules/.cache/tabcast-hardening`;
const RUNNER = `${OUT}/serve.mjs`;
const LISTENING = /^FHIRcast hub listening on (http:\/\/\S+)$/m;

let built: Promise<string> | undefined;

/** Bundles the server once per test process; resolves with the runner's path. */
export function buildServer(): Promise<string> {
  built ??= (async () => {
    const { build } = await import('vite');
    mkdirSync(OUT, { recursive: true });
    await build({
      root: ROOT,
      configFile: false,
      logLevel: 'silent',
      publicDir: false,
      build: {
        outDir: OUT,
        emptyOutDir: false,
        target: 'node20',
        ssr: `${ROOT}src/server/cli.ts`,
        minify: false,
        sourcemap: false,
        rollupOptions: {
          external: ['ws', 'lmdb', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
          output: { entryFileNames: 'tabcast-server.mjs', format: 'es' },
        },
      },
    });
    // The same two lines as bin/tabcast.js.
    writeFileSync(RUNNER, "const cli = await import('./tabcast-server.mjs');\nprocess.exit(await cli.main(process.argv.slice(2)));\n");
    return RUNNER;
  })();
  return built;
}

/** A running `tabcast serve …` process. */
export class ServeProcess {
  stdout = '';
  stderr = '';
  url = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts `serve …args` and resolves once it printed its listening line (HUB-SERVE-01). */
  static async start(args: readonly string[], nodeFlags: readonly string[] = []): Promise<ServeProcess> {
    const runner = await buildServer();
    const p = new ServeProcess(spawn(process.execPath, [...nodeFlags, runner, 'serve', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    p.url = await new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = LISTENING.exec(p.stdout);
        if (m) {
          p.child.stdout!.off('data', check);
          resolve(m[1]!);
        }
      };
      p.child.stdout!.on('data', check);
      check();
      void p.exited.then(({ code }) => reject(new Error(`tabcast serve exited (${code}) before listening: ${p.stderr}`)));
    });
    return p;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Kills the process with SIGKILL and waits for it to be gone. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }
}
