/**
 * A TCP proxy between one hub instance and Redis that can hold back what Redis sends. While held,
 * the instance's commands still reach Redis but no reply reaches the instance, as if the instance
 * were frozen (a long GC pause, a stopped VM): its log reader falls behind while others go on.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** One proxy on a free loopback port in front of `redisPort`. */
export class HoldingProxy {
  private held = false;
  private readonly waiting: Array<() => void> = [];
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** `redis://127.0.0.1:PORT` of the proxy. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Listens on a free port and forwards every connection to Redis on `redisPort`. */
  static async start(redisPort: number): Promise<HoldingProxy> {
    let proxy: HoldingProxy | undefined;
    const server = createServer((client) => proxy!.forward(client, redisPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    proxy = new HoldingProxy(server, typeof address === 'object' && address ? address.port : 0);
    return proxy;
  }

  /** From now on, what Redis sends waits in the proxy. */
  hold(): void {
    this.held = true;
  }

  /** Delivers what waited, in order, and forwards again. */
  release(): void {
    this.held = false;
    for (const deliver of this.waiting.splice(0)) deliver();
  }

  /** Closes every connection and stops listening. */
  async close(): Promise<void> {
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise((resolve) => this.server.close(resolve));
  }

  private forward(client: Socket, redisPort: number): void {
    const upstream = connect(redisPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (this.held) this.waiting.push(() => client.write(d));
      else client.write(d);
    });
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) {
      s.on('error', end);
      s.on('close', end);
    }
  }
}
