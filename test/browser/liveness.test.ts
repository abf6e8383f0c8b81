/**
 * Web Locks liveness in real Chromium. An iframe stands in for a tab (removing it destroys its
 * context, as closing a tab does) and a dedicated worker for a host that gets terminated.
 */
import { transfer, wrap, type Endpoint } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStorage } from '../../src/adapters/memory-storage.js';
import { webCrypto } from '../../src/adapters/web-crypto.js';
import { Hub } from '../../src/hub/index.js';
import { holdLock, watchLock } from '../../src/link/locks.js';
import type { HostApi } from '../../src/link/messages.js';
import { HostRuntime } from '../../src/host/runtime.js';

const locks = navigator.locks;
const frames: HTMLIFrameElement[] = [];
afterEach(() => frames.splice(0).forEach((f) => f.remove()));

/** An iframe that takes lock `name` and keeps it for as long as it lives. */
async function tabHolding(name: string): Promise<HTMLIFrameElement> {
  const frame = document.createElement('iframe');
  frame.srcdoc = `<script>navigator.locks.request(${JSON.stringify(name)}, () => { parent.postMessage(${JSON.stringify(`held:${name}`)}, '*'); return new Promise(() => {}); });</script>`;
  const held = new Promise<void>((resolve) => window.addEventListener('message', function onHeld(e) {
    if (e.data === `held:${name}`) {
      window.removeEventListener('message', onHeld);
      resolve();
    }
  }));
  document.body.append(frame);
  frames.push(frame);
  await held;
  return frame;
}

const pendingNames = async () => ((await locks.query()).pending ?? []).map((l) => l.name);
const uniqueName = (prefix: string) => `${prefix}${crypto.randomUUID()}`;

describe('Web Locks liveness', () => {
  it('a watcher is told once the tab holding the lock is gone, and not before', async () => {
    const name = uniqueName('tabcast:client:');
    const tab = await tabHolding(name);
    let freed = false;
    const told = new Promise<void>((resolve) => watchLock(locks, name, () => ((freed = true), resolve())));
    await expect.poll(pendingNames).toContain(name); // queued behind the live tab
    expect(freed).toBe(false);
    tab.remove();
    await told;
    expect(freed).toBe(true);
  });

  it('holdLock resolves with the lock held, and watching it is granted only after release', async () => {
    const name = uniqueName('tabcast:client:');
    const release = await holdLock(locks, name);
    expect((await locks.query()).held?.map((l) => l.name)).toContain(name);
    const told = new Promise<void>((resolve) => watchLock(locks, name, resolve));
    await expect.poll(pendingNames).toContain(name);
    release();
    await told;
  });

  it('an aborted watch never fires', async () => {
    const name = uniqueName('tabcast:client:');
    const release = await holdLock(locks, name);
    const stop = new AbortController();
    let fired = false;
    watchLock(locks, name, () => (fired = true), stop.signal);
    await expect.poll(pendingNames).toContain(name);
    stop.abort();
    await expect.poll(pendingNames).not.toContain(name);
    release();
    const after = new Promise<void>((resolve) => watchLock(locks, name, resolve)); // the lock is free: granted at once
    await after;
    expect(fired).toBe(false);
  });

  it('a host lock held by a worker is freed when the worker is terminated', async () => {
    const name = uniqueName('tabcast:host:');
    const source = `navigator.locks.request(${JSON.stringify(name)}, () => { postMessage('held'); return new Promise(() => {}); });`;
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
    await new Promise((resolve) => worker.addEventListener('message', resolve, { once: true }));
    const told = new Promise<void>((resolve) => watchLock(locks, name, resolve));
    await expect.poll(pendingNames).toContain(name);
    worker.terminate();
    await told;
  });

  it('a host ends the session of a vanished tab abnormally: its subscription goes and SyncError subscribers are told', async () => {
    const hub = await Hub.create({ clock: { now: () => Date.now() }, crypto: webCrypto, storage: memoryStorage(), heartbeatMs: 0 });
    const runtime = await HostRuntime.start({ hub, locks });
    const topic = hub.createTopic();
    const hubUrl = `${location.origin}/fhircast/hub`;

    // The watcher: a session of this page.
    const watcher = connectSession(runtime);
    const watcherEvents: any[] = [];
    watcher.events.onmessage = (e) => e.data.t === 'event' && watcherEvents.push(e.data.frame);
    await watcher.api.hello(transfer({ protocol: 1, hubUrl, events: watcher.hostEvents }, [watcher.hostEvents]));
    await watcher.api.subscribe('w', { topic, events: ['SyncError'] });

    // The vanishing tab: its lock lives in an iframe.
    const lockName = uniqueName('tabcast:client:');
    const tab = await tabHolding(lockName);
    const vanishing = connectSession(runtime);
    await vanishing.api.hello(transfer({ protocol: 1, hubUrl, appName: 'Vanishing', events: vanishing.hostEvents }, [vanishing.hostEvents]));
    expect(await vanishing.api.watch(lockName)).toEqual({ ok: true });
    await vanishing.api.subscribe('v', { topic, events: ['Patient-open'] });
    expect(hub.inspect().topics[0]!.subscribers.map((s) => s.name).sort()).toEqual(['Vanishing', 'tabcast app']);

    tab.remove();
    await expect.poll(() => watcherEvents.length).toBe(1);
    expect(watcherEvents[0].event['hub.event']).toBe('syncerror');
    expect(watcherEvents[0].event.context[0].resource.issue[0].diagnostics).toContain('Vanishing');
    expect(hub.inspect().topics[0]!.subscribers.map((s) => s.name)).toEqual(['tabcast app']);
    expect(runtime.sessionCount).toBe(1);
  });
});

/** A session with `runtime` over a MessageChannel, as the SharedWorker door makes one. */
function connectSession(runtime: HostRuntime) {
  const control = new MessageChannel();
  runtime.accept(control.port1);
  const { port1: events, port2: hostEvents } = new MessageChannel();
  return { api: wrap<HostApi>(control.port2 as Endpoint) as unknown as HostApi, events, hostEvents };
}
