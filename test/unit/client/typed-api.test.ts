/** The typed page API over a real host runtime, in node (MessageChannel, fake Web Locks). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryStorage } from '../../../src/adapters/memory-storage.js';
import { HubError } from '../../../src/client/index.js';
import { channelTransport, openPage, patientOpen, startHost, until, type RigHost, type RigPage } from './support/rig.js';
import { FakeLocks } from './support/fake-locks.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function rig(names: string[]) {
  const locks = new FakeLocks();
  let host = await startHost(locks);
  const transport = channelTransport(() => host);
  const pages: RigPage[] = [];
  for (const name of names) pages.push(await openPage(locks, transport, name));
  cleanup.push(() => host.die());
  for (const page of pages) cleanup.push(() => page.hub.close());
  return { locks, pages, get host() { return host; }, setHost: (next: RigHost) => (host = next) };
}

const syncErrorsOf = (events: any[]) => events.filter((n) => n.event['hub.event'] === 'syncerror').map((n) => n.event.context[0].resource.issue[0].diagnostics);

/** Pages A and B on a host, and `restart()`: the next host (worker) over the same storage, the old one still up. */
async function restartableRig() {
  const storage = memoryStorage();
  const locks = new FakeLocks();
  let host = await startHost(locks, storage);
  const transport = channelTransport(() => host);
  const a = await openPage(locks, transport, 'A');
  const b = await openPage(locks, transport, 'B');
  cleanup.push(() => host.die(), () => a.hub.close(), () => b.hub.close());
  const restart = async () => {
    const old = host;
    host = await startHost(locks, storage); // the next worker, over the same storage
    return { old, host };
  };
  return { a, b, restart };
}

