/**
 * Shared helpers of the conformance suite: realistic FHIR fixtures, request builders and
 * connected subscribers over the engine harness (fake clock, memory storage, recording channels).
 */
import { expect } from 'vitest';
import { isHubError, type HubError } from '../../../src/protocol/index.js';
import type { ConnectionHandle, Hub, HubOptions, SubscribeInput, SubscribeResult } from '../../../src/hub/index.js';
import { makeHub, RecordingChannel } from '../support/harness.js';

/** A FHIR resource as these tests build it. */
export type Fhir = { resourceType: string; id?: string; [member: string]: unknown };
/** One context entry. */
export type Entry = { key: string; [member: string]: unknown };

// ---- FHIR fixtures ------------------------------------------------------------------------

export const MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.19.5';
export const ACCESSION_SYSTEM = 'urn:oid:2.16.840.1.113883.19.7.1';

export function patient(id = 'pt-7', mrn = 'MRN-0042'): Fhir {
  return {
    resourceType: 'Patient',
    id,
    identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: MRN_SYSTEM, value: mrn }],
    name: [{ family: 'Nakamura', given: ['Aiko'] }],
    birthDate: '1971-04-12',
  };
}

export function encounter(id = 'enc-3', patientId = 'pt-7'): Fhir {
  return {
    resourceType: 'Encounter',
    id,
    identifier: [{ system: 'urn:oid:2.16.840.1.113883.19.8', value: `VN-${id}` }],
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: `Patient/${patientId}` },
  };
}

export function imagingStudy(id = 'st-1', accession = 'ACC-1001', patientId = 'pt-7'): Fhir {
  return {
    resourceType: 'ImagingStudy',
    id,
    identifier: [
      { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, system: ACCESSION_SYSTEM, value: accession },
      { system: 'urn:dicom:uid', value: `urn:oid:1.2.840.113619.2.55.3.${accession.replace(/\D/g, '')}` },
    ],
    status: 'available',
    subject: { reference: `Patient/${patientId}` },
    modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CT' }],
  };
}

export function diagnosticReport(id = 'dr-1', patientId = 'pt-7', status = 'preliminary', studyIds: string[] = []): Fhir {
  return {
    resourceType: 'DiagnosticReport',
    id,
    status,
    code: { coding: [{ system: 'http://loinc.org', code: '24627-2', display: 'Chest CT' }] },
    subject: { reference: `Patient/${patientId}` },
    imagingStudy: studyIds.map((s) => ({ reference: `ImagingStudy/${s}` })),
  };
}

export function observation(id = 'obs-1', text = 'lesion size', mm = 12): Fhir {
  return {
    resourceType: 'Observation',
    id,
    status: 'preliminary',
    code: { text },
    valueQuantity: { value: mm, unit: 'mm', system: 'http://unitsofmeasure.org', code: 'mm' },
  };
}

export function parametersResource(code: 'user-initiated' | 'system-timeout' | 'system-initiated' = 'user-initiated'): Fhir {
  return {
    resourceType: 'Parameters',
    parameter: [{ name: 'code', valueCoding: { system: 'http://fhircast.hl7.org/CodeSystem/fhircast-codesystem', code } }],
  };
}

export function outcomeResource(diagnostics = 'Report editor could not follow the study switch'): Fhir {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'warning',
        code: 'processing',
        diagnostics,
        details: {
          coding: [
            { system: 'https://fhircast.hl7.org/events/syncerror/eventid', code: 'rq-1' },
            { system: 'https://fhircast.hl7.org/events/syncerror/eventname', code: 'ImagingStudy-open' },
            { system: 'https://fhircast.hl7.org/events/syncerror/subscribername', code: 'Reporting' },
          ],
        },
      },
    ],
  };
}

/** A context entry holding a resource. */
export const res = (key: string, resource: Fhir): Entry => ({ key, resource });
/** A context entry holding a Reference. */
export const ref = (key: string, reference: string): Entry => ({ key, reference: { reference } });

