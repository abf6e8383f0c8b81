/**
 * A real redis-server for tests: a free loopback port, persistence off, started and stopped by
 * the test. `pause()`/`resume()` stop and continue the process (SIGSTOP/SIGCONT) for fault tests;
 * `restart()` starts a new empty one on the same port, as after a crash with persistence off.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/** Path of redis-server, or undefined when it is not installed. */
export function findRedisServer(): string | undefined {
  for (const candidate of [process.env.REDIS_SERVER, 'redis-server', '/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    if (!candidate) continue;
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return candidate;
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One running redis-server. */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    private readonly binary: string,
    readonly port: number,
  ) {}

  /** `redis://127.0.0.1:PORT` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server on a free port and resolves once it accepts connections. */
  static async start(): Promise<RedisServer> {
    const binary = findRedisServer();
    if (!binary) throw new Error('redis-server is not installed: run `sudo apt-get install -y redis-server`');
    const server = new RedisServer(binary, await freePort());
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const child = spawn(this.binary, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.resume();
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready: ${out.slice(-400)}`)));
    });
  }

  /** Freezes the process: connections stay open, nothing is answered. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Lets a paused process run again. */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills it and starts an empty one on the same port (a restart with persistence off). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops the process and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }
}

/** A redis-server and one client for the enclosing describe block, started before its tests and stopped after them. */
export function useRedis(): { readonly server: RedisServer; readonly redis: Redis } {
  const live = {} as { server: RedisServer; redis: Redis };
  beforeAll(async () => {
    live.server = await RedisServer.start();
    live.redis = new Redis(live.server.url);
  });
  afterAll(async () => {
    await live.redis?.quit();
    await live.server?.stop();
  });
  return live;
}
