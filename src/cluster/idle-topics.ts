/**
 * Idle topics forgotten cluster-wide (HUB-BOUND-05, HUB-CLUSTER-06). An engine reports a topic
 * idle here; Redis forgets it everywhere, through the change log, only when no subscription on any
 * instance counts for it and it did not change since this replica's position. A topic the registry
 * holds but no replica knows (its instance died before announcing it) is offered once per idle period.
 */
import type { ReplicaPort } from '../hub/replica.js';
import { LOG_LENGTH } from './change-log.js';
import type { HealthState } from './health.js';
import type { LogPosition } from './log-position.js';
import type { TopicRegistry } from './topic-registry.js';

/** The longest delay a Node timer takes (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the forgetting needs from its instance. */
export interface IdleTopicsContext {
  port: ReplicaPort;
  registry: TopicRegistry;
  health: () => HealthState;
  /** The log position this replica has applied. */
  position: () => LogPosition;
  /** A fresh token for a log entry of this instance. */
  token: () => string;
}

/** One instance's side of cluster-wide idle forgetting. */
export class IdleTopics {
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(private readonly ctx: IdleTopicsContext) {}

  /** Starts the registry sweep, once per idle period. */
  start(): void {
    this.sweeper = setInterval(() => void this.sweep(), Math.min(this.ctx.port.bounds.idleTopicMs, MAX_TIMER_MS));
    this.sweeper.unref?.();
  }

  /** Stops the sweep; nothing more is asked of Redis. */
  stop(): void {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /**
   * Asks Redis to forget `topic` everywhere. With Redis away nothing is forgotten; the engine
   * asks again after another idle period. `reportKept` logs why a topic this replica holds stays.
   */
  async forget(topic: string, reportKept = true): Promise<void> {
    const { redis, epoch } = this.ctx.health();
    if (redis !== 'ok' || epoch === undefined || this.stopped) return;
    const entry = JSON.stringify({ o: this.ctx.token(), f: topic });
    let verdict;
    try {
      verdict = await this.ctx.registry.forget(epoch, topic, this.ctx.position(), entry, LOG_LENGTH);
    } catch {
      return;
    }
    if (reportKept && (verdict === 'subscribed' || verdict === 'active')) {
      const why = verdict === 'subscribed' ? 'a subscription on another instance still uses it' : 'it changed meanwhile';
      const port = this.ctx.port;
      port.emit({ at: port.clock.now(), type: 'keep', topic, detail: `idle topic kept: ${why}` });
    }
  }

  /** A forget entry was applied here: a topic kept for a subscriber that came after the check counts again. */
  applied(topic: string, verdict: 'forgotten' | 'kept' | 'absent'): void {
    if (verdict === 'kept') void this.ctx.registry.register([topic]).catch(() => undefined);
  }

  private async sweep(): Promise<void> {
    if (this.stopped || this.ctx.health().redis !== 'ok') return;
    try {
      await this.ctx.registry.forEachPage(async (topics) => {
        for (const topic of topics) if (!this.stopped && !this.ctx.port.hasTopic(topic)) await this.forget(topic, false);
      });
    } catch {
      // Redis went away mid-sweep: the next one tries again
    }
  }
}
