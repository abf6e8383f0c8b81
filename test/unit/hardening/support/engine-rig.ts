/**
 * An engine with connected subscribers for the engine properties: a fake clock, memory storage,
 * recording channels, and helpers that send a request and report what changed.
 */
import { expect } from 'vitest';
import type { ConnectionHandle, Hub, HubOptions } from '../../../../src/hub/index.js';
import { makeHub, RecordingChannel } from '../../support/harness.js';
import type { Template } from './arbitraries.js';

export interface Subscriber {
  name: string;
  topic: string;
  events: string[];
  endpoint: string;
  channel: RecordingChannel;
  handle: ConnectionHandle;
}

/** The subscribers every engine rig starts with. */
const LINEUP: Array<{ name: string; topic: string; events: string[] }> = [
  { name: 'worklist', topic: 'topic-a', events: ['*'] },
  { name: 'viewer', topic: 'topic-a', events: ['Patient-open', 'Patient-close', 'ImagingStudy-open'] },
  { name: 'reporting', topic: 'topic-a', events: ['DiagnosticReport-*', 'SyncError'] },
  { name: 'other-room', topic: 'topic-b', events: ['*'] },
];

export async function engineRig(options: Partial<HubOptions> = {}) {
  const made = await makeHub(options);
  const subscribers: Subscriber[] = LINEUP.map((s) => {
    const { endpoint } = made.hub.subscribe({ topic: s.topic, events: s.events, subscriberName: s.name });
    const channel = new RecordingChannel();
    const handle = made.hub.connect(endpoint, channel);
    return { ...s, endpoint, channel, handle };
  });
  const versions = new Map<string, string[]>();
  let counter = 0;
  return { ...made, subscribers, versions, nextId: () => `rq-${++counter}` };
}

export type EngineRig = Awaited<ReturnType<typeof engineRig>>;

/** The versionId a template's update should carry, read from the hub (HUB-CONTENT-03). */
export function versionFor(rig: { hub: Hub; versions: Map<string, string[]> }, t: Template): string | undefined {
  if (t.version === undefined || t.version === 'missing') return undefined;
  const open = rig.hub
    .inspect()
    .topics.find((x) => x.topic === t.topic)
    ?.open.find((o) => o.type === 'DiagnosticReport' && o.id === t.reportId);
  if (open) {
    const seen = rig.versions.get(`${t.topic}/${t.reportId}`) ?? [];
    if (!seen.includes(open.versionId)) seen.push(open.versionId);
    rig.versions.set(`${t.topic}/${t.reportId}`, seen);
  }
  if (t.version === 'current') return open?.versionId ?? 'v-not-open';
  if (t.version === 'stale') return rig.versions.get(`${t.topic}/${t.reportId}`)?.find((v) => v !== open?.versionId) ?? 'v-stale';
  return 'v-made-up';
}

/** Frame counts per subscriber, to find what a call sent. */
export const marks = (rig: EngineRig) => rig.subscribers.map((s) => s.channel.frames.length);

/** The frames each subscriber got since `since`. */
export const newFrames = (rig: EngineRig, since: number[]) => rig.subscribers.map((s, i) => s.channel.frames.slice(since[i]));

/** Answers every notification sent since `since` with 200, as a well-behaved subscriber does. */
export function ackAll(rig: EngineRig, since: number[]): void {
  rig.subscribers.forEach((s, i) => {
    for (const f of s.channel.frames.slice(since[i])) {
      if (f.event && f.id && f.event['hub.event'] !== 'syncerror' && f.event['hub.event'] !== 'heartbeat') s.handle.receive({ id: f.id, status: 200 });
    }
  });
}

/** Checks one notification frame's shape (HUB-NOTIFY-01) and that it belongs to the subscriber's topic (HUB-NOTIFY-06). */
export function expectNotificationFor(sub: Subscriber, frame: any): void {
  expect(typeof frame.timestamp, sub.name).toBe('string');
  expect(typeof frame.id, sub.name).toBe('string');
  expect(frame.id.length, sub.name).toBeGreaterThan(0);
  expect(frame.event['hub.topic'], sub.name).toBe(sub.topic);
  expect(typeof frame.event['hub.event'], sub.name).toBe('string');
  expect(Array.isArray(frame.event.context), sub.name).toBe(true);
}

/** Publishes and settles, returning the outcome instead of throwing; a synchronous throw is a failure. */
export async function publishOutcome(hub: Hub, body: unknown, options: { pathTopic?: string } = {}): Promise<{ ok: true; id: string } | { ok: false; error: unknown }> {
  let promise: Promise<{ status: number; id: string }>;
  try {
    promise = hub.publish(body, options);
  } catch (error) {
    throw new Error(`publish threw synchronously instead of rejecting: ${String(error)}`, { cause: error });
  }
  try {
    const r = await promise;
    expect(r.status).toBe(202);
    return { ok: true, id: r.id };
  } catch (error) {
    return { ok: false, error };
  }
}
