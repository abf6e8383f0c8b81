/** The standard STU3 HTTP + WebSocket surface over the engine (DESIGN.md, `src/wire`). */
export { createWireHandler } from './handler.js';
export { retryLater } from './responses.js';
export { errorResponse, methodNotAllowed, type ErrorForm } from './responses.js';
export { DEFAULT_BODY_LIMIT_BYTES, type WireHandler, type WireOptions, type WireSocket, type WebhookDoor } from './types.js';
export { envelopeSocket } from './envelope-2019.js';
export { protocolList, stompUrl, STOMP_SEGMENT, type ChannelSwitches, type ProtocolEntry } from './protocols.js';
export { STOMP_FRAME_LIMIT_BYTES, STOMP_SUBPROTOCOL } from './stomp-door.js';
