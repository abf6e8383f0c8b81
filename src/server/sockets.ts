/**
 * WebSocket upgrades for `tabcast serve`: only live endpoints are upgraded (HUB-SEC-03), frames
 * go to the wire's handle, and dead peers are found with ping/pong.
 */
import type { IncomingMessage } from 'node:http';
import type { ConnectionHandle } from '../hub/index.js';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { STOMP_FRAME_LIMIT_BYTES, STOMP_SUBPROTOCOL, type WireHandler } from '../wire/index.js';

/** The socket side of the server. */
export interface SocketDoor {
  /** Handles an HTTP upgrade request. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Waits up to `timeoutMs` for open sockets to finish closing, then cuts the rest. */
  drain(timeoutMs: number): Promise<void>;
}

/** Unsent bytes a subscriber socket may hold before it counts as a failed delivery (HUB-SEC-13). */
export const DEFAULT_SOCKET_BUFFER_BUDGET_BYTES = 4 * 1024 * 1024;
/** "Try again later" (RFC 6455 §7.4.1): the close code of a subscriber too slow to keep up. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** Optional settings of the socket door. */
export interface SocketDoorOptions {
  /** Unsent bytes per socket before it is closed with 1013 (default 4 MiB). */
  bufferBudgetBytes?: number;
  /** Told of each socket attached to a live endpoint, by the endpoint's URL. */
  onAccepted?: (url: string) => void;
}

/**
 * Builds the socket door; `pingMs` > 0 pings every socket that often and cuts one that missed a
 * pong. `log` hears about failures inside the hub while handling a socket; they never escape.
 */
export function socketDoor(wire: WireHandler, base: string, pingMs: number, log: (line: string) => void = () => undefined, options: SocketDoorOptions = {}): SocketDoor {
  const budget = options.bufferBudgetBytes ?? DEFAULT_SOCKET_BUFFER_BUDGET_BYTES;
  // The wire closes a frame over the limit with 1009; ws's own cap only bounds what is buffered.
  // STOMP clients offer several versions: pick v12.stomp (channels.md §1), else the first offered, as ws does.
  const handleProtocols = (offered: Set<string>) => (offered.has(STOMP_SUBPROTOCOL) ? STOMP_SUBPROTOCOL : (offered.values().next().value ?? false));
  const wss = new WebSocketServer({ noServer: true, maxPayload: Math.max(wire.bodyLimitBytes, STOMP_FRAME_LIMIT_BYTES) * 2, handleProtocols });
  const alive = new WeakMap<WebSocket, boolean>();
  const pinger =
    pingMs > 0
      ? setInterval(() => {
          for (const ws of wss.clients) {
            if (alive.get(ws) === false) {
              ws.terminate(); // reaches the hub as 1006: abnormal close (HUB-SYNC-08)
              continue;
            }
            alive.set(ws, false);
            ws.ping();
          }
        }, pingMs)
      : undefined;
  pinger?.unref();

  return {
    upgrade(req, socket, head) {
      // Whatever a client sends, an upgrade must never throw: the 'upgrade' event has no caller
      // to catch it, so an exception here would end the whole process (HUB-SEC-09).
      try {
        let url: string;
        try {
          url = new URL(req.url ?? '/', base).href;
        } catch {
          refuse(socket, 400, 'the request target is not a valid URL');
          return;
        }
        if (!wire.isEndpoint(url)) {
          refuse(socket, 404, 'no live subscription at this endpoint');
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
          ws.on('error', () => undefined); // the close that follows is what the hub needs to know
          let handle: ConnectionHandle | undefined;
          let overBudget = false;
          const send = (text: string) => {
            if (overBudget) return;
            ws.send(text);
            if (ws.bufferedAmount <= budget) return;
            overBudget = true;
            // After the engine's current fan-out: ending a subscription inside it would reorder delivery.
            queueMicrotask(() => guarded(log, () => failSlowSubscriber(ws, handle, budget)));
          };
          handle = guarded(log, () => wire.acceptSocket(url, { send, close: (code, reason) => ws.close(code, reason) }));
          if (!handle) {
            // The subscription ended between the check and the upgrade.
            ws.close(1008, 'no live subscription at this endpoint');
            return;
          }
          options.onAccepted?.(url);
          alive.set(ws, true);
          ws.on('pong', () => alive.set(ws, true));
          ws.on('message', (data, isBinary) => guarded(log, () => handle.receive(isBinary ? bytes(data) : bytes(data).toString('utf8'))));
          ws.on('close', (code) => guarded(log, () => handle.closed(code)));
        });
      } catch (error) {
        log(`tabcast: could not upgrade a connection: ${error instanceof Error ? error.message : String(error)}`);
        socket.destroy();
      }
    },
    async drain(timeoutMs) {
      if (pinger) clearInterval(pinger);
      const open = [...wss.clients];
      for (const ws of open) if (ws.readyState === ws.OPEN) ws.close(1001, 'hub shutting down');
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(open.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise((resolve) => ws.once('close', resolve))))),
        new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}

/**
 * A subscriber that does not read is a failed delivery (HUB-SEC-13): the engine hears an
 * abnormal close (SyncError to the others) and drops the subscription; the socket is closed with
 * 1013. Its buffer is freed when ws gives up on the closing handshake, and nothing more is queued.
 */
function failSlowSubscriber(ws: WebSocket, handle: ConnectionHandle | undefined, budget: number): void {
  handle?.closed(CLOSE_TRY_AGAIN_LATER, { endSubscription: true });
  ws.close(CLOSE_TRY_AGAIN_LATER, `subscriber too slow: over ${budget} bytes unsent`);
}

/** Runs a socket event handler; an exception is logged, since ws would rethrow it out of its event loop callback. */
function guarded<T>(log: (line: string) => void, action: () => T): T | undefined {
  try {
    return action();
  } catch (error) {
    log(`tabcast: internal error on a subscriber socket: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

function bytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 404: 'Not Found' };

function refuse(socket: Duplex, status: number, reason: string): void {
  const body = Buffer.from(reason, 'utf8');
  const head = [`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`, 'Connection: close', 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${body.byteLength}`];
  socket.on('error', () => undefined);
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), body]));
}
