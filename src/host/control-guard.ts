/**
 * The host's end of a control link. Comlink's `expose` would also run property reads, writes,
 * constructor calls and port releases for whoever posts to the port; a hub session needs none of
 * that, and a page (buggy or not) must not be able to rewrite the session object or crash the
 * listener with a malformed message. Only method calls of the HostApi with plain arguments run.
 */
import type { Link } from '../link/messages.js';

/** Why a control message is refused, or undefined when it is a well-formed HostApi call. */
export function controlProblem(data: unknown, methods: ReadonlySet<string>): string | undefined {
  if (typeof data !== 'object' || data === null) return 'a control message must be an object';
  const msg = data as { type?: unknown; path?: unknown; argumentList?: unknown };
  if (msg.type !== 'APPLY') return 'only method calls are accepted on the tabcast control port';
  const path = msg.path;
  if (!Array.isArray(path) || path.length !== 1 || typeof path[0] !== 'string' || !methods.has(path[0])) {
    return `unknown method; the hub offers ${[...methods].join(', ')}`;
  }
  const args = msg.argumentList;
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'object' && a !== null && (a as { type?: unknown }).type === 'RAW')) {
    return 'arguments must be plain values';
  }
  return undefined;
}

/** Comlink's wire form of a thrown value, which its `wrap` on the page rethrows. */
function thrown(error: unknown): { type: 'HANDLER'; name: 'throw'; value: unknown } {
  const value = error instanceof Error ? { isError: true, value: { message: error.message, name: error.name, stack: error.stack } } : { isError: false, value: error };
  return { type: 'HANDLER', name: 'throw', value };
}

/** A refused message's reply: an Error named HubError on the page. */
const refusal = (message: string) => ({ type: 'HANDLER', name: 'throw', value: { isError: true, value: { name: 'HubError', message } } });

/**
 * Answers the calls on a control link in Comlink's wire format (the page wraps the link with
 * Comlink's `wrap`): a well-formed HostApi call runs `api[method](...arguments)` and its value, or
 * what it throws, goes back under the call's id; anything else gets an error reply naming the
 * problem. The host needs nothing else of Comlink (no proxies, property access or releases), so
 * this stands in for `expose` and the worker's first load does without the library.
 */
export function answerControl(link: Link, api: Readonly<Record<string, (...args: never[]) => unknown>>, methods: ReadonlySet<string> = new Set(Object.keys(api))): void {
  const reply = (id: unknown, message: object) => {
    // A value the link cannot clone: the caller still gets an answer, as from Comlink.
    for (const answer of [message, thrown(new TypeError('Unserializable return value'))]) {
      try {
        link.postMessage({ ...answer, id });
        return;
      } catch {
        // try the next answer
      }
    }
  };
  link.addEventListener('message', (event) => {
    const data: unknown = event.data;
    const problem = controlProblem(data, methods);
    if (problem !== undefined) {
      const id = (data as { id?: unknown } | null)?.id;
      // In Comlink's own reply format, so a Comlink caller's promise rejects with the reason.
      if (typeof id === 'string') reply(id, refusal(problem));
      return;
    }
    const call = data as { id?: unknown; path: [string]; argumentList: { value: unknown }[] };
    const method = api[call.path[0]] as (...args: unknown[]) => unknown;
    new Promise((resolve) => resolve(method(...call.argumentList.map((a) => a.value)))).then(
      (value) => reply(call.id, { type: 'RAW', value }),
      (error: unknown) => reply(call.id, thrown(error)),
    );
  });
  link.start?.();
}
