/** The bridge's memory of event ids (src/bridge/memory.ts). */
import { describe, expect, it } from 'vitest';
import { SeenIds } from '../../../src/bridge/memory.js';

describe('the id memory', () => {
  it('keeps at most its limit, forgetting the least recently seen id first', () => {
    const seen = new SeenIds(2);
    seen.add('a', 'local');
    seen.add('b', 'remote');
    expect(seen.get('a')).toBe('local'); // a is now the most recent
    seen.add('c', 'remote');
    expect(seen.get('b')).toBeUndefined();
    expect([seen.get('a'), seen.get('c'), seen.size]).toEqual(['local', 'remote', 2]);
  });
});
