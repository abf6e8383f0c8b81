/**
 * The leader tab's door: answers host discovery on the bus and opens a session for each client
 * the first time it says hello. Messages of clients the host does not know are otherwise ignored.
 */
import type { Bus, BusMessage } from '../link/bus.js';
import type { HostRuntime } from './runtime.js';

/** Serves the bus's clients with `runtime`; returns the function that stops it. */
export function serveBus(runtime: HostRuntime, bus: Bus): () => void {
  bus.onOther = (message: BusMessage) => {
    if (message.k === 'find') {
      bus.post({ k: 'here', from: bus.selfId, to: message.from });
    } else if (message.k === 'c' && message.to === bus.selfId && isHelloCall(message.d)) {
      const control = bus.link('c', message.from);
      const events = bus.link('e', message.from);
      runtime.accept(control, events, () => {
        control.close?.();
        events.close?.();
      });
      bus.receive(message); // the hello itself, now that the session listens
    }
  };
  // Clients that lost the previous host are waiting for this: they send `find` again.
  bus.post({ k: 'up', from: bus.selfId });
  return () => {
    bus.onOther = undefined;
    bus.close();
  };
}

function isHelloCall(data: unknown): boolean {
  const path = (data as { path?: unknown } | null)?.path;
  return Array.isArray(path) && path[0] === 'hello';
}
