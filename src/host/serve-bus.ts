/**
 * The leader tab's door: answers host discovery on the bus and opens a session for each client
 * that completes the one-time key rendezvous. The session's control link is sealed with the key
 * agreed there, so secrets in control calls never cross the origin-wide bus in the clear
 * (HUB-SEC-15). Messages of clients the host does not know are otherwise ignored.
 */
import type { Bus, BusMessage } from '../link/bus.js';
import { canSeal } from '../link/seal-support.js';
import type { HostRuntime } from './runtime.js';

/** Serves the bus's clients with `runtime`; returns the function that stops it. */
export function serveBus(runtime: HostRuntime, bus: Bus): () => void {
  const opening = new Set<string>();
  bus.onOther = (message: BusMessage) => {
    if (message.k === 'find') {
      bus.post({ k: 'here', from: bus.selfId, to: message.from });
    } else if (message.k === 'key' && message.to === bus.selfId && !opening.has(message.from)) {
      opening.add(message.from);
      void openSession(runtime, bus, message).finally(() => opening.delete(message.from));
    } else if (message.k === 'c' && message.to === bus.selfId && !canSeal() && isHelloCall(message.d)) {
      // No WebCrypto on this origin (plain http): no tab of it can seal, so sessions open unsealed.
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

/** Answers a client's rendezvous: the session listens on the sealed link before the client can send on it. */
async function openSession(runtime: HostRuntime, bus: Bus, message: BusMessage): Promise<void> {
  // Loaded on the first leader-tab client: a worker that only serves SharedWorker pages never needs it.
  const { sealedLink, startRendezvous } = await import('../link/sealed-link.js');
  const rendezvous = await startRendezvous();
  let key: CryptoKey;
  try {
    key = await rendezvous.derive(message.d);
  } catch {
    return; // not a public key: no session
  }
  if (bus.onOther === undefined) return; // stopped meanwhile
  const control = sealedLink(bus.link('c', message.from), key);
  const events = bus.link('e', message.from);
  runtime.accept(control, events, () => {
    control.close?.();
    events.close?.();
  });
  bus.post({ k: 'key', from: bus.selfId, to: message.from, d: rendezvous.publicKey });
}

function isHelloCall(data: unknown): boolean {
  const path = (data as { path?: unknown } | null)?.path;
  return Array.isArray(path) && path[0] === 'hello';
}
