/**
 * Bridges as the host keeps them: they belong to the host, not to the tab that made them, so they
 * outlive any tab, and any tab can watch or stop one by its id.
 */
import { bridgeKey } from '../bridge/key.js';
import { HubError, notFound } from '../protocol/outcome.js';
import type { Bridge, BridgeConfig, BridgeStatus } from '../bridge/types.js';
import type { BridgeRequest } from '../link/messages.js';

/** What the host needs of src/bridge's BridgeRegistry. */
export interface BridgeRegistryLike {
  open(config: BridgeConfig): Promise<Bridge>;
  resumeAll(): Promise<Bridge[]>;
  /** Stops every bridge but keeps their configurations, for the next host to resume. */
  shutdown(): Promise<void>;
}

/** The host's bridges, by id. */
export class BridgeHost {
  private readonly bridges = new Map<string, Bridge>();

  constructor(private readonly registry: BridgeRegistryLike | undefined) {}

  /** Starts the bridges stored by an earlier host (their configuration persists, their tokens do not). */
  async resume(): Promise<void> {
    for (const bridge of (await this.registry?.resumeAll()) ?? []) this.bridges.set(bridgeKey(bridge.config), bridge);
  }

  /** Stops the bridges for a host that retires; the next host resumes them. */
  async shutdown(): Promise<void> {
    await this.registry?.shutdown();
    this.bridges.clear();
  }

  /** Opens (or joins) the bridge a page asked for. Throws 501 when this host has no bridge support. */
  async open(request: BridgeRequest): Promise<{ id: string; bridge: Bridge }> {
    if (!this.registry) throw new HubError(501, 'not-supported', 'this hub runs without bridge support');
    const bridge = await this.registry.open(request);
    const id = bridgeKey(bridge.config);
    this.bridges.set(id, bridge);
    return { id, bridge };
  }

  /** The bridge with this id, or a 404. */
  get(id: string): Bridge {
    const bridge = this.bridges.get(id);
    if (!bridge) throw notFound(`no bridge ${JSON.stringify(id)} runs on this hub`);
    return bridge;
  }

  /** Stops a bridge for everyone. */
  async stop(id: string): Promise<BridgeStatus> {
    const bridge = this.get(id);
    await bridge.stop();
    this.bridges.delete(id);
    return bridge.status();
  }
}
