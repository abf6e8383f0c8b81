/**
 * The page's `hub.WebSocket` sockets, each bound to the session it was opened on: messages of
 * another session never reach it, and when its session is lost it closes as a dropped socket
 * does (error, then 1006), so a standard client reconnects as it would to a real hub.
 */
import { randomId } from '../link/locks.js';
import type { HostMessage } from '../link/messages.js';
import type { HostConnection } from './connection.js';
import type { Session } from './session.js';
import type { SocketCarrier, SocketEvents } from './websocket-shim.js';

interface Entry {
  events: SocketEvents;
  session?: Session;
}

type SocketMessage = Extract<HostMessage, { t: 'ws-open' | 'ws-frame' | 'ws-close' }>;

/** The sockets of one hub connection. */
export class SocketTable implements SocketCarrier {
  private readonly sockets = new Map<string, Entry>();

  constructor(private readonly connection: HostConnection) {}

  open(url: string, events: SocketEvents): string {
    const id = randomId();
    const entry: Entry = { events };
    this.sockets.set(id, entry);
    this.connection.current().then(
      (session) => {
        if (!this.sockets.has(id)) return; // closed before it was sent
        entry.session = session;
        session.post({ t: 'ws-open', id, url });
      },
      () => this.finish(id, 1006, '', false),
    );
    return id;
  }

  send(id: string, data: string): void {
    const entry = this.sockets.get(id);
    entry?.session?.post({ t: 'ws-frame', id, data });
  }

  close(id: string, code: number, reason: string): void {
    const entry = this.sockets.get(id);
    if (entry?.session) entry.session.post({ t: 'ws-close', id, code, reason });
    else this.finish(id, code, reason, code !== 1006);
  }

  /** A socket message from the host of `session`. */
  receive(message: SocketMessage, session: Session): void {
    const entry = this.sockets.get(message.id);
    if (!entry || entry.session !== session) return;
    if (message.t === 'ws-open') entry.events.opened();
    else if (message.t === 'ws-frame') entry.events.message(message.data);
    else this.finish(message.id, message.code, message.reason, message.clean);
  }

  /** The sockets of a lost session drop (1006). */
  hostLost(session: Session): void {
    for (const [id, entry] of this.sockets) if (entry.session === session) this.finish(id, 1006, '', false);
  }

  /** Closes every socket normally (hub.close()). */
  closeAll(): void {
    for (const [id, entry] of this.sockets) {
      entry.session?.post({ t: 'ws-close', id, code: 1000, reason: '' });
      this.finish(id, 1000, '', true);
    }
  }

  private finish(id: string, code: number, reason: string, clean: boolean): void {
    const entry = this.sockets.get(id);
    if (!entry) return;
    this.sockets.delete(id);
    entry.events.closed(code, reason, clean);
  }
}
