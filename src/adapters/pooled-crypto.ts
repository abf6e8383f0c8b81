/**
 * A CryptoSource that draws random bytes from its source in blocks. In a browser a
 * getRandomValues call costs about as much for 4 KiB as for the 16 bytes of one id, and the
 * worker draws one or two ids per publish.
 */
import type { CryptoSource } from '../hub/ports.js';

const BLOCK_BYTES = 4096;

/** Wraps `source` so that small draws come from blocks of 4 KiB; each byte is handed out once. */
export function pooledRandom(source: CryptoSource): CryptoSource {
  let block: Uint8Array = new Uint8Array(0);
  let used = 0;
  return {
    randomBytes(n) {
      if (n > BLOCK_BYTES) return source.randomBytes(n);
      if (used + n > block.length) {
        block = source.randomBytes(BLOCK_BYTES);
        used = 0;
      }
      const bytes = block.slice(used, used + n);
      used += n;
      return bytes;
    },
    sha256: (data) => source.sha256(data),
  };
}
