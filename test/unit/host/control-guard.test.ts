/**
 * src/host/control-guard.ts `answerControl`: the host answers the page's Comlink `wrap` in Comlink's
 * wire format without Comlink's `expose` (issue 17 item 3), so the page side is real Comlink here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { wrap, type Endpoint, type Remote } from 'comlink';
import { answerControl } from '../../../src/host/control-guard.js';

const ports: MessagePort[] = [];
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
});

interface Api {
  add(a: number, b: number): number;
  later(text: string): Promise<{ echoed: string }>;
  fails(): never;
  rejects(): Promise<never>;
  clone(): unknown;
}

function connect(api: Record<string, (...args: never[]) => unknown>): Remote<Api> {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  answerControl(port1 as never, api);
  return wrap<Api>(port2 as unknown as Endpoint);
}

describe('answerControl: the host end of the control link', () => {
  it('answers a Comlink call with the method’s value, awaited, to the call that asked', async () => {
    const remote = connect({
      add: (a: number, b: number) => a + b,
      later: async (text: string) => ({ echoed: text }),
    });
    const [sum, echo] = await Promise.all([remote.add(2, 3), remote.later('hi')]);
    expect(sum).toBe(5);
    expect(echo).toEqual({ echoed: 'hi' });
  });

  it('a method that throws or rejects makes the caller’s promise reject with its Error (name and message kept)', async () => {
    const remote = connect({
      fails: () => {
        throw new RangeError('out of range');
      },
      rejects: () => Promise.reject(new TypeError('not this type')),
    });
    await expect(remote.fails()).rejects.toMatchObject({ name: 'RangeError', message: 'out of range' });
    await expect(remote.rejects()).rejects.toMatchObject({ name: 'TypeError', message: 'not this type' });
  });

  it('a value the port cannot clone is still answered, with an error', async () => {
    const remote = connect({ clone: () => ({ f: () => 1 }) });
    await expect(remote.clone()).rejects.toMatchObject({ message: 'Unserializable return value' });
  });

  it('anything but a call of a listed method is refused with an error naming what the hub offers, and runs nothing', async () => {
    let ran = false;
    const remote = connect({
      add: () => {
        ran = true;
        return 0;
      },
    });
    await expect((remote as unknown as Remote<{ other(): void }>).other()).rejects.toMatchObject({ name: 'HubError', message: expect.stringContaining('the hub offers add') });
    expect(ran).toBe(false);
  });
});
