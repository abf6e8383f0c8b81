/**
 * The engine's deadlines: leases, ack timeouts and the heartbeat. They are wall-clock times that
 * the door schedules (`onWake`, `tick`); here they are found and moved, never waited for.
 */
import { randomToken } from './ids.js';
import type { CryptoSource, HeartbeatFrame } from './ports.js';
import type { Subscription } from './subscriptions.js';

/** The earliest lease end, ack deadline or (while any channel is open) heartbeat, if any. */
export function earliestDeadline(subscriptions: Iterable<Subscription>, nextHeartbeatAt: number | undefined): number | undefined {
  let min = Number.POSITIVE_INFINITY;
  let anyConnected = false;
  for (const sub of subscriptions) {
    min = Math.min(min, sub.leaseExpiresAt);
    const conn = sub.connection;
    if (conn?.open) {
      anyConnected = true;
      for (const p of conn.pending.values()) min = Math.min(min, p.deadline);
    }
  }
  if (anyConnected && nextHeartbeatAt !== undefined) min = Math.min(min, nextHeartbeatAt);
  return Number.isFinite(min) ? min : undefined;
}

/** Moves every lease end and ack deadline by `stepMs` (the wall clock stepped back by that much). */
export function shiftDeadlines(subscriptions: Iterable<Subscription>, stepMs: number): void {
  for (const sub of subscriptions) {
    sub.leaseExpiresAt += stepMs;
    for (const p of sub.connection?.pending.values() ?? []) p.deadline += stepMs;
  }
}

/** The oldest unanswered notification of a subscription that is past its deadline, if any. */
export function overdueAnswer(sub: Subscription, now: number): { id: string; name: string } | undefined {
  const conn = sub.connection;
  if (!conn?.open) return undefined;
  for (const p of conn.pending.values()) if (p.deadline <= now) return p;
  return undefined;
}

/** A heartbeat frame for one subscription (HUB-HEART-01..03). */
export function heartbeatFrame(topic: string, now: number, periodMs: number, crypto: CryptoSource): HeartbeatFrame {
  return {
    timestamp: new Date(now).toISOString(),
    id: randomToken(crypto),
    event: { 'hub.topic': topic, 'hub.event': 'heartbeat', context: [{ key: 'period', decimal: String(periodMs / 1000) }] },
  };
}
