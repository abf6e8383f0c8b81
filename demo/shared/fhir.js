// FHIR and FHIRcast helpers for the demo apps: labels for resources, context entries, the
// synthetic worklist data, and a small model of a topic's open contexts as a subscriber sees them.

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

/** Context key of each anchor type (the older events keep `study` and `report`). */
export const ANCHOR_KEYS = { Patient: 'patient', Encounter: 'encounter', ImagingStudy: 'study', DiagnosticReport: 'report' };

/** The STU3 code for a user-initiated logout (fhircast-spec.md §9.3). */
export const LOGOUT_CODE = { system: 'http://fhircast.hl7.org/CodeSystem/fhircast-codesystem', code: 'user-initiated', display: 'User initiated' };

let dataPromise;

/**
 * Loads demo/data/radiology-worklist.json once and indexes it.
 * @returns {Promise<{ patients: any[], encounters: any[], studies: any[], byRef: Map<string, any> }>}
 */
export function loadWorklist() {
  dataPromise ??= fetch(new URL('../data/radiology-worklist.json', import.meta.url)).then(async (res) => {
    if (!res.ok) throw new Error(`demo data: HTTP ${res.status}`);
    const bundle = await res.json();
    const resources = bundle.entry.map((e) => e.resource);
    const byRef = new Map(resources.map((r) => [`${r.resourceType}/${r.id}`, r]));
    const of = (type) => resources.filter((r) => r.resourceType === type);
    const studies = of('ImagingStudy').toSorted((a, b) => a.started.localeCompare(b.started));
    return { patients: of('Patient'), encounters: of('Encounter'), studies, byRef };
  });
  return dataPromise;
}

/** `Type/id` of a resource. */
export const refOf = (resource) => `${resource.resourceType}/${resource.id}`;

/** A FHIR Reference to a resource. */
export const referenceTo = (resource) => ({ reference: refOf(resource) });

/** The first identifier whose type has `code` (MR, ACSN, VN), else the first one. */
function identifierValue(resource, code) {
  const ids = resource?.identifier ?? [];
  const typed = ids.find((i) => i.type?.coding?.some((c) => c.system === V2_0203 && c.code === code));
  return (typed ?? ids[0])?.value ?? '';
}

export const mrnOf = (patient) => identifierValue(patient, 'MR');
export const accessionOf = (study) => identifierValue(study, 'ACSN');
export const visitOf = (encounter) => identifierValue(encounter, 'VN');
export const modalityOf = (study) => study?.modality?.[0]?.code ?? study?.series?.[0]?.modality?.code ?? '';
export const bodySiteOf = (study) => study?.series?.[0]?.bodySite?.display ?? '';

/** `LINDQVIST, Marta E`: family name first and in capitals, as PACS and RIS banners show it. */
export function patientName(patient) {
  const n = patient?.name?.[0];
  if (!n) return patient?.id ?? 'Unknown patient';
  return `${(n.family ?? '').toUpperCase()}, ${(n.given ?? []).join(' ')}`.trim();
}

/** Age in whole years at a date (default today). */
export function ageOf(birthDate, at = new Date()) {
  if (!birthDate) return undefined;
  const b = new Date(`${birthDate}T00:00:00Z`);
  let age = at.getUTCFullYear() - b.getUTCFullYear();
  const m = at.getUTCMonth() - b.getUTCMonth();
  if (m < 0 || (m === 0 && at.getUTCDate() < b.getUTCDate())) age -= 1;
  return age;
}

/** `F`, `M`, `O`, `U`. */
export const sexOf = (patient) => ({ female: 'F', male: 'M', other: 'O' })[patient?.gender] ?? 'U';

/** `1958-04-12 (66 y, F)`. */
export function demographics(patient) {
  const age = ageOf(patient?.birthDate);
  return `${patient?.birthDate ?? '—'}${age !== undefined ? ` (${age} y, ${sexOf(patient)})` : ''}`;
}

/** `2025-03-03 07:18` from an ISO instant, in UTC (the data is synthetic, so no zone games). */
export function studyTime(iso) {
  return iso ? iso.slice(0, 16).replace('T', ' ') : '—';
}

