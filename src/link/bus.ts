/**
 * The leader-tab transport: one BroadcastChannel shared by every tab of the origin, split into
 * point-to-point links. A BroadcastChannel cannot transfer MessagePorts, so each link is a
 * (kind, from, to) address on the shared channel instead of a port of its own.
 */
import { BUS_NAME, type Link } from './messages.js';

/**
 * What travels on the bus. `c` = control (Comlink, sealed: see sealed-link.ts), `e` = events,
 * `key` = the one-time rendezvous that opens a session; the rest is host discovery.
 */
export interface BusMessage {
  k: 'c' | 'e' | 'find' | 'here' | 'up' | 'key';
  from: string;
  to?: string;
  d?: unknown;
}

type Listener = (event: MessageEvent) => void;

/** One tab's (or one client's) view of the bus, addressed as `selfId`. */
export class Bus {
  private readonly channel: BroadcastChannel;
  private readonly routes = new Map<string, Set<Listener>>();
  /** Discovery messages (find/here/up) and link messages nobody listens to yet. */
  onOther?: (message: BusMessage) => void;

  constructor(readonly selfId: string, name = BUS_NAME) {
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (event) => this.receive(event.data);
  }

  /** Sends a message to whoever it is addressed to. */
  post(message: BusMessage): void {
    this.channel.postMessage(message);
  }

  /** A MessagePort-like link to `remoteId` for messages of `kind`. */
  link(kind: 'c' | 'e', remoteId: string): Link {
    const key = `${kind}:${remoteId}`;
    const listeners = this.routes.get(key) ?? new Set<Listener>();
    this.routes.set(key, listeners);
    return {
      postMessage: (data) => this.post({ k: kind, from: this.selfId, to: remoteId, d: data }),
      addEventListener: (_type, listener) => listeners.add(listener),
      removeEventListener: (_type, listener) => listeners.delete(listener),
      start: () => undefined,
      close: () => {
        listeners.clear();
        this.routes.delete(key);
      },
    };
  }

  /** Stops listening; links stay silent afterwards. */
  close(): void {
    this.routes.clear();
    this.channel.close();
  }

  /** Routes one message as if it had just arrived (also used to hand over a message `onOther` saw first). */
  receive(raw: unknown): void {
    if (typeof raw !== 'object' || raw === null) return;
    const message = raw as BusMessage;
    if (typeof message.from !== 'string') return;
    if (message.to !== undefined && message.to !== this.selfId) return;
    const listeners = message.k === 'c' || message.k === 'e' ? this.routes.get(`${message.k}:${message.from}`) : undefined;
    if (listeners && listeners.size > 0) {
      const event = { data: message.d } as MessageEvent;
      for (const listener of listeners) listener(event);
    } else {
      this.onOther?.(message);
    }
  }
}
