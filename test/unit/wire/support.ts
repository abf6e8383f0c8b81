/** Helpers for the wire tests: an engine on a fake clock behind createWireHandler, requests, FHIRcast bodies. */
import { makeHub } from '../support/harness.js';
import { createWireHandler } from '../../../src/wire/index.js';
import type { WireSocket } from '../../../src/wire/index.js';
import type { HubOptions, UsersConfig } from '../../../src/hub/index.js';

export const HUB_URL = 'http://hub.test/fhircast/hub';

/** An engine (fake clock, memory storage) with its wire surface at HUB_URL. */
export async function makeWire(options: { hub?: Partial<HubOptions>; users?: UsersConfig; bodyLimitBytes?: number; hubUrl?: string } = {}) {
  const made = await makeHub(options.hub);
  if (options.users) await made.hub.configureUsers(options.users);
  const wire = createWireHandler(made.hub, { hubUrl: options.hubUrl ?? HUB_URL, bodyLimitBytes: options.bodyLimitBytes });
  return { ...made, wire };
}

/** A form-encoded POST (the spec's subscription encoding). */
export function formRequest(params: Record<string, string> | string, headers: Record<string, string> = {}, url = HUB_URL): Request {
  const body = typeof params === 'string' ? params : new URLSearchParams(params).toString();
  return new Request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
}

/** A JSON POST. */
export function jsonRequest(body: unknown, headers: Record<string, string> = {}, url = HUB_URL): Request {
  return new Request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** The parameters of a subscribe request. */
export function subscribeParams(topic: string, events: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': events, ...extra };
}

/** The parameters of an unsubscribe request. */
export function unsubscribeParams(topic: string, endpoint: string): Record<string, string> {
  return { 'hub.channel.type': 'websocket', 'hub.mode': 'unsubscribe', 'hub.topic': topic, 'hub.channel.endpoint': endpoint };
}

/** The hub side of a socket as a door would give it; records what the wire sends. */
export class FakeSocket implements WireSocket {
  sent: any[] = [];
  raw: string[] = [];
  closedWith?: { code: number; reason: string };
  send(text: string) {
    this.raw.push(text);
    this.sent.push(JSON.parse(text));
  }
  close(code: number, reason: string) {
    this.closedWith = { code, reason };
  }
  /** Notifications, heartbeats excluded. */
  get events() {
    return this.sent.filter((f) => f.event && f.event['hub.event'] !== 'heartbeat');
  }
}

/** Subscribes over the wire and connects a FakeSocket; returns the endpoint URL, socket and handle. */
export async function subscribeAndConnect(wire: ReturnType<typeof createWireHandler>, topic: string, events: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const res = await wire.handle(formRequest(subscribeParams(topic, events, extra), headers));
  if (res.status !== 202) throw new Error(`subscribe failed: ${res.status} ${await res.text()}`);
  const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
  const socket = new FakeSocket();
  const handle = wire.acceptSocket(endpoint, socket);
  if (!handle) throw new Error('endpoint refused');
  return { endpoint, socket, handle };
}

let counter = 0;
/** A fresh id for events and topics. */
export const fresh = (prefix: string) => `${prefix}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

/** A Patient-open request body (no `hub.topic` when topic is undefined, for the topic-path route). */
export function patientOpen(topic: string | undefined, patientId: string, id = fresh('ev')) {
  const event: { 'hub.topic'?: string; 'hub.event': string; context: Array<{ key: string; resource: { resourceType: string; id: string } }> } = {
    'hub.event': 'Patient-open',
    context: [{ key: 'patient', resource: { resourceType: 'Patient', id: patientId } }],
  };
  if (topic !== undefined) event['hub.topic'] = topic;
  return { timestamp: '2026-01-01T10:00:00.000Z', id, event };
}

/** A DiagnosticReport-open request body. */
export function reportOpen(topic: string, reportId: string, patientId: string, id = fresh('ev')) {
  return {
    timestamp: '2026-01-01T10:01:00.000Z',
    id,
    event: {
      'hub.topic': topic,
      'hub.event': 'DiagnosticReport-open',
      context: [
        { key: 'report', resource: { resourceType: 'DiagnosticReport', id: reportId, status: 'preliminary' } },
        { key: 'patient', resource: { resourceType: 'Patient', id: patientId } },
      ],
    },
  };
}

/** A DiagnosticReport-update that PUTs one Observation. */
export function reportUpdate(topic: string, reportId: string, versionId: string, observationId: string, id = fresh('ev')) {
  return {
    timestamp: '2026-01-01T10:02:00.000Z',
    id,
    event: {
      'hub.topic': topic,
      'hub.event': 'DiagnosticReport-update',
      'context.versionId': versionId,
      context: [
        { key: 'report', reference: { reference: `DiagnosticReport/${reportId}` } },
        {
          key: 'updates',
          resource: {
            resourceType: 'Bundle',
            id: fresh('bundle'),
            type: 'transaction',
            entry: [{ request: { method: 'PUT', url: `Observation/${observationId}` }, resource: { resourceType: 'Observation', id: observationId, status: 'preliminary' } }],
          },
        },
      ],
    },
  };
}

/** Asserts nothing in a body looks like a stack trace (HUB-SEC-09). */
export const STACK_TRACE = /\n\s+at\s|\bat [\w.<>]+ \(|node:internal|\.ts:\d+/;
