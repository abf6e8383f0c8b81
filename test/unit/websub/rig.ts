/**
 * The WebSub test rig: a real `tabcast serve --websub` on 127.0.0.1 whose timeouts run on manual
 * timers (a fake clock), real callback listeners, and the requests the tests make of them.
 */
import { afterEach, expect } from 'vitest';
import type { Hub, HubLogEntry } from '../../../src/hub/index.js';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { ManualTimers, settle } from '../bridge/support/manual-timers.js';
import { cleanup, postSubscription, track } from '../server/support.js';
import { CallbackServer } from './support.js';

/** The topic every WebSub test uses. */
export const TOPIC = 'T-websub';
const listeners: CallbackServer[] = [];
afterEach(async () => {
  await cleanup();
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

/** A callback listener, closed after the test. */
export async function callback(path?: string): Promise<CallbackServer> {
  const cb = await CallbackServer.start(path);
  listeners.push(cb);
  return cb;
}

/** `tabcast serve` (with `--websub` unless `websub: false`) and a way to move its fake clock. */
export async function serve(options: { websub?: boolean; allow?: string[]; ackTimeoutMs?: number; heartbeatMs?: number; log?: string[]; users?: { secret: string; groups: string[][] } } = {}) {
  const timers = new ManualTimers();
  const server = track(
    await startServer({
      port: 0,
      heartbeatMs: options.heartbeatMs ?? 0,
      ackTimeoutMs: options.ackTimeoutMs,
      clock: timers.clock,
      log: (line) => options.log?.push(line),
      users: options.users,
      ...(options.websub === false ? {} : { websub: { allow: options.allow ?? [], timers: { set: timers.setTimeout, clear: timers.clearTimeout } } }),
    }),
  );
  /** Moves the fake clock: the adapter's timers fire and the engine runs its deadlines. */
  const advance = async (ms: number) => {
    await timers.advance(ms);
    server.hub.tick();
    await settle();
  };
  return { server, timers, advance };
}

/** A webhook subscribe form for `callbackUrl`. */
export function webhookParams(callbackUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'hub.channel.type': 'webhook', 'hub.mode': 'subscribe', 'hub.topic': TOPIC, 'hub.events': 'Patient-open,Patient-close,SyncError', 'hub.callback': callbackUrl, ...extra };
}

/** Resolves with the next log entry of `type` (and `match`) the engine emits. */
export function nextLog(hub: Hub, type: HubLogEntry['type'], match: (e: HubLogEntry) => boolean = () => true): Promise<HubLogEntry> {
  return new Promise((resolve) => {
    const off = hub.observe((e) => {
      if (e.type === type && match(e)) {
        off();
        resolve(e);
      }
    });
  });
}

/** Subscribes a webhook and resolves once the callback verified and the engine connected it. */
export async function subscribeVerified(server: RunningServer, cb: CallbackServer, extra: Record<string, string> = {}): Promise<void> {
  const connected = nextLog(server.hub, 'connect');
  const res = await postSubscription(server.url, webhookParams(cb.url, extra));
  expect(res.status, await res.clone().text()).toBe(202);
  await connected;
}

/** A Patient-open request with this id. */
export function patientOpen(pid: string, id: string) {
  return { timestamp: '2026-01-01T00:00:00Z', id, event: { 'hub.topic': TOPIC, 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: pid } }] } };
}

/** The topic's subscribers as inspect() shows them. */
export const subscribers = (server: RunningServer) => server.hub.inspect().topics.find((t) => t.topic === TOPIC)?.subscribers ?? [];