/** Context of a Patient-open/-close. */
export const patientContext = (p: Fhir = patient()): Entry[] => [res('patient', p)];
/** Context of an Encounter-open/-close. */
export const encounterContext = (e: Fhir = encounter(), p: Fhir = patient()): Entry[] => [res('encounter', e), res('patient', p)];
/** Context of an ImagingStudy-open/-close. */
export const studyContext = (s: Fhir = imagingStudy(), p?: Fhir): Entry[] => (p ? [res('study', s), res('patient', p)] : [res('study', s)]);
/** Context of a DiagnosticReport-open/-close. */
export function reportContext(r: Fhir = diagnosticReport(), p: Fhir = patient(), studies: Fhir[] = [], enc?: Fhir): Entry[] {
  return [res('report', r), res('patient', p), ...(enc ? [res('encounter', enc)] : []), ...studies.map((s) => res('study', s))];
}

/** A content-sharing Bundle of type transaction. */
export function updateBundle(id: string, entry: unknown[]): Fhir {
  return { resourceType: 'Bundle', id, type: 'transaction', entry };
}
/** A PUT entry for a resource. */
export const put = (r: Fhir): Record<string, unknown> => ({ fullUrl: `${r.resourceType}/${r.id}`, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` }, resource: r });
/** A DELETE entry naming its target in request.url (and fullUrl). */
export const del = (type: string, id: string): Record<string, unknown> => ({ fullUrl: `${type}/${id}`, request: { method: 'DELETE', url: `${type}/${id}` } });

/** Context of a DiagnosticReport-update. */
export function updateContext(reportId: string, bundle: Fhir, patientId?: string): Entry[] {
  return [ref('report', `DiagnosticReport/${reportId}`), ...(patientId ? [ref('patient', `Patient/${patientId}`)] : []), res('updates', bundle)];
}

// ---- requests -----------------------------------------------------------------------------

let requestCounter = 0;

/** A fresh request id. */
export const nextId = (prefix = 'rq'): string => `${prefix}-${++requestCounter}`;

/** A request context change body. Extra members go onto `event` (e.g. `context.versionId`). */
export function request(
  topic: string | undefined,
  name: string,
  context: unknown,
  options: { id?: string; timestamp?: string | null; event?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const event: Record<string, unknown> = { ...(topic === undefined ? {} : { 'hub.topic': topic }), 'hub.event': name, context, ...options.event };
  const body: Record<string, unknown> = { id: options.id ?? nextId(), event };
  if (options.timestamp !== null) body.timestamp = options.timestamp ?? '2026-01-01T08:30:00.000Z';
  return body;
}

/** Publishes and expects a 202; returns the request id. */
export async function accept(hub: Hub, body: Record<string, unknown>, options: { pathTopic?: string } = {}): Promise<string> {
  const result = await hub.publish(body, options);
  expect(result.status).toBe(202);
  expect(result.id).toBe(body.id);
  return result.id;
}

/** Publishes and expects a HubError with this status; returns it. */
export async function refuse(hub: Hub, body: unknown, status: number, options: { pathTopic?: string } = {}): Promise<HubError> {
  let outcome: { ok: true } | { ok: false; error: unknown };
  try {
    await hub.publish(body, options);
    outcome = { ok: true };
  } catch (error) {
    outcome = { ok: false, error };
  }
  if (outcome.ok) throw new Error(`expected the hub to refuse the request with ${status}, but it answered 202`);
  const error = outcome.error;
  expect(isHubError(error), `expected a HubError, got ${String(error)}`).toBe(true);
  expect((error as HubError).status).toBe(status);
  return error as HubError;
}

/** Runs a synchronous call that must throw a HubError with this status. */
export function throws(fn: () => unknown, status: number): HubError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a HubError ${status}, nothing was thrown`).toBeDefined();
  expect(isHubError(caught), `expected a HubError, got ${String(caught)}`).toBe(true);
  expect((caught as HubError).status).toBe(status);
  return caught as HubError;
}

