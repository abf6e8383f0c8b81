/**
 * Frames out to subscriber channels: which subscriptions get a broadcast (planned as data),
 * notifications (tracked until answered), catch-up after a confirmation, and the transport calls
 * themselves, guarded so that one broken transport never stops a broadcast to the others.
 */
import { matchEvent, notificationSpelling, type Notification } from '../protocol/index.js';
import type { HubLog } from './log.js';
import type { Broadcast } from './context-change.js';
import type { TopicState } from './topic-state.js';
import type { Clock, SubscriberChannel } from './ports.js';
import type { Connection, HubSubscription } from './subscriptions.js';

/** Unanswered notifications kept per connection; the oldest is forgotten beyond this. */
const MAX_PENDING_PER_CONNECTION = 1000;

/** One frame for one subscription's connection: a notification under the name it matched. */
export interface Outgoing {
  conn: Connection;
  notification: Notification;
  /** The event name the subscriber asked for (the frame carries it as hub.event). */
  as: string;
  /** Wait for its answer (false for SyncErrors). */
  track: boolean;
}

/** How a broadcast treats its notification. */
export interface BroadcastOptions {
  /** Wait for answers (default); SyncErrors are not answered. */
  track?: boolean;
  /** A subscriber that must not get it (the one a SyncError is about). */
  exclude?: HubSubscription;
}

/** Sends frames to subscribers and records what they owe an answer for. */
export class Delivery {
  constructor(
    private readonly clock: Clock,
    private readonly log: HubLog,
    private readonly ackTimeoutMs: number,
  ) {}

  /**
   * The frames a broadcast makes, one per subscription that gets it: the event to every matching
   * subscriber of the topic, derived opens to those who lack the source. Sends nothing.
   */
  plan(subscribers: Iterable<HubSubscription>, broadcast: Broadcast): Outgoing[] {
    const { canonical, notification, derived, options } = broadcast;
    const out: Outgoing[] = [];
    for (const sub of subscribers) {
      if (sub === options.exclude) continue;
      const conn = sub.connection;
      if (!conn?.open) continue;
      const deliveredAs = matchEvent(sub.filters, canonical, notificationSpelling(canonical));
      if (deliveredAs) {
        out.push({ conn, notification, as: deliveredAs, track: options.track ?? true });
        continue;
      }
      for (const d of derived) {
        const as = matchEvent(sub.filters, d.event, d.event);
        if (as) out.push({ conn, notification: d.notification, as, track: true });
      }
    }
    return out;
  }

  /** Catch-up after the confirmation: the latest open per anchor type, oldest first (HUB-CTX-06..08). */
  catchUp(conn: Connection, state: TopicState): Outgoing[] {
    const filters = conn.subscription.filters;
    const best = new Map<string, { seq: number; notification: Notification; as: string }>();
    const consider = (type: string, seq: number, notification: Notification, as: string) => {
      const prev = best.get(type);
      if (!prev || prev.seq < seq) best.set(type, { seq, notification, as });
    };
    for (const ctx of state.openContexts()) {
      const name = ctx.notification.event['hub.event'];
      const as = matchEvent(filters, name, name);
      if (as) {
        const event = { ...ctx.notification.event, 'context.versionId': ctx.versionId };
        delete event['context.priorVersionId'];
        consider(ctx.anchorType, ctx.seq, { ...ctx.notification, event }, as);
      } else {
        for (const d of ctx.derived) {
          // A resource open as its own context is not re-announced through a derived open (HUB-CTX-13).
          if (state.find({ type: d.type, id: d.id })) continue;
          const dAs = matchEvent(filters, d.event, d.event);
          if (dAs) consider(d.type, ctx.seq, d.notification, dAs);
        }
      }
    }
    const ordered = [...best.values()].sort((a, b) => a.seq - b.seq);
    return ordered.map((item) => ({ conn, notification: item.notification, as: item.as, track: true }));
  }

  /** Sends planned frames in order; a tracked one is recorded as pending before it is sent. */
  dispatch(frames: readonly Outgoing[]): void {
    for (const f of frames) if (f.conn.open) this.deliver(f.conn, f.notification, f.as, f.track);
  }

  private deliver(conn: Connection, notification: Notification, deliveredAs: string, track: boolean): void {
    const frame = notification.event['hub.event'] === deliveredAs ? notification : { ...notification, event: { ...notification.event, 'hub.event': deliveredAs } };
    conn.lastEvent = { id: notification.id, name: deliveredAs };
    // Pending is recorded before sending: an in-process channel may answer from inside send().
    if (track) {
      if (conn.pending.size >= MAX_PENDING_PER_CONNECTION) conn.pending.delete(conn.pending.keys().next().value!);
      conn.pending.delete(notification.id); // a resend moves to the back (HUB-CHANGE-16)
      conn.pending.set(notification.id, {
        id: notification.id,
        name: deliveredAs,
        deadline: this.ackTimeoutMs > 0 ? this.clock.now() + this.ackTimeoutMs : Number.POSITIVE_INFINITY,
      });
    }
    this.send(conn.channel, frame, conn.subscription);
  }

  /** Sends one frame; a transport that throws is logged, not propagated. */
  send(channel: SubscriberChannel, frame: Parameters<SubscriberChannel['send']>[0], sub: HubSubscription): void {
    try {
      channel.send(frame);
    } catch (error) {
      this.log.emit({ at: this.clock.now(), type: 'close', topic: sub.topic, subscriber: sub.name, detail: `send failed: ${String(error)}` });
    }
  }

  /** Closes a channel with a reason cut to what a WebSocket close frame holds. */
  closeChannel(channel: SubscriberChannel, code: number, reason: string): void {
    try {
      channel.close(code, clampCloseReason(reason));
    } catch {
      // the transport is already gone; nothing left to close
    }
  }
}

const utf8 = new TextEncoder();

/** WebSocket close reasons are limited to 123 UTF-8 bytes; cut on a character boundary. */
function clampCloseReason(reason: string): string {
  if (utf8.encode(reason).length <= 123) return reason;
  let out = '';
  for (const ch of reason) {
    if (utf8.encode(out + ch).length > 123) break;
    out += ch;
  }
  return out;
}
