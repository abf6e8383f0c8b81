/** WebSub callbacks for `tabcast serve --websub` (channels.md §3): an adapter over the engine. */
export { WebsubDoor, type WebsubDoorOptions } from './webhook-door.js';
export { callbackPolicy, type CallbackPolicy } from './callback-policy.js';
export { ackStatus } from './webhook-channel.js';
export type { WebsubOptions, WebhookTimers } from './types.js';
