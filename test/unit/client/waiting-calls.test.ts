// Calls waiting on a session: they fail at once when the host is lost, and a settled call leaves
// nothing behind (a publishing tab makes millions of calls in a working day).
import { describe, expect, it } from 'vitest';
import { hostGoneError, isHostGone, WaitingCalls } from '../../../src/client/session.js';

describe('WaitingCalls', () => {
  it('passes values and errors through, and forgets each call once it settles', async () => {
    const waiting = new WaitingCalls();
    const values = await Promise.all(Array.from({ length: 1000 }, (_, i) => waiting.unlessLost(Promise.resolve(i))));
    expect(values[999]).toBe(999);
    await expect(waiting.unlessLost(Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(waiting.size).toBe(0);
  });

  it('fails every waiting call with the loss, and every later call too', async () => {
    const waiting = new WaitingCalls();
    const never = new Promise<number>(() => {});
    const calls = [waiting.unlessLost(never), waiting.unlessLost(never)];
    expect(waiting.size).toBe(2);
    const error = hostGoneError();
    waiting.failAll(error);
    for (const call of calls) await expect(call).rejects.toBe(error);
    expect(waiting.size).toBe(0);
    const later = waiting.unlessLost(Promise.resolve(1));
    await expect(later).rejects.toSatisfy(isHostGone);
  });

  it('a call that settled before the loss keeps its value', async () => {
    const waiting = new WaitingCalls();
    const done = waiting.unlessLost(Promise.resolve('202'));
    await done;
    waiting.failAll(hostGoneError());
    await expect(done).resolves.toBe('202');
  });
});
