/** CryptoSource over WebCrypto (`globalThis.crypto`), present in browsers, workers and Node 20. */
import type { CryptoSource } from '../hub/ports.js';

/** The platform's WebCrypto as a CryptoSource. */
export const webCrypto: CryptoSource = {
  randomBytes(n) {
    return globalThis.crypto.getRandomValues(new Uint8Array(n));
  },
  async sha256(data) {
    return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
  },
};
