/** What `hub.fetch` and `hub.WebSocket` need on the host side, as one chunk loaded on first use. */
export { createWireHandler } from '../wire/handler.js';
export { serializedRequest, serveFetch } from './serve-fetch.js';
