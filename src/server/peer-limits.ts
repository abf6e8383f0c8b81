/**
 * Slow and greedy peers on `tabcast serve` (HUB-SEC-14, issue #19 M4/M5): Node's own request
 * timeouts, tightened, and a cap on connections per remote address, so that 50 slow-header
 * connections from one client cannot lock every other client out.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Headers must be complete within this long (Node's default is 60 s). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** A whole request, body included, must arrive within this long (Node's default is 300 s). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Open connections one remote address may hold. */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 64;

/** The timeouts in force on a server. */
export interface PeerTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/**
 * How often Node looks for requests past their timeouts: it only checks on this period, so a
 * period as long as Node's default (30 s) would let a 10 s headers timeout run to 40 s.
 */
export function checkingIntervalMs(timeouts: PeerTimeouts): number {
  return Math.max(10, Math.min(1000, Math.floor(Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs) / 4)));
}

/** Sets Node's request timeouts on `server`. Node requires headersTimeout ≤ requestTimeout. */
export function applyTimeouts(server: Server, timeouts: PeerTimeouts): void {
  server.requestTimeout = timeouts.requestTimeoutMs;
  server.headersTimeout = Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs);
}

/**
 * Refuses a TCP connection from an address that already holds `max` open ones: the socket is
 * destroyed at once, before it can occupy a slot of `--max-connections`. Returns the live
 * count per address, for tests and inspection.
 */
export function limitConnectionsPerAddress(server: Server, max: number): ReadonlyMap<string, number> {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = open.get(address) ?? 0;
    if (count >= max) {
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
  return open;
}
