/**
 * A filter in front of Comlink's `expose`. Comlink would also run property reads, writes,
 * constructor calls and port releases for whoever posts to the port; a hub session needs none of
 * that, and a page (buggy or not) must not be able to rewrite the session object or crash the
 * listener with a malformed message. Only method calls of the HostApi with plain arguments pass.
 */
import type { Link } from '../link/messages.js';

type Listener = (event: MessageEvent) => void;

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

/** Wraps a control link so that the listener (Comlink) only sees well-formed calls; others get an error reply. */
export function guardControl(link: Link, methods: ReadonlySet<string>): Link {
  const wrapped = new Map<Listener, Listener>();
  return {
    postMessage: (message, transfer) => link.postMessage(message, transfer),
    addEventListener(type, listener) {
      const guard: Listener = (event) => {
        const problem = controlProblem(event.data, methods);
        if (problem === undefined) {
          listener(event);
          return;
        }
        const id = (event.data as { id?: unknown } | null)?.id;
        // In Comlink's own reply format, so a Comlink caller's promise rejects with the reason.
        if (typeof id === 'string') {
          link.postMessage({ id, type: 'HANDLER', name: 'throw', value: { isError: true, value: { name: 'HubError', message: problem } } });
        }
      };
      wrapped.set(listener, guard);
      link.addEventListener(type, guard);
    },
    removeEventListener(type, listener) {
      const guard = wrapped.get(listener);
      if (guard) link.removeEventListener(type, guard);
      wrapped.delete(listener);
    },
    start: () => link.start?.(),
    close: () => link.close?.(),
  };
}
