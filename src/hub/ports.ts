/**
 * What the engine needs from the world, injected by each door (worker, tabcast serve, tests).
 * Nothing here touches a socket, a timer or a database: those live in the adapters.
 */
import type { HubFrame } from '../protocol/index.js';

/** Wall-clock time in milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

/** Cryptographic primitives (WebCrypto in browsers and Node 20). */
export interface CryptoSource {
  /** Fills a new array with n cryptographically secure random bytes. */
  randomBytes(n: number): Uint8Array;
  /** SHA-256 digest of the bytes. */
  sha256(data: Uint8Array): Promise<Uint8Array>;
}

/**
 * Durable key-value storage of the engine's per-key records (keys and values: `records.ts`).
 * `writeBatch` applies all changes atomically (a value of `undefined` deletes the key) and resolves
 * once they are durable. A change hands over only the records it touched.
 */
export interface HubStorage {
  loadAll(): Promise<Map<string, unknown>>;
  writeBatch(changes: ReadonlyMap<string, unknown>): Promise<void>;
  /** Releases the store (files, handles); the door calls it after the engine's shutdown. Optional. */
  close?(): Promise<void>;
}

/** The hub's side of one subscriber connection (a WebSocket, a MessagePort, an in-page shim). */
export interface SubscriberChannel {
  /** Sends one frame. The door serialises it as JSON text where the transport needs text. */
  send(frame: HubFrame | HeartbeatFrame): void;
  /** Closes the transport with a WebSocket close code. */
  close(code: number, reason: string): void;
}

/** A heartbeat notification (fhircast-spec.md §9.2). */
export interface HeartbeatFrame {
  timestamp: string;
  id: string;
  event: { 'hub.topic': string; 'hub.event': 'heartbeat'; context: [{ key: 'period'; decimal: string }] };
}
