/**
 * A remote hub that can crash: the real engine, wire and socket door of `tabcast serve`, with its
 * TCP connections tracked so `kill()` cuts them all at once (clients see 1006, no close frame),
 * as a killed process or a dropping proxy would. `startServer` only closes gracefully (1001).
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { Hub } from '../../../../src/hub/index.js';
import { lmdbStorage } from '../../../../src/adapters/lmdb-storage.js';
import { systemClock, timerDriver } from '../../../../src/adapters/system-clock.js';
import { webCrypto } from '../../../../src/adapters/web-crypto.js';
import { createWireHandler } from '../../../../src/wire/index.js';
import { sendResponse, toFetchRequest } from '../../../../src/server/http-bridge.js';
import { socketDoor } from '../../../../src/server/sockets.js';

export interface CrashableRemote {
  readonly url: string;
  readonly port: number;
  readonly hub: Hub;
  /** Cuts every connection and stops listening; state written so far stays in the data directory. */
  kill(): Promise<void>;
}

/** Starts the remote on 127.0.0.1 (`port` 0 = any); `onPublish` sees the id of every accepted event. */
export async function startCrashableRemote(options: { port?: number; dataDir: string; onPublish?: (id: string) => void }): Promise<CrashableRemote> {
  let hub: Hub | undefined;
  const storage = lmdbStorage(options.dataDir);
  const driver = timerDriver(() => hub?.tick());
  hub = await Hub.create({ clock: systemClock, crypto: webCrypto, storage, heartbeatMs: 0, onWake: driver.onWake });
  const engine = hub;
  engine.observe((entry) => {
    if (entry.type === 'publish' && entry.eventId) options.onPublish?.(entry.eventId);
  });
  const connections = new Set<Socket>();
  const server: Server = createServer();
  server.on('connection', (socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  const wire = createWireHandler(engine, { hubUrl: `${base}/fhircast/hub` });
  const door = socketDoor(wire, base, 0);
  server.on('request', (req, res) => {
    void wire.handle(toFetchRequest(req, base)).then((response) => sendResponse(res, response));
  });
  server.on('upgrade', (req, socket, head) => door.upgrade(req, socket, head));
  return {
    url: wire.hubUrl,
    port,
    hub: engine,
    async kill() {
      await engine.flush();
      driver.stop();
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of connections) socket.destroy();
      await closed;
      await storage.close(); // a killed process lets go of its store
    },
  };
}
