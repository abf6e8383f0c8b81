/**
 * A private control link over the leader-tab bus (HUB-SEC-15, issue #19 L1). The bus is one
 * BroadcastChannel for the whole origin, and it cannot transfer a MessagePort, so every tab hears
 * every message: a bridge token, the getTopic secret or a Bearer header sent in the clear would
 * reach them all. So each session starts with a one-time rendezvous, an ECDH exchange of fresh
 * P-256 keys, and its control messages then travel sealed with AES-GCM under the derived key.
 * Other tabs see the public keys and ciphertext only.
 */
import type { Link } from './messages.js';

export { canSeal } from './seal-support.js';

/** One side of the rendezvous: its public key to send, and the key it derives from the peer's. */
export interface Rendezvous {
  readonly publicKey: JsonWebKey;
  /** The session key shared with the peer whose public key this is; rejects for a malformed key. */
  derive(peerPublicKey: unknown): Promise<CryptoKey>;
}

const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const;

/** Makes a fresh, one-time key pair; its private half never leaves this object (not extractable). */
export async function startRendezvous(): Promise<Rendezvous> {
  const pair = (await crypto.subtle.generateKey(ECDH, false, ['deriveKey'])) as CryptoKeyPair;
  const publicKey = await crypto.subtle.exportKey('jwk', pair.publicKey);
  return {
    publicKey,
    async derive(peerPublicKey) {
      if (typeof peerPublicKey !== 'object' || peerPublicKey === null) throw new TypeError('the peer sent no public key');
      const peer = await crypto.subtle.importKey('jwk', peerPublicKey as JsonWebKey, ECDH, false, []);
      return crypto.subtle.deriveKey({ name: 'ECDH', public: peer }, pair.privateKey, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    },
  };
}

/** What a sealed message looks like on the bus. */
interface Sealed {
  iv: Uint8Array;
  box: ArrayBuffer;
}

type Listener = (event: MessageEvent) => void;

/**
 * Wraps `inner` so that what is posted is sealed with `key` and what arrives is opened; a message
 * that does not open (not sealed, another key, tampered) is dropped. Order is kept both ways.
 */
export function sealedLink(inner: Link, key: CryptoKey): Link {
  const listeners = new Set<Listener>();
  let sending: Promise<void> = Promise.resolve();
  let receiving: Promise<void> = Promise.resolve();
  const onInner = (event: MessageEvent) => {
    const sealed = event.data as Partial<Sealed> | null;
    const opened = open(key, sealed);
    receiving = receiving.then(async () => {
      const data = await opened;
      if (data === DROPPED) return;
      const out = { data } as MessageEvent;
      for (const listener of listeners) listener(out);
    });
  };
  inner.addEventListener('message', onInner);
  return {
    postMessage(message) {
      const sealed = seal(key, message);
      sending = sending.then(async () => inner.postMessage(await sealed)).catch(() => undefined);
    },
    addEventListener: (_type, listener) => listeners.add(listener),
    removeEventListener: (_type, listener) => listeners.delete(listener),
    start: () => inner.start?.(),
    close() {
      listeners.clear();
      inner.removeEventListener('message', onInner);
      inner.close?.();
    },
  };
}

const DROPPED = Symbol('dropped');

async function seal(key: CryptoKey, message: unknown): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const box = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(encode(message)));
  return { iv, box };
}

async function open(key: CryptoKey, sealed: Partial<Sealed> | null): Promise<unknown> {
  if (!sealed || !(sealed.iv instanceof Uint8Array) || !(sealed.box instanceof ArrayBuffer)) return DROPPED;
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.iv as Uint8Array<ArrayBuffer> }, key, sealed.box);
    return decode(new TextDecoder().decode(plain));
  } catch {
    return DROPPED;
  }
}

/** The tag of an ArrayBuffer inside the JSON text (Comlink messages are plain data plus request and response bodies). */
const BYTES = '\u0000bytes';

function encode(message: unknown): string {
  return JSON.stringify(message, function (this: unknown, _key, value: unknown) {
    if (value instanceof ArrayBuffer) return { [BYTES]: toBase64(new Uint8Array(value)) };
    if (ArrayBuffer.isView(value)) return { [BYTES]: toBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
    return value;
  });
}

function decode(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && Object.hasOwn(value, BYTES)) return fromBase64(String((value as Record<string, unknown>)[BYTES])).buffer;
    return value;
  });
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
