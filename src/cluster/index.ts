/** Cluster mode of `tabcast serve` (`--redis URL`): several instances share topics through Redis. */
export { ClusterNode, RESERVED_TOPIC, type ClusterOptions } from './cluster-node.js';
export type { HealthState } from './health.js';
export { RedisStorage, topicOfKey } from './redis-storage.js';
export { clusterKeys, type ClusterKeys } from './keys.js';
