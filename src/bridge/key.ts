/** A bridge's identity and where its configuration is stored: light enough for hosts to import eagerly. */
import type { BridgeConfig } from './types.js';

/** The kv key under which a host's bridge configurations (never tokens) are stored. */
export const BRIDGE_STORAGE_KEY = 'tabcast.bridges';

/** The identity of a bridge: local topic, remote hub, remote topic. */
export function bridgeKey(config: Pick<BridgeConfig, 'topic' | 'remoteHubUrl' | 'remoteTopic'> & { getTopic?: { username: string } }): string {
  // A GetTopic bridge is keyed by its username: the remote topic is only known once connected.
  if (config.getTopic) return JSON.stringify([config.topic, config.remoteHubUrl, { username: config.getTopic.username }]);
  return JSON.stringify([config.topic, config.remoteHubUrl, config.remoteTopic || config.topic]);
}
