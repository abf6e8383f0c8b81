/**
 * One STOMP SUBSCRIBE as one engine subscription (channels.md §1 "Subscribing"): the engine's
 * frames become MESSAGE frames, and ACK/NACK (or, in `auto` mode, the write itself) become the
 * answers the engine waits for, so NACK and silence mean what they mean on the STU3 WebSocket.
 */
import type { ConnectionHandle, SubscriberChannel } from '../hub/index.js';
import { messageDestination, type Destination } from './destination.js';
import type { StompFrame } from './frame.js';

/** Unanswered MESSAGEs remembered per subscription, as the engine bounds its pending answers per connection. */
const MAX_UNANSWERED = 1000;

/** The three acknowledgement modes of STOMP 1.2. */
export type AckMode = 'auto' | 'client' | 'client-individual';

/** A notification as the engine delivers it. */
interface DeliveredNotification {
  id: string;
  timestamp: string;
  event: { 'hub.topic': string; 'hub.event': string };
}

/** What a subscription needs from its session. */
export interface SubscriptionHost {
  /** Writes a frame to the client. */
  write(frame: StompFrame): void;
  /** A new ack token, unique on the connection. */
  newToken(): string;
  /** Registers a token as naming a MESSAGE of this subscription. */
  remember(token: string, subscription: StompSubscription): void;
  /** Forgets a token (its MESSAGE is no longer waited for). */
  forget(token: string): void;
  /** The engine ended the subscription on its own (ack timeout): ERROR naming it, then close. */
  endedByHub(subscription: StompSubscription, reason: string): void;
  /** The engine closed the channel without a denial (shutdown, 1001). */
  closedByHub(code: number, reason: string): void;
}

/** One SUBSCRIBE of a STOMP connection. */
export class StompSubscription {
  /** The engine's handle, once `hub.connect` returned. */
  handle?: ConnectionHandle;
  /** Set when the session ends it: the engine's denial and close are then expected. */
  ending = false;
  /** Tokens of MESSAGE frames not yet answered, oldest first, with their notification ids. */
  private readonly unanswered = new Map<string, string>();
  /** Answers written before `hub.connect` returned (auto mode during the catch-up). */
  private early: string[] = [];

  constructor(
    readonly id: string,
    readonly destination: Destination,
    readonly ack: AckMode,
    readonly endpoint: string,
    private readonly host: SubscriptionHost,
  ) {}

  /** How many MESSAGEs wait for an ACK or NACK. */
  get waiting(): number {
    return this.unanswered.size;
  }

  /** The channel the engine delivers this subscription's frames to. */
  channel(): SubscriberChannel {
    return {
      send: (frame) => this.fromHub(frame as unknown as Record<string, unknown>),
      close: (code, reason) => {
        if (!this.ending && code !== 1000) this.host.closedByHub(code, reason);
      },
    };
  }

  /** Attaches the engine handle and sends the answers that were waiting for it. */
  attach(handle: ConnectionHandle): void {
    this.handle = handle;
    const early = this.early;
    this.early = [];
    for (const id of early) handle.receive({ id, status: 200 });
  }

  /**
   * Answers the MESSAGE behind `token` with `status`. In `client` mode an ACK is cumulative: it
   * also acknowledges every earlier MESSAGE of the subscription. Unknown tokens change nothing.
   */
  answer(token: string, status: number): void {
    const target = this.unanswered.get(token);
    if (target === undefined || !this.handle) return;
    const cumulative = this.ack === 'client' && status >= 200 && status <= 299;
    for (const [t, notificationId] of this.unanswered) {
      const isTarget = t === token;
      if (!isTarget && !cumulative) continue;
      this.unanswered.delete(t);
      this.handle.receive({ id: notificationId, status: isTarget ? status : 200 });
      if (isTarget) break;
    }
  }

  private fromHub(frame: Record<string, unknown>): void {
    const mode = frame['hub.mode'];
    if (mode !== undefined) {
      // The confirmation needs no frame of its own; a denial the session did not ask for is the hub ending it.
      if (mode === 'denied' && !this.ending) {
        this.ending = true;
        this.host.endedByHub(this, typeof frame['hub.reason'] === 'string' ? frame['hub.reason'] : 'the hub ended this subscription');
      }
      return;
    }
    const notification = frame as unknown as DeliveredNotification;
    // The FHIRcast heartbeat is not a MESSAGE: STOMP has heart-beats of its own (channels.md §1).
    if (notification.event?.['hub.event'] === 'heartbeat') return;
    const headers: Array<[string, string]> = [
      ['destination', messageDestination(notification.event['hub.topic'], notification.event['hub.event'])],
      ['subscription', this.id],
      ['message-id', notification.id],
      ['content-type', 'application/json'],
    ];
    if (this.ack !== 'auto') {
      const token = this.host.newToken();
      headers.push(['ack', token]);
      if (this.unanswered.size >= MAX_UNANSWERED) {
        // With the ack timeout off a client may never answer: keep memory bounded, oldest first.
        const oldest = this.unanswered.keys().next().value!;
        this.unanswered.delete(oldest);
        this.host.forget(oldest);
      }
      this.unanswered.set(token, notification.id);
      this.host.remember(token, this);
    }
    this.host.write({ command: 'MESSAGE', headers, body: JSON.stringify(frame) });
    // In auto mode a MESSAGE counts as answered once it is written.
    if (this.ack === 'auto') {
      if (this.handle) this.handle.receive({ id: notification.id, status: 200 });
      else this.early.push(notification.id);
    }
  }
}
