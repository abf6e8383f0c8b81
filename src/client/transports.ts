/**
 * The two ways a page reaches its host: the origin's SharedWorker, or (where there is none, or
 * when asked) the leader tab over a BroadcastChannel bus. Each opens one pair of links per session.
 */
import { HubError } from '../protocol/outcome.js';
import { Bus } from '../link/bus.js';
import { randomId } from '../link/locks.js';
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
 */
export function leaderTabTransport(beforeOpen: () => void, busName?: string): Transport {
  return () =>
    new Promise((resolve) => {
      beforeOpen();
      const clientId = randomId();
      const bus = new Bus(clientId, busName);
      const find = () => bus.post({ k: 'find', from: clientId });
      bus.onOther = (message) => {
        if (message.k === 'up') find(); // a new leader has just started
        if (message.k !== 'here') return;
        bus.onOther = undefined;
        resolve({
          control: bus.link('c', message.from),
          events: bus.link('e', message.from),
          failed: new Promise(() => undefined),
          dispose: () => bus.close(),
        });
      };
      find();
    });
}
