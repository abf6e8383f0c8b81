/**
 * Loads the bridge code only when a bridge is opened or one is stored to resume: most workstations
 * never bridge, and the worker bundle stays small for them (dist/tabcast-registry.js is separate).
 */
import { BRIDGE_STORAGE_KEY } from '../bridge/key.js';
import type { BridgeRegistry, BridgeRegistryOptions } from '../bridge/registry.js';
import type { BridgeRegistryLike } from './bridges.js';

/** A BridgeRegistry that imports src/bridge on first use. */
export class LazyBridgeRegistry implements BridgeRegistryLike {
  private loaded: Promise<BridgeRegistry> | undefined;

  constructor(private readonly options: BridgeRegistryOptions) {}

  private load(): Promise<BridgeRegistry> {
    this.loaded ??= import('../bridge/registry.js').then((m) => new m.BridgeRegistry(this.options));
    return this.loaded;
  }

  /** Opens (or joins) a bridge, loading the bridge code first. */
  async open(config: Parameters<BridgeRegistry['open']>[0]) {
    return (await this.load()).open(config);
  }

  /** Resumes stored bridges; loads nothing when none is stored. */
  async resumeAll() {
    const stored = await this.options.kv.get(this.options.storageKey ?? BRIDGE_STORAGE_KEY);
    if (!Array.isArray(stored) || stored.length === 0) return [];
    return (await this.load()).resumeAll();
  }

  /** Stops running bridges (none when the code was never loaded). */
  async shutdown() {
    if (this.loaded) await (await this.loaded).shutdown();
  }
}
