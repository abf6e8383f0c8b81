/** The standard STU3 HTTP + WebSocket surface over the engine (DESIGN.md, `src/wire`). */
export { createWireHandler } from './handler.js';
export { retryLater } from './responses.js';
export { errorResponse, methodNotAllowed, type ErrorForm } from './responses.js';
export { DEFAULT_BODY_LIMIT_BYTES, type WireHandler, type WireOptions, type WireSocket } from './types.js';
