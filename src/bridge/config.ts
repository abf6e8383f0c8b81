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
  if (!dialect) throw badRequest(`dialect ${JSON.stringify(config.dialect)} is unknown (expected stu3, topic-path, stomp or 2019)`, 'value');
  const events = config.events;
  if (events !== undefined && (!Array.isArray(events) || events.length === 0 || !events.every((e) => typeof e === 'string'))) {
    throw badRequest('events must be a non-empty list of event names (leave it out for the whole catalog)', 'value');
  }
  const getTopic = checkGetTopic(config);
  if (getTopic) {
    // The remote topic comes from GetTopic at each connect; until then it is unknown.
    return { config: { topic, remoteHubUrl: config.remoteHubUrl, dialect: dialect.name, getTopic, ...(events ? { events: [...events] } : {}) }, dialect, remoteTopic: '' };
  }
  const remoteTopic = config.remoteTopic ? validateTopic(config.remoteTopic, 'remoteTopic') : topic;
  return {
    config: { topic, remoteHubUrl: config.remoteHubUrl, remoteTopic, dialect: dialect.name, ...(events ? { events: [...events] } : {}) },
    dialect,
    remoteTopic,
  };
}

/** `getTopic` (channels.md §4): a username, and a secret that replaces token and remoteTopic. Only the username is returned. */
function checkGetTopic(config: BridgeConfig): { username: string } | undefined {
  const g = config.getTopic as unknown;
  if (g === undefined) return undefined;
  const v = (typeof g === 'object' && g !== null ? g : {}) as Record<string, unknown>;
  if (typeof v.username !== 'string' || v.username.trim() === '') throw badRequest('getTopic.username must be a non-empty string', 'value');
  if (v.secret !== undefined && (typeof v.secret !== 'string' || v.secret === '')) throw badRequest('getTopic.secret must be a non-empty string', 'value');
  if (config.token !== undefined || config.getToken !== undefined) throw badRequest('getTopic.secret is the Bearer of a getTopic bridge: leave token and getToken out', 'value');
  if (config.remoteTopic !== undefined) throw badRequest('a getTopic bridge gets its remote topic from the remote hub: leave remoteTopic out', 'value');
  return { username: v.username };
}
