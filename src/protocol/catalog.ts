/**
 * The FHIRcast STU3 event catalog as one data table: adding an event means adding a row.
 * Keys, cardinality and resource types follow fhircast-spec.md §10.
 */

/** How one context key of an event is constrained. */
export interface ContextKeyRule {
  key: string;
  min: number;
  max: number;
  /** The FHIR resource type the entry must hold (as `resource`, or as the type of a `reference`). */
  resourceType?: string;
  /** `resource`: a full resource; `reference`: a Reference or a resource (both accepted, see HUB-CONTENT-17). */
  shape: 'resource' | 'reference';
}

/** The role an event plays for the topic's open contexts. */
export type EventKind = 'open' | 'close' | 'update' | 'select' | 'syncerror' | 'logout' | 'hibernate' | 'home' | 'custom';

/** One event of the catalog (or one derived for another resource type). */
export interface EventDefinition {
  /** Spelling used in `.well-known` and in notifications. */
  name: string;
  kind: EventKind;
  /** The anchor resource type for open/close/update/select. */
  anchorType?: string;
  /** The context key that names the anchor. */
  anchorKey?: string;
  /** Key rules; empty with `exactKeys` means the context must be empty. */
  keys: ContextKeyRule[];
  /** True when no key at all is allowed (Home-open). */
  emptyContext?: boolean;
  /** Open events implied by this one (derived opens, fhircast-spec.md §6.4). */
  implies?: ImpliedOpen[];
  /** True for catalog rows; false for `<Type>-open` etc. of other resource types (relay-only checks). */
  catalog: boolean;
}

/** An open event implied by another: e.g. Encounter-open implies Patient-open. */
export interface ImpliedOpen {
  event: string;
  /** The key in the source context that holds the implied anchor. */
  fromKey: string;
  /** Keys copied from the source into the derived event, besides `fromKey`. */
  withKeys: string[];
}

const R = (key: string, min: number, max: number, resourceType?: string): ContextKeyRule => ({ key, min, max, resourceType, shape: 'resource' });
const REF = (key: string, min: number, max: number, resourceType?: string): ContextKeyRule => ({ key, min, max, resourceType, shape: 'reference' });
const MANY = Number.POSITIVE_INFINITY;

const patientKeys = [R('patient', 1, 1, 'Patient')];
const encounterKeys = [R('encounter', 1, 1, 'Encounter'), R('patient', 1, 1, 'Patient')];
const studyKeys = [R('study', 1, 1, 'ImagingStudy'), R('encounter', 0, 1, 'Encounter'), R('patient', 0, 1, 'Patient')];
const reportKeys = [
  R('report', 1, 1, 'DiagnosticReport'),
  R('encounter', 0, 1, 'Encounter'),
  R('study', 0, MANY, 'ImagingStudy'),
  R('patient', 1, 1, 'Patient'),
];

/** The STU3 catalog, in the order `.well-known` lists it. */
export const CATALOG: readonly EventDefinition[] = [
  { name: 'Patient-open', kind: 'open', anchorType: 'Patient', anchorKey: 'patient', keys: patientKeys, catalog: true },
  { name: 'Patient-close', kind: 'close', anchorType: 'Patient', anchorKey: 'patient', keys: patientKeys, catalog: true },
  {
    name: 'Encounter-open', kind: 'open', anchorType: 'Encounter', anchorKey: 'encounter', keys: encounterKeys, catalog: true,
    implies: [{ event: 'Patient-open', fromKey: 'patient', withKeys: [] }],
  },
  { name: 'Encounter-close', kind: 'close', anchorType: 'Encounter', anchorKey: 'encounter', keys: encounterKeys, catalog: true },
  {
    name: 'ImagingStudy-open', kind: 'open', anchorType: 'ImagingStudy', anchorKey: 'study', keys: studyKeys, catalog: true,
    implies: [{ event: 'Patient-open', fromKey: 'patient', withKeys: [] }],
  },
  { name: 'ImagingStudy-close', kind: 'close', anchorType: 'ImagingStudy', anchorKey: 'study', keys: studyKeys, catalog: true },
  {
    name: 'DiagnosticReport-open', kind: 'open', anchorType: 'DiagnosticReport', anchorKey: 'report', keys: reportKeys, catalog: true,
    implies: [
      { event: 'Patient-open', fromKey: 'patient', withKeys: [] },
      { event: 'Encounter-open', fromKey: 'encounter', withKeys: ['patient'] },
      { event: 'ImagingStudy-open', fromKey: 'study', withKeys: ['encounter', 'patient'] },
    ],
  },
  { name: 'DiagnosticReport-close', kind: 'close', anchorType: 'DiagnosticReport', anchorKey: 'report', keys: reportKeys, catalog: true },
  {
    name: 'DiagnosticReport-update', kind: 'update', anchorType: 'DiagnosticReport', anchorKey: 'report', catalog: true,
    keys: [REF('report', 1, 1, 'DiagnosticReport'), REF('patient', 0, 1, 'Patient'), R('updates', 1, 1, 'Bundle')],
  },
  {
    name: 'DiagnosticReport-select', kind: 'select', anchorType: 'DiagnosticReport', anchorKey: 'report', catalog: true,
    keys: [REF('report', 1, 1, 'DiagnosticReport'), REF('patient', 0, 1, 'Patient'), REF('select', 0, MANY)],
  },
  { name: 'SyncError', kind: 'syncerror', keys: [R('operationoutcome', 1, 1, 'OperationOutcome')], catalog: true },
  { name: 'userLogout', kind: 'logout', keys: [R('parameters', 1, 1, 'Parameters')], catalog: true },
  { name: 'userHibernate', kind: 'hibernate', keys: [R('parameters', 1, 1, 'Parameters')], catalog: true },
  { name: 'Home-open', kind: 'home', keys: [], emptyContext: true, catalog: true },
];

/** Every catalog event name, as `.well-known` lists them (HUB-DISC-02). */
export const CATALOG_EVENT_NAMES: readonly string[] = CATALOG.map((e) => e.name);

/** The anchor key an anchor type uses in the catalog (older events keep `study` and `report`). */
export const ANCHOR_KEYS: Readonly<Record<string, string>> = {
  Patient: 'patient',
  Encounter: 'encounter',
  ImagingStudy: 'study',
  DiagnosticReport: 'report',
};

const catalogByLowerName = new Map(CATALOG.map((e) => [e.name.toLowerCase(), e]));

/** Finds a catalog row by its canonical name. */
export function catalogEvent(name: string): EventDefinition | undefined {
  return catalogByLowerName.get(name.toLowerCase());
}

/** The spelling of an event name in notifications (HUB-NOTIFY-07): SyncError goes out as `syncerror`. */
export function notificationSpelling(canonical: string): string {
  return canonical === 'SyncError' ? 'syncerror' : canonical;
}
