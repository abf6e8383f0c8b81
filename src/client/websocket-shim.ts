/**
 * `hub.WebSocket`: the browser's WebSocket interface, carried over the hub's events link instead
 * of the network, so an unmodified STU3 client can open the endpoints `hub.fetch` hands out.
 * URLs outside hub.url get a real WebSocket.
 */

/** What a shim socket hears from the hub. */
export interface SocketEvents {
  opened(): void;
  message(data: string): void;
  closed(code: number, reason: string, clean: boolean): void;
}

/** How shim sockets reach the hub. `open` returns the socket's id on the events link. */
export interface SocketCarrier {
  open(url: string, events: SocketEvents): string;
  send(id: string, data: string): void;
  close(id: string, code: number, reason: string): void;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function syntaxError(message: string): DOMException {
  return new DOMException(`Failed to construct 'WebSocket': ${message}`, 'SyntaxError');
}

/** Resolves and checks a socket URL as the WebSocket constructor does (http(s) become ws(s)). */
export function socketUrl(url: string | URL, base?: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(String(url), base);
  } catch {
    throw syntaxError(`The URL '${String(url)}' is invalid.`);
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw syntaxError(`The URL's scheme must be either 'ws' or 'wss'. '${parsed.protocol}' is not allowed.`);
  if (parsed.hash) throw syntaxError('The URL contains a fragment identifier.');
  return parsed;
}

function closeEvent(code: number, reason: string, wasClean: boolean): Event {
  if (typeof CloseEvent === 'function') return new CloseEvent('close', { code, reason, wasClean });
  return Object.assign(new Event('close'), { code, reason, wasClean });
}

/** Builds the WebSocket class of one hub: sockets under `hubUrl` go through `carrier`. */
export function createWebSocketClass(carrier: SocketCarrier, hubUrl: string): typeof WebSocket {
  const hub = socketUrl(hubUrl);
  const hubPath = hub.pathname.replace(/\/+$/, '');
  const isHubSocket = (url: URL) => url.host === hub.host && url.protocol === hub.protocol && url.pathname.startsWith(`${hubPath}/`);

  class HubWebSocket extends EventTarget {
    static readonly CONNECTING = CONNECTING;
    static readonly OPEN = OPEN;
    static readonly CLOSING = CLOSING;
    static readonly CLOSED = CLOSED;
    readonly CONNECTING = CONNECTING;
    readonly OPEN = OPEN;
    readonly CLOSING = CLOSING;
    readonly CLOSED = CLOSED;
    readonly url!: string;
    readonly protocol: string = '';
    readonly extensions = '';
    readonly bufferedAmount = 0;
    binaryType: BinaryType = 'blob';
    onopen: ((event: Event) => unknown) | null = null;
    onmessage: ((event: MessageEvent) => unknown) | null = null;
    onclose: ((event: CloseEvent) => unknown) | null = null;
    onerror: ((event: Event) => unknown) | null = null;
    #state = CONNECTING;
    readonly #id: string = '';

    constructor(url: string | URL, protocols?: string | string[]) {
      super();
      const parsed = socketUrl(url, (globalThis as { location?: { href: string } }).location?.href);
      if (!isHubSocket(parsed)) {
        // Not an endpoint of this hub: a real socket, as the app asked (returning it replaces `this`).
        return new WebSocket(parsed, protocols) as unknown as HubWebSocket;
      }
      this.url = parsed.href;
      // The STOMP endpoint answers as a server picking v12.stomp would (channels.md §1).
      const offered = typeof protocols === 'string' ? [protocols] : (protocols ?? []);
      if (parsed.pathname.replace(/\/+$/, '') === `${hubPath}/websocket` && offered.includes('v12.stomp')) this.protocol = 'v12.stomp';
      this.#id = carrier.open(this.url, {
        opened: () => {
          if (this.#state !== CONNECTING) return;
          this.#state = OPEN;
          this.#fire('open', new Event('open'));
        },
        message: (data) => {
          if (this.#state === OPEN) this.#fire('message', new MessageEvent('message', { data, origin: hub.origin }));
        },
        closed: (code, reason, clean) => {
          if (this.#state === CLOSED) return;
          this.#state = CLOSED;
          if (!clean) this.#fire('error', new Event('error'));
          this.#fire('close', closeEvent(code, reason, clean));
        },
      });
    }

    get readyState(): number {
      return this.#state;
    }

    send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
      if (this.#state === CONNECTING) throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
      if (this.#state !== OPEN) return; // like a closing socket: the data is dropped
      if (typeof data === 'string') carrier.send(this.#id, data);
      else if (data instanceof Blob) void data.text().then((text) => this.#state === OPEN && carrier.send(this.#id, text));
      else carrier.send(this.#id, decoder.decode(data as ArrayBuffer));
    }

    close(code?: number, reason = ''): void {
      if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
        throw new DOMException(`Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`, 'InvalidAccessError');
      }
      if (encoder.encode(reason).byteLength > 123) throw new DOMException("Failed to execute 'close' on 'WebSocket': The close reason must not be greater than 123 UTF-8 bytes.", 'SyntaxError');
      if (this.#state === CLOSING || this.#state === CLOSED) return;
      // Closing before the open fails the connection, as a browser does: the hub sees a drop (1006).
      const wireCode = this.#state === CONNECTING ? 1006 : (code ?? 1005);
      this.#state = CLOSING;
      carrier.close(this.#id, wireCode, reason);
    }

    #fire(type: 'open' | 'message' | 'close' | 'error', event: Event): void {
      const handler = this[`on${type}`] as ((event: Event) => unknown) | null;
      if (handler) {
        try {
          handler.call(this, event);
        } catch (error) {
          // Reported like an error in any event handler, without stopping the socket.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
      this.dispatchEvent(event);
    }
  }
  return HubWebSocket as unknown as typeof WebSocket;
}
