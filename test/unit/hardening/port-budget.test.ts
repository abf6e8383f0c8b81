/**
 * Issue #19 M3 on the in-page event ports (HUB-SEC-13): a page that stops answering is a failed
 * delivery once its unanswered notifications pass the budget in messages, on the typed API and
 * on `hub.WebSocket` alike. A real engine; the page is the list of messages posted to it.
 */
import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import { webCrypto } from '../../../src/adapters/web-crypto.js';
import { Hub, type HubLogEntry, type SubscriberChannel } from '../../../src/hub/index.js';
import { DEFAULT_PORT_BUDGET_MESSAGES } from '../../../src/host/port-budget.js';
import { SocketRelay } from '../../../src/host/socket-relay.js';
import { SessionSubscriptions } from '../../../src/host/typed-subscriptions.js';
import type { HostMessage } from '../../../src/link/messages.js';
import { createWireHandler } from '../../../src/wire/index.js';

const HUB_URL = 'http://127.0.0.1:5200/fhircast/hub';
const BUDGET = 5;

async function rig() {
  const hub = await Hub.create({ clock: { now: () => Date.now() }, crypto: webCrypto, storage: memoryStorage(), heartbeatMs: 0, ackTimeoutMs: 0 });
  const log: HubLogEntry[] = [];
  hub.observe((entry) => log.push(entry));
  // A watcher on a plain channel that answers everything: it is told of the failure.
  const watcherFrames: any[] = [];
  const sub = hub.subscribe({ topic: 'T', events: ['SyncError', 'Patient-open'], subscriberName: 'Watcher' });
  const channel: SubscriberChannel = { send: (frame: any) => watcherFrames.push(frame), close: () => undefined };
  const watcher = hub.connect(sub.endpoint, channel);
  const publishOpen = (i: number) => hub.publish({ timestamp: new Date().toISOString(), id: `e${i}`, event: { 'hub.topic': 'T', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: `p${i}` } }] } });
  const answerWatcher = () => {
    for (const f of watcherFrames.splice(0)) if (f.id) watcher.receive({ id: f.id, status: 200 });
  };
  return { hub, log, watcherFrames, publishOpen, answerWatcher };
}

const flush = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('issue #19 M3: the event ports have a budget in messages (HUB-SEC-13)', () => {
  it('M3 HUB-SEC-13 a typed subscription whose page stops answering ends with 1013 past the budget, and the others get a SyncError', async () => {
    expect(DEFAULT_PORT_BUDGET_MESSAGES).toBe(16_384);
    const { hub, log, watcherFrames, publishOpen } = await rig();
    const posted: HostMessage[] = [];
    const subs = new SessionSubscriptions({ hub, post: (m) => posted.push(m), portBudgetMessages: BUDGET });
    const result = subs.add('s1', { topic: 'T', events: ['Patient-open'], subscriberName: 'Frozen page' });
    for (let i = 0; i < BUDGET + 1; i++) await publishOpen(i);
    await flush();
    expect(posted.filter((m) => m.t === 'event')).toHaveLength(BUDGET);
    expect(posted).toContainEqual(expect.objectContaining({ t: 'ended', sub: 's1', code: 1013 }));
    expect(hub.hasEndpoint(result.endpoint)).toBe(false);
    expect(log).toContainEqual(expect.objectContaining({ type: 'close', subscriber: 'Frozen page', status: 1013 }));
    expect(watcherFrames.some((f) => f.event?.['hub.event'] === 'syncerror' && JSON.stringify(f).includes('Frozen page'))).toBe(true);
  });

  it('M3 HUB-SEC-13 a page that answers keeps its typed subscription however many notifications come', async () => {
    const { hub, publishOpen } = await rig();
    const posted: HostMessage[] = [];
    const subs = new SessionSubscriptions({ hub, post: (m) => posted.push(m), portBudgetMessages: BUDGET });
    const result = subs.add('s1', { topic: 'T', events: ['Patient-open'], subscriberName: 'Live page' });
    for (let i = 0; i < BUDGET * 4; i++) {
      await publishOpen(i);
      const last = posted.at(-1);
      if (last?.t === 'event') subs.answer('s1', typeof last.frame === 'string' ? JSON.parse(last.frame).id : last.frame.id, 200);
    }
    await flush();
    expect(posted.filter((m) => m.t === 'event')).toHaveLength(BUDGET * 4);
    expect(hub.hasEndpoint(result.endpoint)).toBe(true);
  });

  it('M3 HUB-SEC-13 a hub.WebSocket whose page stops answering is closed with 1013 past the budget; the confirmation does not count', async () => {
    const { hub, log, watcherFrames, publishOpen } = await rig();
    const wire = createWireHandler(hub, { hubUrl: HUB_URL });
    const posted: HostMessage[] = [];
    const relay = new SocketRelay((m) => posted.push(m), (error) => { throw error; }, BUDGET);
    const sub = hub.subscribe({ topic: 'T', events: ['Patient-open'], subscriberName: 'Frozen socket' });
    relay.open('w1', `ws://127.0.0.1:5200/fhircast/hub/ws/${encodeURIComponent(sub.endpoint)}`, wire);
    for (let i = 0; i < BUDGET; i++) await publishOpen(i);
    await flush();
    expect(hub.hasEndpoint(sub.endpoint)).toBe(true);
    await publishOpen(BUDGET);
    await flush();
    const frames = posted.filter((m) => m.t === 'ws-frame');
    expect(frames).toHaveLength(BUDGET + 1); // the confirmation and BUDGET notifications
    expect(posted.at(-1)).toMatchObject({ t: 'ws-close', id: 'w1', code: 1013 });
    expect(hub.hasEndpoint(sub.endpoint)).toBe(false);
    expect(log).toContainEqual(expect.objectContaining({ type: 'close', subscriber: 'Frozen socket', status: 1013 }));
    expect(watcherFrames.some((f) => f.event?.['hub.event'] === 'syncerror' && JSON.stringify(f).includes('Frozen socket'))).toBe(true);
  });

  it('L3 HUB-SEC-13 on the in-page hub.WebSocket too, an answer frame over 64 KiB closes the socket with 1009 before any parse', async () => {
    const { hub, log } = await rig();
    const wire = createWireHandler(hub, { hubUrl: HUB_URL });
    const posted: HostMessage[] = [];
    const relay = new SocketRelay((m) => posted.push(m), (error) => { throw error; });
    const sub = hub.subscribe({ topic: 'T', events: ['Patient-open'], subscriberName: 'Big answers' });
    relay.open('w2', `ws://127.0.0.1:5200/fhircast/hub/ws/${encodeURIComponent(sub.endpoint)}`, wire);
    relay.frame('w2', `${' '.repeat(64 * 1024 - 2)}{}`);
    expect(posted.filter((m) => m.t === 'ws-close')).toEqual([]);
    relay.frame('w2', `${' '.repeat(64 * 1024 - 1)}{}`);
    expect(posted.at(-1)).toMatchObject({ t: 'ws-close', id: 'w2', code: 1009 });
    expect(log).toContainEqual(expect.objectContaining({ type: 'close', subscriber: 'Big answers', status: 1009 }));
  });
});
