/**
 * The contract of the standard STU3 surface over the engine, shared by the Node server and the
 * in-page shims (hub.fetch / hub.WebSocket). Implemented in ./handler.ts.
 */
import type { ConnectionHandle } from '../hub/index.js';

/** Settings of one wire surface. */
export interface WireOptions {
  /** The hub.url this surface answers to, e.g. `http://127.0.0.1:5200/fhircast/hub`. */
  hubUrl: string;
  /** Largest request body in bytes (HUB-CHANGE-07, HUB-SEC-08). Default 1 MiB. */
  bodyLimitBytes?: number;
  /**
   * Told about failures that are not the client's fault (answered 500 without detail, HUB-SEC-09),
   * so the door can log them. The error may carry a stack; never send it to a client.
   */
  onInternalError?: (error: unknown) => void;
  /** Answers `GET {hub.url}/healthz` (cluster mode, HUB-CLUSTER-05); without it the route says the hub is up. */
  health?: () => { status: number; body: unknown };
}

/** The hub side of a WebSocket-shaped transport. */
export interface WireSocket {
  /** Sends one text frame. */
  send(text: string): void;
  /** Closes with a WebSocket close code. */
  close(code: number, reason: string): void;
}

/** The standard HTTP + WebSocket API as plain functions. */
export interface WireHandler {
  /** Answers one HTTP request made to hub.url or below it (fetch API Request/Response). */
  handle(request: Request): Promise<Response>;
  /**
   * Attaches a socket opened to `url`. Returns the handle to feed incoming text frames and the
   * close code into, or undefined when `url` is not a live endpoint (the door answers 404).
   * A frame over the body limit closes the socket with 1009 (HUB-SEC-08).
   */
  acceptSocket(url: string, socket: WireSocket): ConnectionHandle | undefined;
  /** True when `url` is a live endpoint (checked before upgrading). */
  isEndpoint(url: string): boolean;
  /** The hub.url this surface answers to, normalised (no trailing slash). */
  readonly hubUrl: string;
  /** The body and frame limit in force, in bytes. */
  readonly bodyLimitBytes: number;
}

/** The default body and frame limit: 1 MiB (conformance.md terms). */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
