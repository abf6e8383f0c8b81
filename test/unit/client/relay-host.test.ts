/**
 * Issue 16, the relay's decisions in node (its browser path is test/e2e/relay.spec.ts): the
 * allowlist is checked on every window message, only a hello carrying a port is read, and refusals
 * (unlisted origin, insecure context, cross-site embed) go back on that port, never to a window.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RELAY_HELLO, RELAY_PROTOCOL, type RelayToPage } from '../../../src/relay/protocol.js';
import { startRelay } from '../../../src/relay/relay-host.js';

const RELAY_ORIGIN = 'https://pacs.hospital.org';
const saved = new Map<string, PropertyDescriptor | undefined>();

/** Puts a fake browser around the relay: a window to dispatch on, its location, the context's flags. */
function fakeBrowser(options: { secure?: boolean; ancestors?: string[] } = {}): EventTarget & { postMessage?: unknown } {
  const win = new EventTarget() as EventTarget & { postMessage?: unknown };
  win.postMessage = () => {
    throw new Error('the relay must never post to a window');
  };
  const set = (name: string, value: unknown) => {
    if (!saved.has(name)) saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  };
  set('window', win);
  set('location', { origin: RELAY_ORIGIN, href: `${RELAY_ORIGIN}/tabcast/relay.html`, pathname: '/tabcast/relay.html', ancestorOrigins: options.ancestors });
  set('isSecureContext', options.secure ?? true);
  set('SharedWorker', function SharedWorker() {});
  return win;
}

afterEach(() => {
  for (const [name, descriptor] of saved) {
    if (descriptor) Object.defineProperty(globalThis, name, descriptor);
    else delete (globalThis as Record<string, unknown>)[name];
  }
  saved.clear();
});

/** Sends a window message from `origin`, with a fresh port; resolves with the relay's first answer on it, or 'silence'. */
async function hello(win: EventTarget, origin: string, data: unknown = { kind: RELAY_HELLO, protocol: RELAY_PROTOCOL }, withPort = true): Promise<RelayToPage | 'silence'> {
  const { port1, port2 } = new MessageChannel();
  const answer = new Promise<RelayToPage>((resolve) => port1.addEventListener('message', (event) => resolve(event.data as RelayToPage), { once: true }));
  port1.start();
  win.dispatchEvent(new MessageEvent('message', { data, origin, ports: withPort ? [port2] : [] }));
  // A reply on a MessagePort arrives within a few macrotasks; silence means none came.
  const silence = new Promise<'silence'>((resolve) => setTimeout(() => resolve('silence'), 50));
  const result = await Promise.race([answer, silence]);
  port1.close();
  port2.close();
  return result;
}

describe('I16 relay host: who is served', () => {
  it('refuses an unlisted origin with 403 naming it, on the port, and welcomes a listed one', async () => {
    const win = fakeBrowser({ ancestors: ['https://ris.hospital.org'] });
    startRelay({ allowOrigins: ['https://ris.hospital.org'], workerUrl: `${RELAY_ORIGIN}/tabcast/tabcast-worker.js` });
    const refused = await hello(win, 'https://evil.example');
    expect(refused).toMatchObject({ t: 'refused', refusal: { status: 403 } });
    expect((refused as Extract<RelayToPage, { t: 'refused' }>).refusal.reason).toContain('https://evil.example');
    // the same origin with another port or scheme is another origin
    expect(await hello(win, 'https://ris.hospital.org:8443')).toMatchObject({ t: 'refused' });
    expect(await hello(win, 'http://ris.hospital.org')).toMatchObject({ t: 'refused' });
    expect(await hello(win, 'https://ris.hospital.org')).toMatchObject({ t: 'welcome', protocol: RELAY_PROTOCOL, origin: RELAY_ORIGIN });
  });

  it('reads nothing but a hello carrying a port: other messages get no answer at all', async () => {
    const win = fakeBrowser({ ancestors: ['https://ris.hospital.org'] });
    startRelay({ allowOrigins: ['https://ris.hospital.org'], workerUrl: `${RELAY_ORIGIN}/w.js` });
    expect(await hello(win, 'https://ris.hospital.org', { kind: 'something-else' })).toBe('silence');
    expect(await hello(win, 'https://ris.hospital.org', null)).toBe('silence');
    expect(await hello(win, 'https://ris.hospital.org', { kind: RELAY_HELLO, protocol: RELAY_PROTOCOL }, false)).toBe('silence');
    expect(await hello(win, 'https://ris.hospital.org', { kind: RELAY_HELLO, protocol: 999 })).toMatchObject({ t: 'refused', refusal: { status: 400 } });
  });

  it('refuses a listed origin when the relay is embedded under another site (partitioned storage) or is not a secure context', async () => {
    let win = fakeBrowser({ ancestors: ['https://ris.hospital.org', 'https://portal.other-site.org'] });
    startRelay({ allowOrigins: ['https://ris.hospital.org'], workerUrl: `${RELAY_ORIGIN}/w.js` });
    const partitioned = await hello(win, 'https://ris.hospital.org');
    expect(partitioned).toMatchObject({ t: 'refused', refusal: { status: 403 } });
    expect((partitioned as Extract<RelayToPage, { t: 'refused' }>).refusal.reason).toContain('partitions');

    win = fakeBrowser({ secure: false, ancestors: ['https://ris.hospital.org'] });
    startRelay({ allowOrigins: ['https://ris.hospital.org'], workerUrl: `${RELAY_ORIGIN}/w.js` });
    const insecure = await hello(win, 'https://ris.hospital.org');
    expect((insecure as Extract<RelayToPage, { t: 'refused' }>).refusal.reason).toContain('not a secure context');
  });
});