/** One-line label of a resource, for tabs, logs and content lists. */
export function labelOf(resource) {
  if (!resource) return '';
  switch (resource.resourceType) {
    case 'Patient':
      return `${patientName(resource)} · ${mrnOf(resource)}`;
    case 'ImagingStudy':
      return `${accessionOf(resource)} · ${resource.description ?? modalityOf(resource)}`;
    case 'Encounter':
      return `Visit ${visitOf(resource)}`;
    case 'DiagnosticReport':
      return `Report ${resource.identifier?.[0]?.value ?? resource.id}`;
    case 'Observation': {
      const size = resource.valueQuantity ? ` ${resource.valueQuantity.value} ${resource.valueQuantity.unit ?? ''}` : '';
      const site = resource.bodySite?.text ? ` (${resource.bodySite.text})` : '';
      return `${resource.code?.text ?? 'Observation'}${size}${site}`.trim();
    }
    default:
      return refOf(resource);
  }
}

/** The resource of a context entry with this key, if the entry carries a full resource. */
export function entryResource(context, key) {
  return (context ?? []).find((e) => e.key === key)?.resource;
}

/** `Type/id` named by a context entry, whether it holds a resource or a reference. */
export function entryRef(context, key) {
  const entry = (context ?? []).find((e) => e.key === key);
  if (!entry) return undefined;
  if (entry.resource) return refOf(entry.resource);
  return entry.reference?.reference;
}

/** Splits `Patient-open` into `['Patient', 'open']`; other names give `[name, '']`. */
export function splitEventName(name) {
  const m = /^([A-Za-z]+)-(open|close|update|select)$/i.exec(name ?? '');
  return m ? [m[1], m[2].toLowerCase()] : [name ?? '', ''];
}

/** Reads a SyncError notification: who failed, about which event, and why. */
export function readSyncError(notification) {
  const outcome = entryResource(notification.event.context, 'operationoutcome');
  const issue = outcome?.issue?.[0] ?? {};
  const coding = issue.details?.coding ?? [];
  const code = (suffix) => coding.find((c) => typeof c.system === 'string' && c.system.endsWith(`/syncerror/${suffix}`))?.code;
  return {
    id: notification.id,
    timestamp: notification.timestamp,
    diagnostics: issue.diagnostics ?? 'Synchronisation failed',
    eventId: code('eventid'),
    eventName: code('eventname'),
    subscriber: code('subscribername') ?? code('subscriber'),
  };
}

/** The userLogout context: a Parameters resource with code `user-initiated`. */
export function logoutContext() {
  return [{ key: 'parameters', resource: { resourceType: 'Parameters', parameter: [{ name: 'code', valueCoding: LOGOUT_CODE }] } }];
}

/**
 * A topic's open contexts as one subscriber learns them from notifications (fhircast-spec.md §6):
 * one per anchor, the last open wins, a close removes it, userLogout clears all, Home-open leaves
 * none current. The hub is the authority; this is the app's view for tabs and banners.
 */
export class OpenContexts {
  constructor() {
    /** @type {Map<string, {type: string, id: string, event: string, context: any[], versionId?: string, resource: any}>} */
    this.contexts = new Map();
    /** @type {string | undefined} `Type/id` of the current context. */
    this.current = undefined;
  }

  /** Applies one notification; returns true when the tabs or the current context changed. */
  apply(notification) {
    const ev = notification.event;
    const name = ev['hub.event'];
    const lower = name.toLowerCase();
    if (lower === 'userlogout') {
      this.contexts.clear();
      this.current = undefined;
      return true;
    }
    if (lower === 'home-open') {
      this.current = undefined;
      return true;
    }
    const [type, verb] = splitEventName(name);
    const anchorType = Object.keys(ANCHOR_KEYS).find((t) => t.toLowerCase() === type.toLowerCase()) ?? type;
    const key = ANCHOR_KEYS[anchorType] ?? anchorType.toLowerCase();
    const ref = entryRef(ev.context, key);
    if (!ref) return false;
    if (verb === 'open') {
      const resource = entryResource(ev.context, key);
      this.contexts.delete(ref); // re-insert so the tab order follows the opens
      this.contexts.set(ref, { type: anchorType, id: ref.split('/')[1], event: `${anchorType}-open`, context: ev.context, versionId: ev['context.versionId'], resource });
      this.current = ref;
      return true;
    }
    if (verb === 'close') {
      const had = this.contexts.delete(ref);
      if (this.current === ref) this.current = undefined;
      return had;
    }
    if (verb === 'update') {
      const ctx = this.contexts.get(ref);
      if (ctx && ev['context.versionId']) ctx.versionId = ev['context.versionId'];
      return false;
    }
    return false;
  }

  /** The current context, if any. */
  currentContext() {
    return this.current ? this.contexts.get(this.current) : undefined;
  }

  /** The patient of a context: its own resource, or its `patient` entry. */
  static patientOf(ctx) {
    if (!ctx) return undefined;
    return ctx.type === 'Patient' ? ctx.resource : entryResource(ctx.context, 'patient');
  }
}
