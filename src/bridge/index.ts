/** The WebSocket bridge to remote FHIRcast hubs: `startBridge` for one bridge, `BridgeRegistry` for a host. */
export { startBridge } from './bridge.js';
export { DEFAULT_TUNING } from './config.js';
export { BridgeRegistry, bridgeKey, type BridgeKv, type BridgeRegistryOptions, type BridgeEntry, type StoredBridge, type TokenSource } from './registry.js';
export { DIALECTS, type Dialect } from './dialects.js';
export { RemoteError } from './remote-http.js';
export type {
  Bridge,
  BridgeConfig,
  BridgeDeps,
  BridgeState,
  BridgeStatus,
  BridgeTuning,
  DialectName,
  FetchLike,
  LocalHub,
  PublicBridgeConfig,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
