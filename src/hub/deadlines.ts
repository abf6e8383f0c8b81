/**
 * The engine's deadlines: leases, ack timeouts, connect deadlines and the heartbeat. They are
 * wall-clock times that the door schedules (`onWake`, `tick`); here they are computed and moved,
 * never waited for. Each subscription's next one is O(1) to compute, so the engine keeps it in a
 * heap instead of scanning subscriptions.
 */
import { randomToken } from './ids.js';
import type { CryptoSource, HeartbeatFrame } from './ports.js';
import type { HubSubscription } from './subscriptions.js';

/**
 * A subscription's next deadline: its lease end, its connect deadline while it never connected
 * (HUB-BOUND-06), and the oldest unanswered notification's ack deadline. Pending answers are kept in
 * order of sending with one timeout, so the first one is the earliest.
 */
export function nextDeadlineOf(sub: HubSubscription, connectTimeoutMs: number): number {
  let at = sub.leaseExpiresAt;
  if (!sub.confirmed) at = Math.min(at, sub.createdAt + connectTimeoutMs);
  const conn = sub.connection;
  if (conn?.open) {
    const first = conn.pending.values().next().value;
    if (first) at = Math.min(at, first.deadline);
  }
  return at;
}

/** Moves a subscription's lease end, creation time and ack deadlines by `stepMs` (the wall clock stepped back). */
export function shiftDeadlines(sub: HubSubscription, stepMs: number): void {
  sub.leaseExpiresAt += stepMs;
  (sub as { createdAt: number }).createdAt += stepMs;
  for (const p of sub.connection?.pending.values() ?? []) p.deadline += stepMs;
}

/** The oldest unanswered notification of a subscription if it is past its deadline. */
export function overdueAnswer(sub: HubSubscription, now: number): { id: string; name: string } | undefined {
  const conn = sub.connection;
  if (!conn?.open) return undefined;
  const first = conn.pending.values().next().value;
  return first && first.deadline <= now ? first : undefined;
}

/** A heartbeat frame for one subscription (HUB-HEART-01..03). */
export function heartbeatFrame(topic: string, now: number, periodMs: number, crypto: CryptoSource): HeartbeatFrame {
  return {
    timestamp: new Date(now).toISOString(),
    id: randomToken(crypto),
    event: { 'hub.topic': topic, 'hub.event': 'heartbeat', context: [{ key: 'period', decimal: String(periodMs / 1000) }] },
  };
}
