/**
 * The 2019 prototype's framing of a subscriber socket (channels.md §4, HUB-ENV-01/02), chosen with
 * `hub.channel.dialect=2019`. It wraps the socket the engine writes to, so the engine stays one
 * engine: the confirmation becomes the `{timestamp, status, statusCode}` greeting, notifications
 * (SyncErrors too) go inside `{header, body}`, heartbeats are dropped (the prototype had none) and a
 * denial becomes a close with 1008 and its reason. Answers need no change: the engine already reads
 * `{statusCode}` as a status and gives an answer without an id to the oldest unanswered notification.
 */
import type { WireSocket } from './types.js';

/** The header of every enveloped notification; it never carries a secret. */
const HEADER = Object.freeze({ 'Content-Type': 'application/json' });

/** WebSocket close code for a policy refusal (RFC 6455 §7.4.1). */
const CLOSE_POLICY = 1008;

/** Wraps a socket so that what the engine sends goes out in the 2019 envelope. */
export function envelopeSocket(socket: WireSocket, now: () => number): WireSocket {
  let deniedFor: string | undefined;
  return {
    send(text) {
      const frame = parse(text);
      if (!frame) return socket.send(text);
      if (frame['hub.mode'] === 'subscribe' && frame.event === undefined) {
        return socket.send(JSON.stringify({ timestamp: new Date(now()).toISOString(), status: 'OK', statusCode: '200' }));
      }
      if (frame['hub.mode'] === 'denied') {
        deniedFor = typeof frame['hub.reason'] === 'string' ? frame['hub.reason'] : 'subscription denied';
        return;
      }
      const event = frame.event as Record<string, unknown> | undefined;
      if (event === undefined) return socket.send(text);
      if (event['hub.event'] === 'heartbeat') return;
      socket.send(`{"header":${JSON.stringify(HEADER)},"body":${text}}`);
    },
    close(code, reason) {
      if (deniedFor !== undefined) return socket.close(CLOSE_POLICY, reason || deniedFor);
      socket.close(code, reason);
    },
  };
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
