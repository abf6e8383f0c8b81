/**
 * The page's side of the same-site relay: a hidden iframe of the hub's origin (`relayUrl`) that
 * starts this page's sessions with that origin's SharedWorker and holds this page's Web Locks.
 * The page speaks first, once, to the relay's exact origin; the rest flows over a private port.
 */
import { HubError } from '../protocol/outcome.js';
import type { LockManagerLike } from '../link/locks.js';
import type { Link } from '../link/messages.js';
import { RELAY_HELLO, RELAY_PROTOCOL, type PageToRelay, type RelayHello, type RelayToPage } from '../relay/protocol.js';
import type { Transport } from './transports.js';

/** How long the relay may take to answer the page's hello. */
export const RELAY_ANSWER_TIMEOUT_MS = 5000;

/** A relay iframe and the port to it. */
export interface RelayLink {
  /** Resolves once the relay has welcomed this page; rejects with its HubError otherwise. */
  readonly ready: Promise<void>;
  readonly transport: Transport;
  readonly locks: LockManagerLike;
  /** Removes the iframe. */
  dispose(): void;
}

/** The relay URL, checked: absolute http(s), and an error saying what to do when it is not. */
function relayLocation(relayUrl: string, pageUrl: string): URL {
  let url: URL;
  try {
    url = new URL(relayUrl, pageUrl);
  } catch {
    throw new HubError(400, 'value', `relayUrl is not a URL: ${relayUrl}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new HubError(400, 'value', `relayUrl must be an http(s) URL, got ${url.href}`);
  return url;
}

/** Embeds the relay at `relayUrl` and returns its link (usable at once: everything waits for the welcome). */
export function openRelay(relayUrl: string, pageUrl: string): RelayLink {
  const url = relayLocation(relayUrl, pageUrl);
  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.setAttribute('aria-hidden', 'true');
  frame.title = 'tabcast relay';
  frame.src = url.href;
  const { port1: port, port2: relayPort } = new MessageChannel();
  let nextId = 1;
  const waiting = new Map<number, (message: RelayToPage) => void>();
  const send = (message: PageToRelay) => port.postMessage(message);

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new HubError(504, 'transient', `the tabcast relay at ${url.href} did not answer within ${RELAY_ANSWER_TIMEOUT_MS / 1000} s: does that URL serve a page that loads tabcast-relay.js, and is it a secure context (https, or localhost)? A secure page cannot embed a relay over plain http.`)),
      RELAY_ANSWER_TIMEOUT_MS,
    );
    port.addEventListener('message', (event: MessageEvent<RelayToPage>) => {
      const message = event.data;
      if (message.t === 'welcome') {
        clearTimeout(timer);
        resolve();
      } else if (message.t === 'refused') {
        clearTimeout(timer);
        const { status, reason } = message.refusal;
        reject(new HubError(status, status === 403 ? 'forbidden' : 'processing', reason));
      } else if ('id' in message) waiting.get(message.id)?.(message);
    });
    port.start();
    // The page's one window message, to the relay's exact origin; the port carries everything else.
    frame.addEventListener('load', () => frame.contentWindow?.postMessage({ kind: RELAY_HELLO, protocol: RELAY_PROTOCOL } satisfies RelayHello, url.origin, [relayPort]), { once: true });
  });
  ready.catch(() => undefined); // reported to whoever waits on it
  (document.body ?? document.documentElement).appendChild(frame);

  const transport: Transport = async () => {
    await ready;
    const id = nextId++;
    const control = await new Promise<MessagePort>((resolve, reject) => {
      waiting.set(id, (message) => {
        if (message.t === 'opened') resolve(message.control);
        else if (message.t === 'open-failed') {
          waiting.delete(id);
          reject(new HubError(503, 'not-found', message.reason));
        }
      });
      send({ t: 'open', id });
    });
    let reportFailure!: (error: HubError) => void;
    const failed = new Promise<HubError>((resolve) => (reportFailure = resolve));
    waiting.set(id, (message) => message.t === 'worker-error' && reportFailure(new HubError(503, 'not-found', message.reason)));
    const { port1, port2 } = new MessageChannel();
    return {
      control: control as Link,
      events: port1 as Link,
      hostEvents: port2,
      failed,
      dispose() {
        waiting.delete(id);
        control.close();
        port1.close();
        send({ t: 'close', id });
      },
    };
  };

  const locks: LockManagerLike = {
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const signal = options.signal;
        if (signal?.aborted) return reject(new DOMException('the lock request was aborted', 'AbortError'));
        const id = nextId++;
        // As navigator.locks.request: settles with what the callback settled with, once the lock is let go.
        let outcome: Promise<unknown> = Promise.resolve(undefined);
        waiting.set(id, (message) => {
          if (message.t === 'granted') {
            outcome = Promise.resolve().then(() => callback({ name }));
            outcome.catch(() => undefined).finally(() => send({ t: 'release', id }));
          } else if (message.t === 'lock-done') {
            waiting.delete(id);
            if (message.error) reject(new DOMException(`the relay's lock request failed (${message.error})`, message.error));
            else outcome.then(resolve, reject);
          }
        });
        signal?.addEventListener('abort', () => send({ t: 'abort', id }), { once: true });
        void ready.then(() => send({ t: 'lock', id, name }), reject);
      });
    },
  };

  return {
    ready,
    transport,
    locks,
    dispose() {
      port.close();
      frame.remove();
    },
  };
}
