// Compile-time check: the three WebSocket constructors a bridge is given all fit WebSocketConstructor.
import { WebSocket as MockWebSocket } from 'mock-socket';
import { WebSocket as NodeWebSocket } from 'ws';
import type { WebSocketConstructor } from '../../../../src/bridge/index.js';

export const constructors: WebSocketConstructor[] = [MockWebSocket, NodeWebSocket, globalThis.WebSocket];
