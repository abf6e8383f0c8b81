/**
 * WebSocket upgrades for `tabcast serve`: only live endpoints are upgraded (HUB-SEC-03), frames
 * go to the wire's handle, and dead peers are found with ping/pong.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { WireHandler } from '../wire/index.js';

/** The socket side of the server. */
export interface SocketDoor {
  /** Handles an HTTP upgrade request. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Waits up to `timeoutMs` for open sockets to finish closing, then cuts the rest. */
  drain(timeoutMs: number): Promise<void>;
}

/** Builds the socket door; `pingMs` > 0 pings every socket that often and cuts one that missed a pong. */
export function socketDoor(wire: WireHandler, base: string, pingMs: number): SocketDoor {
  // The wire closes a frame over the limit with 1009; ws's own cap only bounds what is buffered.
  const wss = new WebSocketServer({ noServer: true, maxPayload: wire.bodyLimitBytes * 2 });
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
      const url = new URL(req.url ?? '/', base).href;
      if (!wire.isEndpoint(url)) {
        refuse(socket, 404, 'no live subscription at this endpoint');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('error', () => undefined); // the close that follows is what the hub needs to know
        const handle = wire.acceptSocket(url, { send: (text) => ws.send(text), close: (code, reason) => ws.close(code, reason) });
        if (!handle) {
          // The subscription ended between the check and the upgrade.
          ws.close(1008, 'no live subscription at this endpoint');
          return;
        }
        alive.set(ws, true);
        ws.on('pong', () => alive.set(ws, true));
        ws.on('message', (data, isBinary) => handle.receive(isBinary ? bytes(data) : bytes(data).toString('utf8')));
        ws.on('close', (code) => handle.closed(code));
      });
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

function bytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

function refuse(socket: Duplex, status: number, reason: string): void {
  const body = Buffer.from(reason, 'utf8');
  const head = [`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Error'}`, 'Connection: close', 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${body.byteLength}`];
  socket.on('error', () => undefined);
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), body]));
}
