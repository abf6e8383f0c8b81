// HUB-SEC-01 / HUB-SEC-02: ids and endpoints stay unguessable when the worker draws its random
// bytes in blocks: every byte comes from the source, and none is handed out twice.
import { describe, expect, it } from 'vitest';
import { pooledRandom } from '../../../src/adapters/pooled-crypto.js';
import { webCrypto } from '../../../src/adapters/web-crypto.js';
import { randomToken } from '../../../src/hub/ids.js';
import type { CryptoSource } from '../../../src/hub/ports.js';

/** A source that counts its draws and yields 0, 1, 2, … so that reuse would show. */
function countingSource() {
  let next = 0;
  const draws: number[] = [];
  const source: CryptoSource = {
    randomBytes(n) {
      draws.push(n);
      return Uint8Array.from({ length: n }, () => next++ % 256);
    },
    sha256: (data) => webCrypto.sha256(data),
  };
  return { source, draws };
}

describe('pooledRandom', () => {
  it('HUB-SEC-01 hands out consecutive, never repeated bytes of its source and draws 4 KiB at a time', () => {
    const { source, draws } = countingSource();
    const pooled = pooledRandom(source);
    const seen: number[] = [];
    for (let i = 0; i < 300; i++) seen.push(...pooled.randomBytes(16)); // 4,800 bytes: two blocks
    expect(draws).toStrictEqual([4096, 4096]);
    // Block one gives 256 draws of 16 bytes (4,096 bytes); block two starts afresh.
    expect(seen.slice(0, 4096)).toStrictEqual(Array.from({ length: 4096 }, (_, i) => i % 256));
    expect(seen.slice(4096)).toStrictEqual(Array.from({ length: 704 }, (_, i) => (4096 + i) % 256));
  });

  it('HUB-SEC-01 a draw that does not fit the rest of a block takes a new block, and one larger than a block goes to the source', () => {
    const { source, draws } = countingSource();
    const pooled = pooledRandom(source);
    pooled.randomBytes(4090);
    expect(pooled.randomBytes(16)).toHaveLength(16);
    expect(draws).toStrictEqual([4096, 4096]);
    expect(pooled.randomBytes(5000)).toHaveLength(5000);
    expect(draws).toStrictEqual([4096, 4096, 5000]);
  });

  it('HUB-SEC-02 a returned array is a copy: changing it does not change later draws', () => {
    const { source } = countingSource();
    const pooled = pooledRandom(source);
    const a = pooled.randomBytes(16);
    a.fill(0xff);
    expect([...pooled.randomBytes(16)]).toStrictEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
  });

  it('HUB-SEC-02 tokens drawn through the pool over WebCrypto are distinct', () => {
    const pooled = pooledRandom(webCrypto);
    const tokens = new Set(Array.from({ length: 2000 }, () => randomToken(pooled)));
    expect(tokens.size).toBe(2000);
  });
});
