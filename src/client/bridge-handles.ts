/**
 * Bridge handles in a page. The bridge runs in the hub; a handle mirrors its status, pushed over
 * the events link, in a plain `status` property. After a reconnect the handles follow the bridge
 * again, since it survived in the (new) host.
 */
import type { BridgeStatus } from '../bridge/types.js';
import type { BridgeRequest } from '../link/messages.js';
import type { HostConnection } from './connection.js';
import type { Session } from './session.js';
import type { BridgeHandle } from './types.js';

interface Mirror {
  status: BridgeStatus;
  handles: Set<BridgeHandle & { status: BridgeStatus }>;
  listeners: Set<(status: BridgeStatus) => void>;
}

/** The bridges this page holds handles to, by id. */
export class BridgeHandles {
  private readonly mirrors = new Map<string, Mirror>();

  constructor(private readonly connection: HostConnection) {}

  /** Opens (or joins) a bridge in the hub and returns a handle to it. */
  async open(request: BridgeRequest): Promise<BridgeHandle> {
    const { id, status } = await this.connection.call((api) => api.bridge(request));
    let mirror = this.mirrors.get(id);
    if (!mirror) {
      mirror = { status, handles: new Set(), listeners: new Set() };
      this.mirrors.set(id, mirror);
    }
    const { listeners } = mirror;
    const handle = {
      status: mirror.status,
      onStatus: (listener: (status: BridgeStatus) => void) => {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
      stop: async () => this.update(id, await this.connection.call((api) => api.stopBridge(id))),
    };
    mirror.handles.add(handle);
    return handle;
  }

  /** A status pushed by the hub. */
  update(id: string, status: BridgeStatus): void {
    const mirror = this.mirrors.get(id);
    if (!mirror) return;
    mirror.status = status;
    for (const handle of mirror.handles) handle.status = status;
    for (const listener of mirror.listeners) {
      try {
        listener(status);
      } catch (error) {
        console.error('tabcast: a bridge onStatus listener failed', error);
      }
    }
  }

  /** Follows every bridge again on a new session; a bridge the new host lacks counts as stopped. */
  async restore(session: Session): Promise<void> {
    for (const [id, mirror] of this.mirrors) {
      const result = await session.unlessLost(session.api.watchBridge(id));
      if (result.ok) this.update(id, result.value);
      else this.update(id, { ...mirror.status, state: 'stopped', lastError: 'the hub restarted without this bridge' });
    }
  }
}
