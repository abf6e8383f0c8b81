/** The bridge's configuration checks (src/bridge/config.ts), through startBridge. */
import { describe, expect, it } from 'vitest';
import { WebSocket as MockWebSocket } from 'mock-socket';
import { startBridge, type BridgeConfig } from '../../../src/bridge/index.js';
import { isHubError } from '../../../src/protocol/index.js';
import { localHub } from './support/local.js';
import { ManualTimers } from './support/manual-timers.js';

describe('startBridge configuration checks', () => {
  const cases: Array<[string, Partial<BridgeConfig>, string]> = [
    ['no topic', { topic: '' }, 'bridge topic'],
    ['a remote hub.url that is not http(s)', { remoteHubUrl: 'ftp://hub.example.org/x' }, 'http: or https:'],
    ['a remote hub.url that is not a URL', { remoteHubUrl: 'hub' }, 'not a URL'],
    ['an unknown dialect', { dialect: 'mqtt' as never }, 'dialect'],
    ['an empty event list', { events: [] }, 'non-empty list'],
    ['an event the local hub does not know', { events: ['Patient-teleport'] }, 'Patient-teleport'],
  ];
  it.each(cases)('throws a HubError 400 for %s', async (_what, patch, words) => {
    const manual = new ManualTimers();
    const hub = await localHub(manual.clock);
    const start = () => startBridge({ topic: 'T', remoteHubUrl: 'https://hub.example.org/fhircast/hub', ...patch }, { hub, fetch: async () => new Response(), WebSocket: MockWebSocket, clock: manual.clock, timers: manual.timers });
    let error: unknown;
    try {
      start();
    } catch (e) {
      error = e;
    }
    expect(isHubError(error) && error.status).toBe(400);
    expect((error as Error).message).toContain(words);
  });
});