describe('typed API', () => {
  it('delivers the exact notification and acks from the callback: nothing → 200, a number → that status, a throw → 500', async () => {
    const { pages: [a, b] } = await rig(['Worklist', 'Viewer']);
    const reported = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const topic = await a!.hub.createTopic();
    const seenByA: any[] = [];
    const seenByB: any[] = [];
    const answers: unknown[] = [undefined, 409, 'throw'];
    await a!.hub.subscribe({ topic, events: ['Patient-open', 'SyncError'] }, (n) => void seenByA.push(n));
    await b!.hub.subscribe({ topic, events: ['Patient-open'] }, (n) => {
      seenByB.push(n);
      const answer = answers.shift();
      if (answer === 'throw') throw new Error('viewer crashed');
      return answer;
    });
    const ids: string[] = [];
    for (const id of ['pt-1', 'pt-2', 'pt-3']) ids.push((await a!.hub.publish(topic, patientOpen(id))).id);
    await until(() => syncErrorsOf(seenByA).length === 2, 'two SyncErrors');
    expect(seenByB.map((n) => n.id)).toEqual(ids);
    expect(seenByB[0]).toEqual({ timestamp: expect.any(String), id: ids[0], event: { 'hub.topic': topic, 'hub.event': 'Patient-open', 'context.versionId': expect.any(String), context: patientOpen('pt-1').context } });
    expect(syncErrorsOf(seenByA)).toEqual([expect.stringContaining('refused the context change (status 409)'), expect.stringContaining('not delivered (status 500)')]);
    expect(syncErrorsOf(seenByA).every((d) => d.includes('Viewer'))).toBe(true);
    expect(reported).toHaveBeenCalledWith(expect.stringContaining('onEvent callback failed'), expect.objectContaining({ message: 'viewer crashed' }));
    reported.mockRestore();
  });

  it('publish keeps a given id and timestamp and makes them when absent', async () => {
    const { pages: [a] } = await rig(['A']);
    const topic = await a!.hub.createTopic();
    const seen: any[] = [];
    await a!.hub.subscribe({ topic, events: ['*'] }, (n) => void seen.push(n));
    await a!.hub.publish(topic, { ...patientOpen('p'), id: 'mine', timestamp: '2025-03-02T09:15:00Z' });
    const made = await a!.hub.publish(topic, patientOpen('q'));
    await until(() => seen.length === 2);
    expect(seen[0]).toMatchObject({ id: 'mine', timestamp: '2025-03-02T09:15:00Z' });
    expect(made.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(seen[1].timestamp)).not.toBeNaN();
  });

  it('a refused call rejects with a HubError rebuilt in the page: status and OperationOutcome', async () => {
    const { pages: [a] } = await rig(['A']);
    const topic = await a!.hub.createTopic();
    const error = await a!.hub.publish(topic, { 'hub.event': 'Patient-open', context: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HubError);
    expect(error).toMatchObject({ status: 400, outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', diagnostics: expect.stringContaining('patient') }] } });
  });

  it('hub.close() unsubscribes normally (no SyncError), a vanished page abnormally (SyncError)', async () => {
    const { pages: [watcher, quiet, vanishing], host } = await rig(['Watcher', 'Quiet', 'Vanishing']);
    const topic = await watcher!.hub.createTopic();
    const seen: any[] = [];
    await watcher!.hub.subscribe({ topic, events: ['SyncError'] }, (n) => void seen.push(n));
    await quiet!.hub.subscribe({ topic, events: ['Patient-open'] }, () => undefined);
    await vanishing!.hub.subscribe({ topic, events: ['Patient-open'] }, () => undefined);
    const names = () => host.hub.inspect().topics.find((t) => t.topic === topic)!.subscribers.map((s) => s.name).sort();
    expect(names()).toEqual(['Quiet', 'Vanishing', 'Watcher']);

    await quiet!.hub.close();
    expect(names()).toEqual(['Vanishing', 'Watcher']);
    vanishing!.locks.die();
    await until(() => names().length === 1, 'the vanished page to be dropped');
    await until(() => seen.length === 1, 'the SyncError');
    expect(syncErrorsOf(seen)).toEqual([expect.stringContaining('Vanishing')]);
    await expect(quiet!.hub.getContext(topic)).rejects.toMatchObject({ status: 410 });
  });

  it('when the host dies, calls in flight fail with 503 and the page reconnects and re-subscribes with the same callback', async () => {
    const { a, b, restart } = await restartableRig();
    const topic = await a.hub.createTopic();
    const seenByB: any[] = [];
    await b.hub.subscribe({ topic, events: ['Patient-open'] }, (n) => void seenByB.push(n));
    await a.hub.publish(topic, patientOpen('before'));
    const before = await a.hub.getContext(topic);

    const { old, host } = await restart();
    const inFlight = a.hub.publish(topic, patientOpen('lost')); // sent, never answered
    old.die();
    await expect(inFlight).rejects.toMatchObject({ status: 503 });

    expect(await a.hub.getContext(topic)).toEqual(before);
    await until(() => host.hub.inspect().topics.find((t) => t.topic === topic)?.subscribers.length === 1, 'B to subscribe again');
    const after = await a.hub.publish(topic, patientOpen('after'));
    await until(() => seenByB.some((n) => n.id === after.id), 'the event after the restart');
  });

  it('a subscribe in flight when the host dies is made on the next host, with its callback', async () => {
    const { a, b, restart } = await restartableRig();
    const topic = await a.hub.createTopic();
    const { old, host } = await restart();
    const seenByB: any[] = [];
    const subscribing = b.hub.subscribe({ topic, events: ['Patient-open'] }, (n) => void seenByB.push(n));
    old.die();
    const sub = await subscribing;
    expect(sub.topic).toBe(topic);
    expect(host.hub.inspect().topics.find((t) => t.topic === topic)?.subscribers.map((s) => s.name)).toEqual(['B']);
    const sent = await a.hub.publish(topic, patientOpen('after'));
    await until(() => seenByB.some((n) => n.id === sent.id), 'the event on the next host');
  });

  it('sub.unsubscribe() ends one subscription normally; the callback hears nothing more', async () => {
    const { pages: [a, b], host } = await rig(['A', 'B']);
    const topic = await a!.hub.createTopic();
    const seenByA: any[] = [];
    const seenByB: any[] = [];
    await a!.hub.subscribe({ topic, events: ['Patient-open', 'SyncError'] }, (n) => void seenByA.push(n));
    const sub = await b!.hub.subscribe({ topic, events: ['Patient-open'] }, (n) => void seenByB.push(n));
    expect(sub).toMatchObject({ topic, events: 'Patient-open', leaseSeconds: 7200, endpoint: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:5200\/fhircast\/hub\/ws\//) });
    await sub.unsubscribe();
    await sub.unsubscribe(); // a second call is a no-op
    expect(host.hub.inspect().topics.find((t) => t.topic === topic)!.subscribers.map((s) => s.name)).toEqual(['A']);
    const sent = await a!.hub.publish(topic, patientOpen('p'));
    await until(() => seenByA.some((n) => n.id === sent.id), 'A to get its own event');
    expect(seenByB).toEqual([]);
    expect(syncErrorsOf(seenByA)).toEqual([]);
  });

  it('observe follows the hub log until its unsubscribe is called; inspect shows the engine', async () => {
    const { pages: [a] } = await rig(['A']);
    const topic = await a!.hub.createTopic();
    const entries: any[] = [];
    const stop = a!.hub.observe((entry) => entries.push(entry));
    await a!.hub.subscribe({ topic, events: ['Patient-open'] }, () => undefined);
    await a!.hub.publish(topic, patientOpen('p'));
    await until(() => entries.some((e) => e.type === 'ack'), 'the ack entry');
    expect(entries.map((e) => e.type)).toEqual(expect.arrayContaining(['subscribe', 'connect', 'publish', 'ack']));
    stop();
    const count = entries.length;
    await a!.hub.publish(topic, patientOpen('q'));
    await a!.hub.getContext(topic); // a round trip after the publish: any log entry would have come first
    expect(entries.length).toBe(count);
    const snapshot = await a!.hub.inspect();
    expect(snapshot.topics.find((t) => t.topic === topic)).toMatchObject({ current: 'Patient/q', subscribers: [{ name: 'A', connected: true }] });
  });
});
