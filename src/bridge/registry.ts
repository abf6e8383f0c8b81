/**
 * The bridges of one host (the SharedWorker): at most one per (topic, remoteHubUrl, remoteTopic),
 * configurations persisted without their token, and resumed after the host restarts.
 */
import { bridgeKey, BRIDGE_STORAGE_KEY } from './key.js';
import { createBridgeRunner, type RunnableBridge } from './bridge.js';
import type { Bridge, BridgeConfig, BridgeDeps, BridgeStatus, PublicBridgeConfig } from './types.js';

/** A small async key-value store (idb-keyval in the worker, a Map in tests). */
export interface BridgeKv {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
}

/** What a registry is built from: the bridge's ports plus a store. */
export interface BridgeRegistryOptions extends BridgeDeps {
  kv: BridgeKv;
  /** The store key holding the list of bridges. Default `tabcast.bridges`. */
  storageKey?: string;
}

/** One bridge as stored: never a token, only whether one is needed. */
export interface StoredBridge {
  config: PublicBridgeConfig;
  needsToken: boolean;
}

/** One bridge as `list()` shows it. */
export interface BridgeEntry {
  key: string;
  config: PublicBridgeConfig;
  status: BridgeStatus;
}

/** Gives the token for a resumed bridge, or undefined when there is none yet. */
export type TokenSource = (config: PublicBridgeConfig) => string | undefined | Promise<string | undefined>;

const WAITING = 'waiting for a token: the bridge resumes when it is opened again with one';

export { bridgeKey, BRIDGE_STORAGE_KEY };

interface Entry {
  bridge: RunnableBridge;
  stored: StoredBridge;
}

export class BridgeRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly storageKey: string;
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly options: BridgeRegistryOptions) {
    this.storageKey = options.storageKey ?? BRIDGE_STORAGE_KEY;
  }

  /**
   * Opens a bridge, or returns the one already open for the same key. A bridge that stopped for
   * lack of a token resumes with the token given here. Throws HubError 400 for a bad config.
   */
  async open(config: BridgeConfig): Promise<Bridge> {
    const key = bridgeKey(config);
    const existing = this.entries.get(key);
    const hasToken = Boolean(config.token || config.getToken || config.getTopic);
    if (existing) {
      const state = existing.bridge.status().state;
      if (existing.bridge.waitingForToken) {
        if (!hasToken || (config.getTopic && !config.getTopic.secret)) return existing.bridge;
        existing.bridge.resume({ token: config.token, getToken: config.getToken, getTopic: config.getTopic });
        return existing.bridge;
      }
      if (state !== 'denied' && state !== 'stopped') return existing.bridge;
      this.entries.delete(key); // a denied bridge is replaced by a fresh one
    }
    const bridge = createBridgeRunner(config, this.options);
    const entry: Entry = { bridge, stored: { config: bridge.config, needsToken: hasToken } };
    this.adopt(key, entry);
    bridge.start();
    await this.persist();
    return bridge;
  }

  /** Every bridge of this host, with its status. Configurations never include a token. */
  list(): BridgeEntry[] {
    return [...this.entries].map(([key, e]) => ({ key, config: e.bridge.config, status: e.bridge.status() }));
  }

  /**
   * Resumes the bridges stored by an earlier run of the host. Those that need no token start at
   * once; the others start with `getToken`, or wait (state `stopped`) until `open` gives a token.
   */
  async resumeAll(getToken?: TokenSource): Promise<Bridge[]> {
    const stored = await this.load();
    const out: Bridge[] = [];
    for (const item of stored) {
      const key = bridgeKey(item.config);
      const known = this.entries.get(key);
      if (known) {
        out.push(known.bridge);
        continue;
      }
      let token: string | undefined;
      if (item.needsToken && getToken) token = await getToken(item.config);
      const waiting = item.needsToken && !token;
      const { getTopic: named, ...rest } = item.config;
      // A GetTopic bridge's token is its secret.
      const config: BridgeConfig = named
        ? { ...rest, getTopic: { username: named.username, ...(token ? { secret: token } : {}) } as BridgeConfig['getTopic'] }
        : { ...rest, ...(token && getToken ? { token, getToken: async () => (await getToken(item.config)) ?? token } : {}) };
      let bridge: RunnableBridge;
      try {
        bridge = createBridgeRunner(config, this.options, waiting ? WAITING : undefined);
      } catch {
        continue; // a stored config this version cannot read
      }
      this.adopt(key, { bridge, stored: item });
      if (!waiting) bridge.start();
      out.push(bridge);
    }
    return out;
  }

  /** Stops every bridge but keeps their configurations (the host is going away). */
  async shutdown(): Promise<void> {
    const running = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      running.map((e) => {
        e.bridge.onUserStop = undefined;
        return e.bridge.stop();
      }),
    );
    await this.writes;
  }

  private adopt(key: string, entry: Entry): void {
    this.entries.set(key, entry);
    const { bridge } = entry;
    // stop() by anyone removes the stored configuration; so does a denial (it is final).
    bridge.onUserStop = () => this.forget(key, bridge);
    bridge.onStatus((status) => {
      if (status.state === 'denied') this.forget(key, bridge, true);
      else if (bridge.waitingForToken && !entry.stored.needsToken) {
        entry.stored = { ...entry.stored, needsToken: true };
        void this.persist();
      }
    });
  }

  private forget(key: string, bridge: RunnableBridge, keepListed = false): void {
    if (this.entries.get(key)?.bridge !== bridge) return;
    if (!keepListed) this.entries.delete(key);
    void this.persist();
  }

  private async load(): Promise<StoredBridge[]> {
    const value = await this.options.kv.get(this.storageKey);
    if (!Array.isArray(value)) return [];
    return value.filter(
      (v): v is StoredBridge =>
        typeof v === 'object' && v !== null && typeof v.config?.topic === 'string' && typeof v.config?.remoteHubUrl === 'string',
    );
  }

  /** Writes the list of bridges worth resuming (not denied ones). Writes never overlap. */
  private persist(): Promise<void> {
    const snapshot: StoredBridge[] = [...this.entries.values()]
      .filter((e) => e.bridge.status().state !== 'denied')
      .map((e) => ({ config: stripToken(e.stored.config), needsToken: e.stored.needsToken }));
    const write = this.writes.then(() => (snapshot.length ? this.options.kv.set(this.storageKey, snapshot) : this.options.kv.del(this.storageKey)));
    this.writes = write.catch(() => undefined);
    return write;
  }
}

/** A configuration without anything secret, whatever it was given. */
function stripToken(config: PublicBridgeConfig): PublicBridgeConfig {
  const { topic, remoteHubUrl, remoteTopic, events, dialect, getTopic } = config;
  return JSON.parse(JSON.stringify({ topic, remoteHubUrl, remoteTopic, events, dialect, getTopic: getTopic ? { username: getTopic.username } : undefined })) as PublicBridgeConfig;
}
