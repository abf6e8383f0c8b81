import { describe, expect, it } from 'vitest';
import {
  accept,
  ackAll,
  answer,
  denials,
  heartbeats,
  join,
  notifications,
  patientContext,
  reportContext,
  request,
  syncErrors,
  world,
} from './support.js';

/** Seconds between consecutive times, and from `start` to the first. */
const gaps = (start: number, times: number[]): number[] => times.map((t, i) => (t - (i === 0 ? start : times[i - 1]!)) / 1000);

describe('HUB-HEART: heartbeat', () => {
  it('HUB-HEART-01 every confirmed subscriber gets a heartbeat at least every 10 s, whatever its hub.events', async () => {
    const { hub, topic, run, clock } = await world({ heartbeatMs: 10_000 });
    const start = clock.now();
    const patientOnly = join(hub, topic, ['Patient-open'], { leaseSeconds: 3600 });
    run(7_000);
    const lateStart = clock.now();
    const watcher = join(hub, topic, ['SyncError'], { leaseSeconds: 3600 });
    const legacy = join(hub, topic, ['user-logout'], { leaseSeconds: 3600 });
    run(60_000);
    const end = clock.now();
    for (const [sub, from] of [[patientOnly, start], [watcher, lateStart], [legacy, lateStart]] as const) {
      const times = heartbeats(sub.channel).map((f) => Date.parse(f.timestamp));
      expect(times.length).toBeGreaterThanOrEqual(6);
      for (const gap of gaps(from, times)) expect(gap).toBeLessThanOrEqual(10);
      expect((end - times.at(-1)!) / 1000).toBeLessThanOrEqual(10);
    }
  });

  it('HUB-HEART-01 HUB-HEART-02 the period follows the engine setting', async () => {
    const { hub, topic, run, clock } = await world({ heartbeatMs: 5_000 });
    const start = clock.now();
    const sub = join(hub, topic, ['Patient-open']);
    run(30_000, 500);
    const beats = heartbeats(sub.channel);
    expect(beats.length).toBeGreaterThanOrEqual(6);
    for (const gap of gaps(start, beats.map((f) => Date.parse(f.timestamp)))) expect(gap).toBeLessThanOrEqual(5);
    for (const beat of beats) expect(beat.event.context).toEqual([{ key: 'period', decimal: '5' }]);
  });

  it('HUB-HEART-02 a heartbeat is {timestamp, id, event{hub.topic, hub.event: heartbeat, context: [{key: period, decimal: "10"}]}}', async () => {
    const { hub, topic, run } = await world({ heartbeatMs: 10_000 });
    const sub = join(hub, topic, ['Patient-open']);
    run(10_000);
    const [beat] = heartbeats(sub.channel);
    expect(beat).toBeDefined();
    expect(Object.keys(beat).sort()).toEqual(['event', 'id', 'timestamp']);
    expect(typeof beat.id).toBe('string');
    expect(Number.isNaN(Date.parse(beat.timestamp))).toBe(false);
    expect(beat.event).toEqual({ 'hub.topic': topic, 'hub.event': 'heartbeat', context: [{ key: 'period', decimal: '10' }] });
  });

  it('HUB-HEART-03 heartbeats expect no answer and never cause a SyncError, even when answered with an error status', async () => {
    const { hub, topic, run } = await world({ heartbeatMs: 10_000 });
    const quiet = join(hub, topic, ['Patient-open'], { leaseSeconds: 3600 });
    const grumpy = join(hub, topic, ['Patient-open'], { leaseSeconds: 3600 });
    const watcher = join(hub, topic, ['SyncError'], { leaseSeconds: 3600 });
    for (let i = 0; i < 6; i++) {
      run(10_000);
      for (const beat of heartbeats(grumpy.channel).slice(-1)) answer(grumpy, { id: beat.id, status: 500 });
    }
    expect(syncErrors(watcher.channel)).toHaveLength(0);
    for (const sub of [quiet, grumpy]) {
      expect(denials(sub.channel)).toHaveLength(0);
      expect(sub.channel.closedWith).toBeUndefined();
      expect(hub.hasEndpoint(sub.endpoint)).toBe(true);
    }
  });

  it('HUB-HEART-03 heartbeats change no state and are never part of a catch-up', async () => {
    const { hub, topic, run } = await world({ heartbeatMs: 10_000 });
    const first = join(hub, topic, ['*'], { leaseSeconds: 3600 });
    await accept(hub, request(topic, 'DiagnosticReport-open', reportContext()));
    ackAll(first);
    const before = hub.getContext(topic);
    run(35_000);
    expect(heartbeats(first.channel).length).toBeGreaterThanOrEqual(3);
    expect(hub.getContext(topic)).toEqual(before);
    const late = join(hub, topic, ['*', 'heartbeat']);
    expect(late.channel.frames.filter((f) => f.event).map((f) => f.event['hub.event'])).toEqual(['DiagnosticReport-open']);
    const empty = join(hub, hub.createTopic(), ['*']);
    expect(empty.channel.frames).toHaveLength(1);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    expect(notifications(late.channel).map((f) => f.event['hub.event'])).toEqual(['DiagnosticReport-open', 'Patient-open']);
  });
});
