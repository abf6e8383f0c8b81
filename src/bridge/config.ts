/** Checking a bridge's configuration, and the defaults of its tunables. */
import { badRequest, validateTopic } from '../protocol/index.js';
import { dialectNamed, type Dialect } from './dialects.js';
import type { BridgeConfig, BridgeTuning, PublicBridgeConfig } from './types.js';

/** The defaults of every tunable. */
export const DEFAULT_TUNING: Readonly<BridgeTuning> = {
  confirmationTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  queueLimit: 100,
  seenLimit: 2000,
  heartbeatSilenceFactor: 2.5,
  renewAtFraction: 0.8,
  assumedLeaseSeconds: 7200,
  publishAttempts: 5,
  localLeaseSeconds: 86_400,
  subscriberName: 'tabcast bridge',
};

/** A configuration that passed the checks. */
export interface CheckedConfig {
  /** What may be shown and stored: no token. */
  config: PublicBridgeConfig;
  dialect: Dialect;
  remoteTopic: string;
}

/** Checks a configuration; throws a HubError 400 that names the field. */
export function checkConfig(config: BridgeConfig): CheckedConfig {
  const topic = validateTopic(config.topic, 'bridge topic');
  let url: URL;
  try {
    url = new URL(config.remoteHubUrl);
  } catch {
    throw badRequest(`remoteHubUrl ${JSON.stringify(config.remoteHubUrl)} is not a URL`, 'value');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest('remoteHubUrl must be an http: or https: URL (the remote hub.url)', 'value');
  const dialect = dialectNamed(config.dialect);
  if (!dialect) throw badRequest(`dialect ${JSON.stringify(config.dialect)} is unknown (expected stu3, topic-path or stomp)`, 'value');
  const events = config.events;
  if (events !== undefined && (!Array.isArray(events) || events.length === 0 || !events.every((e) => typeof e === 'string'))) {
    throw badRequest('events must be a non-empty list of event names (leave it out for the whole catalog)', 'value');
  }
  const remoteTopic = config.remoteTopic ? validateTopic(config.remoteTopic, 'remoteTopic') : topic;
  return {
    config: { topic, remoteHubUrl: config.remoteHubUrl, remoteTopic, dialect: dialect.name, ...(events ? { events: [...events] } : {}) },
    dialect,
    remoteTopic,
  };
}
