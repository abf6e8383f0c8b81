/**
 * Whether this origin can seal leader-tab links. Apart from sealed-link.ts so the worker can answer
 * unsealed clients without loading the sealing code, which it loads on the first rendezvous.
 */

/**
 * True where WebCrypto is available (a secure context: https, localhost). Elsewhere, on a plain
 * http origin, no tab of the origin can seal, and leader-tab sessions run unsealed (docs/security.md).
 */
export function canSeal(): boolean {
  return typeof globalThis.crypto?.subtle?.deriveKey === 'function';
}
