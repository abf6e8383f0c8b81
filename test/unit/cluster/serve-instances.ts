/**
 * Instances of `tabcast serve --redis` as child processes, built from the current sources (as
 * `npm run build` builds dist/tabcast-server.js) into node_modules/.cache, so the tests run what
 * is in src/ now.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OUT = `${ROOT}node_modules/.cache/tabcast-cluster`;
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
          external: ['ws', 'ioredis', 'lmdb', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
          output: { entryFileNames: 'tabcast-server.mjs', format: 'es' },
        },
      },
    });
    writeFileSync(`${OUT}/serve.mjs`, "const cli = await import('./tabcast-server.mjs');\nprocess.exit(await cli.main(process.argv.slice(2)));\n");
    return `${OUT}/serve.mjs`;
  })();
  return built;
}

/** One running instance. */
export class Instance {
  stderr = '';
  url = '';
  /** Set when the process exited without being told to (a crash). */
  crashed = false;
  readonly exited: Promise<unknown>;

  private constructor(
    readonly id: string,
    readonly child: ChildProcess,
  ) {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => child.once('exit', resolve));
    // An instance that dies on its own is a finding: show why.
    child.once('exit', (code, signal) => {
      if (signal === 'SIGKILL' || signal === 'SIGTERM') return;
      this.crashed = true;
      console.error(`instance ${id} exited on its own (${code ?? signal}): ${this.stderr.slice(-3000)}`);
    });
  }

  /** Starts `serve --redis URL --instance-id ID …extra` on a free port; resolves once it listens. */
  static async start(redisUrl: string, id: string, extra: readonly string[] = []): Promise<Instance> {
    const runner = await buildServer();
    const child = spawn(process.execPath, [runner, 'serve', '--port', '0', '--redis', redisUrl, '--instance-id', id, ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_PATH: `${ROOT}node_modules` } });
    const inst = new Instance(id, child);
    let stdout = '';
    inst.url = await new Promise<string>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        const m = LISTENING.exec(stdout);
        if (m) resolve(m[1]!);
      });
      void inst.exited.then(() => reject(new Error(`instance ${id} exited before listening: ${inst.stderr}`)));
    });
    return inst;
  }

  /** Kills the process without warning. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Stops it as an operator would (SIGTERM). */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}