/** The first issue of a HubError's OperationOutcome. */
export function issueOf(error: HubError): { severity?: string; code?: string; diagnostics?: string } {
  expect(error.outcome.resourceType).toBe('OperationOutcome');
  const issue = error.outcome.issue?.[0];
  expect(issue).toBeDefined();
  return issue as { severity?: string; code?: string; diagnostics?: string };
}

/** Lets queued microtasks (storage writes, promise callbacks) run. Time does not move. */
export async function settle(rounds = 25): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

// ---- subscribers --------------------------------------------------------------------------

/** A connected subscriber: its subscription, recording channel and connection handle. */
export interface Subscriber {
  endpoint: string;
  result: SubscribeResult;
  channel: RecordingChannel;
  handle: ConnectionHandle;
  /** Ids this subscriber already answered through `ackAll`. */
  answered: Set<string>;
}

/** Subscribes and connects a recording channel to the new endpoint. */
export function join(hub: Hub, topic: string, events: readonly string[], options: Omit<SubscribeInput, 'topic' | 'events'> = {}): Subscriber {
  const result = hub.subscribe({ topic, events, ...options });
  const channel = new RecordingChannel();
  const handle = hub.connect(result.endpoint, channel);
  return { endpoint: result.endpoint, result, channel, handle, answered: new Set() };
}

/** Answers every notification the subscriber got and has not answered yet (heartbeats and SyncErrors excluded). */
export function ackAll(sub: Subscriber, status: number | string = 200): void {
  for (const frame of sub.channel.events) {
    if (isSyncError(frame) || sub.answered.has(frame.id)) continue;
    sub.answered.add(frame.id);
    sub.handle.receive(JSON.stringify({ id: frame.id, status }));
  }
}

/** Sends one answer frame as JSON text. */
export function answer(sub: Subscriber, frame: Record<string, unknown>): void {
  sub.handle.receive(JSON.stringify(frame));
}

/** True for a SyncError notification. */
export const isSyncError = (frame: any): boolean => frame?.event?.['hub.event']?.toLowerCase() === 'syncerror';

/** Notifications of a channel (heartbeats and SyncErrors excluded). */
export const notifications = (ch: RecordingChannel): any[] => ch.events.filter((f) => !isSyncError(f));
/** SyncError notifications of a channel. */
export const syncErrors = (ch: RecordingChannel): any[] => ch.events.filter(isSyncError);
/** Heartbeat notifications of a channel. */
export const heartbeats = (ch: RecordingChannel): any[] => ch.frames.filter((f) => f.event?.['hub.event'] === 'heartbeat');
/** Event names of a channel's notifications, in order. */
export const names = (ch: RecordingChannel): string[] => notifications(ch).map((f) => f.event['hub.event']);
/** Confirmation frames of a channel. */
export const confirmations = (ch: RecordingChannel): any[] => ch.frames.filter((f) => f['hub.mode'] === 'subscribe');
/** Denial frames of a channel. */
export const denials = (ch: RecordingChannel): any[] => ch.frames.filter((f) => f['hub.mode'] === 'denied');

/** The SyncError's details.coding as system suffix → code. */
export function syncCodings(frame: any): Record<string, string> {
  const issue = frame.event.context[0].resource.issue[0];
  const out: Record<string, string> = {};
  for (const c of issue.details.coding) out[String(c.system).replace('https://fhircast.hl7.org/events/syncerror/', '')] = c.code;
  return out;
}

/** Builds a hub with a fresh topic. Heartbeats are off unless asked for. */
export async function world(options: Partial<HubOptions> = {}) {
  const made = await makeHub(options);
  const topic = made.hub.createTopic();
  /** Moves the fake clock in steps, letting the hub run each deadline as a door would. */
  const run = (ms: number, step = 1000) => {
    for (let done = 0; done < ms; done += step) made.tick(Math.min(step, ms - done));
  };
  return { ...made, topic, run };
}

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
