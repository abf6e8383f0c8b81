/**
 * STOMP 1.2 heart-beat negotiation ("Heart-beating"): each side states what it can send and what it
 * wants to receive; the larger of the two applies, and 0 on either side turns that direction off.
 */
import { StompProtocolError } from './frame.js';

/** One side's `heart-beat` values in ms: how often it can send, how often it wants to receive. */
export interface HeartBeatOffer {
  send: number;
  receive: number;
}

/** What applies on a connection, from the hub's side. 0 means off. */
export interface HeartBeatPlan {
  /** The hub sends a heart-beat after this much silence of its own. */
  sendEveryMs: number;
  /** The client must be heard from at least this often; silence past twice this closes it. */
  expectEveryMs: number;
}

/** Reads a `heart-beat` header `cx,cy`; absent means `0,0`. Throws StompProtocolError when malformed. */
export function parseHeartBeat(header: string | undefined): HeartBeatOffer {
  if (header === undefined) return { send: 0, receive: 0 };
  const match = /^\s*(\d{1,9})\s*,\s*(\d{1,9})\s*$/.exec(header);
  if (!match) throw new StompProtocolError(`heart-beat ${JSON.stringify(header.slice(0, 40))} is not two numbers of milliseconds "cx,cy"`);
  return { send: Number(match[1]), receive: Number(match[2]) };
}

/** The plan for a client's offer against the hub's own. */
export function negotiateHeartBeat(client: HeartBeatOffer, hub: HeartBeatOffer): HeartBeatPlan {
  return {
    sendEveryMs: hub.send > 0 && client.receive > 0 ? Math.max(hub.send, client.receive) : 0,
    expectEveryMs: client.send > 0 && hub.receive > 0 ? Math.max(client.send, hub.receive) : 0,
  };
}

/** The hub's `heart-beat` header for CONNECTED: its own offer, as STOMP 1.2 has each side state. */
export function heartBeatHeader(hub: HeartBeatOffer): string {
  return `${hub.send},${hub.receive}`;
}
