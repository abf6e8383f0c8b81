export { Hub, type ChannelLabel, type HubOptions, type PublishResult, type SubscribeResult, type SubscribeInput, type ConnectionHandle, type HubSnapshot } from './hub.js';
export type { Clock, CryptoSource, HubStorage, SubscriberChannel, HeartbeatFrame } from './ports.js';
export type { HubLogEntry } from './log.js';
export { validateUsersConfig, type UsersConfig } from './identity.js';
export { randomToken, TOKEN_BITS } from './ids.js';
export { buildSyncError, type SyncErrorCause } from './sync-errors.js';
export { DEFAULT_BOUNDS, type HubBounds } from './bounds.js';
export type { MalformedRecord } from './records.js';
