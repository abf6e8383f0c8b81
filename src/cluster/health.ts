/**
 * Watches Redis for one instance: reachable or not, the offset of Redis's clock (for the append
 * deadline), and the cluster's epoch, which changes when Redis comes back without its data.
 */
import type { Redis } from 'ioredis';
import { randomToken } from '../hub/index.js';
import type { ClusterKeys } from './keys.js';

/** What /healthz reports and what publish checks. */
export interface HealthState {
  redis: 'ok' | 'down';
  /** Why Redis is down, for the 503 and the log. */
  reason?: string;
  /** The epoch this instance works in, once known. */
  epoch?: string;
  /**
   * Set, with `redis: 'down'` for good, once this replica found that it missed this many changes
   * of the shared log (it fell behind the trimmed log, log-sequence.ts); only a restart repairs it.
   */
  missedChanges?: number;
}

/** How often Redis is checked; a lost Redis is noticed within this plus the command timeout. */
export const CHECK_EVERY_MS = 500;

const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** Checks Redis on a timer of its own. */
export class RedisHealth {
  state: HealthState = { redis: 'down', reason: 'not checked yet' };
  /** Topics in the cluster's registry at the last check (inspect() in cluster mode). */
  topicCount: number | undefined;
  private offsetMs = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly log: (line: string) => void,
    /** Writes this instance's state back after Redis lost its data. */
    private readonly restore: () => Promise<void>,
  ) {}

  /** First check (rejects when Redis is unreachable), then one every CHECK_EVERY_MS. */
  async start(): Promise<void> {
    await this.check();
    if (this.state.redis !== 'ok') throw new Error(`Redis is not usable: ${this.state.reason}`);
    this.schedule();
  }

  /** Stops checking. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Redis's clock now, as estimated at the last check. */
  redisNow(): number {
    return Date.now() + this.offsetMs;
  }

  /** Checks now rather than at the next tick (a publish saw the epoch change); resolves when done. */
  checkSoon(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) return this.running;
    if (this.timer) clearTimeout(this.timer);
    this.running = this.check().finally(() => {
      this.running = undefined;
      this.schedule();
    });
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.checkSoon(), CHECK_EVERY_MS);
    this.timer.unref?.();
  }

  private async check(): Promise<void> {
    const before = this.state;
    try {
      const sent = Date.now();
      const [secs, micros] = await this.redis.time();
      const received = Date.now();
      this.offsetMs = Number(secs) * 1000 + Math.floor(Number(micros) / 1000) - (sent + received) / 2;
      let epoch = await this.redis.get(this.keys.epoch);
      if (epoch === null || (before.epoch !== undefined && epoch !== before.epoch)) {
        if (before.epoch !== undefined) {
          this.state = { redis: 'down', reason: 'Redis lost its data; this instance is writing its state back', epoch: before.epoch };
          this.log(`tabcast: Redis came back without the cluster's data (epoch ${before.epoch} gone); writing this instance's state back`);
          await this.restore();
        }
        if (epoch === null) {
          const mine = randomToken({ randomBytes, sha256: async () => new Uint8Array() });
          epoch = (await this.redis.set(this.keys.epoch, mine, 'NX')) === 'OK' ? mine : await this.redis.get(this.keys.epoch);
        }
      }
      if (epoch === null) throw new Error('the cluster epoch vanished while it was being set');
      this.topicCount = await this.redis.scard(this.keys.topics);
      if (before.redis !== 'ok' && before.reason !== 'not checked yet') this.log('tabcast: Redis is reachable again');
      this.state = { redis: 'ok', epoch };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (this.state.redis === 'ok') this.log(`tabcast: lost Redis: ${reason}`);
      this.state = { redis: 'down', reason, epoch: before.epoch };
    }
  }
}
