/**
 * The two ways a page reaches its host: the origin's SharedWorker, or (where there is none, or
 * when asked) the leader tab over a BroadcastChannel bus. Each opens one pair of links per session.
 */
import { HubError } from '../protocol/outcome.js';
import { Bus } from '../link/bus.js';
import { randomId } from '../link/locks.js';
import { canSeal, sealedLink, startRendezvous, type Rendezvous } from '../link/sealed-link.js';
import type { Link } from '../link/messages.js';

/** The page's end of one session's links. */
export interface Channels {
  control: Link;
  events: Link;
  /** The host's end of the events link, handed over in hello (SharedWorker mode). */
  hostEvents?: MessagePort;
  /** Settles if the transport fails (the worker script did not load). */
  failed: Promise<HubError>;
  dispose(): void;
}

/** Opens the links of a new session. */
export type Transport = () => Promise<Channels>;

/** Sessions through a SharedWorker made by `create` (each session gets a fresh worker object). */
export function sharedWorkerTransport(create: () => SharedWorker, workerUrl: string): Transport {
  return async () => {
    const worker = create();
    const { port1, port2 } = new MessageChannel();
    const failed = new Promise<HubError>((resolve) =>
      worker.addEventListener('error', () => resolve(new HubError(503, 'not-found', `the tabcast worker at ${workerUrl} did not start: check that this URL serves tabcast-worker.js, as JavaScript, from the page's origin`)), { once: true }),
    );
    return {
      control: worker.port as Link,
      events: port1 as Link,
      hostEvents: port2,
      failed,
      dispose() {
        worker.port.close();
        port1.close();
      },
    };
  };
}

/**
 * Sessions with whichever tab leads, over the bus. `beforeOpen` enters this page in the election;
 * the links open once a host answers, which may be this very tab or, after a handover, the next.
 * The control link is sealed with a key agreed in a one-time rendezvous with that host, since
 * every tab of the origin hears the bus (HUB-SEC-15).
 */
export function leaderTabTransport(beforeOpen: () => void, busName?: string): Transport {
  return async () => {
    beforeOpen();
    // Without WebCrypto (a plain http origin) neither end can seal: the session opens unsealed.
    const rendezvous: Rendezvous | undefined = canSeal() ? await startRendezvous() : undefined;
    return new Promise((resolve) => {
      const clientId = randomId();
      const bus = new Bus(clientId, busName);
      const find = () => bus.post({ k: 'find', from: clientId });
      let host: string | undefined;
      bus.onOther = (message) => {
        if (message.k === 'up') {
          // A new leader has just started (the one that answered may have gone before the rendezvous).
          host = undefined;
          find();
          return;
        }
        if (message.k === 'here' && host === undefined && !rendezvous) {
          bus.onOther = undefined;
          resolve({ control: bus.link('c', message.from), events: bus.link('e', message.from), failed: new Promise(() => undefined), dispose: () => bus.close() });
          return;
        }
        if (message.k === 'here' && host === undefined) {
          host = message.from;
          bus.post({ k: 'key', from: clientId, to: host, d: rendezvous!.publicKey });
          return;
        }
        if (message.k !== 'key' || message.from !== host || !rendezvous) return;
        const leader = host;
        void rendezvous.derive(message.d).then(
          (key) => {
            bus.onOther = undefined;
            resolve({
              control: sealedLink(bus.link('c', leader), key),
              events: bus.link('e', leader),
              failed: new Promise(() => undefined),
              dispose: () => bus.close(),
            });
          },
          () => {
            // Not a key: forget this host and look again.
            host = undefined;
            find();
          },
        );
      };
      find();
    });
  };
}
