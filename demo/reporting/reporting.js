// Reporting: opens a DiagnosticReport for the study in context and shares its findings
// (Observations) through DiagnosticReport-update content sharing. Every update carries the
// context.versionId it is based on; a 409 (stale version) is recovered by re-reading the current
// context with getContext and retrying once.
import { connect } from '/tabcast/tabcast.js';
import {
  byId, joinSession, renderPatientBanner, clock, describeError, h, logoutReason, newId,
  setStatus, shortId, showSignedOut,
} from '../shared/common.js';
import {
  OpenContexts, accessionOf, entryRef, entryResource, labelOf, modalityOf, patientName,
  readSyncError, refOf, referenceTo, studyTime,
} from '../shared/fhir.js';
import { subscribeOverStomp } from './stomp-subscription.js';

const APP = 'Reporting';
const EVENTS = [
  'Patient-open', 'Patient-close', 'ImagingStudy-open', 'ImagingStudy-close', 'DiagnosticReport-open',
  'DiagnosticReport-close', 'DiagnosticReport-update', 'SyncError', 'userLogout', 'Home-open',
];
const SUGGESTIONS = {
  CT: ['Pulmonary nodule', 'Lymphadenopathy', 'Pleural effusion', 'Hepatic lesion', 'Appendicitis', 'Intracranial haemorrhage'],
  MR: ['Disc herniation', 'Meniscal tear', 'White matter lesion', 'Bone marrow oedema', 'Ligament tear'],
  US: ['Thyroid nodule', 'Hepatic steatosis', 'Renal cyst', 'Gallstones', 'Hydronephrosis'],
  CR: ['Consolidation', 'Fracture', 'Cardiomegaly', 'Pneumothorax', 'Joint effusion'],
  MG: ['Mass', 'Calcifications', 'Architectural distortion', 'Asymmetry'],
};
const FINDING_ID_SYSTEM = 'urn:oid:2.16.840.1.113883.3.9999.1.8'; // business identifiers for findings (spec §8.5)
const REPORT_ID_SYSTEM = 'urn:oid:2.16.840.1.113883.3.9999.1.7';

const contexts = new OpenContexts();
/**
 * Open reports this app knows, by `DiagnosticReport/id`.
 * @type {Map<string, {ref: string, report: any, patient: any, study: any, context: any[], versionId: string, versions: string[], findings: Map<string, any>, reads: number}>}
 */
const reports = new Map();
let hub;
let topic = '';
/** The finding being edited, if any. */
let editingId;

void start();

async function start() {
  ({ hub, topic } = await joinSession(() => connect({ appName: APP })));
  byId('finding-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void saveFinding();
  });
  byId('finding-cancel').addEventListener('click', () => editFinding(undefined));
  // ?channel=stomp: the same events over STOMP through hub.WebSocket (the mixed case of docs/stomp.md).
  if (new URL(location.href).searchParams.get('channel') === 'stomp') await subscribeOverStomp(hub, topic, `${APP} (STOMP)`, onEvent);
  else await hub.subscribe({ topic, events: EVENTS, subscriberName: APP }, onEvent);
  setStatus(byId('status'), 'ok', 'Connected');
  render();
}

// ---- what the hub tells us ------------------------------------------------------------------

function onEvent(notification) {
  const ev = notification.event;
  const name = ev['hub.event'];
  const lower = name.toLowerCase();
  if (lower === 'syncerror') {
    addSyncError(readSyncError(notification));
    return;
  }
  if (lower === 'diagnosticreport-open') {
    const report = entryResource(ev.context, 'report');
    const ref = refOf(report);
    const known = reports.get(ref);
    const versionId = ev['context.versionId'] ?? '';
    reports.set(ref, {
      ref, report, context: ev.context, versionId, versions: [...(known?.versions ?? []), versionId],
      patient: entryResource(ev.context, 'patient'), study: entryResource(ev.context, 'study'),
      findings: known?.findings ?? new Map(), reads: known?.reads ?? 0,
    });
    activity(`${name} ${ref} · version ${shortId(versionId)}`);
    void readContent(ref); // a re-opened report keeps its content on the hub: fetch it
  } else if (lower === 'diagnosticreport-update') {
    applyUpdate(notification);
  } else if (lower === 'diagnosticreport-close') {
    reports.delete(entryRef(ev.context, 'report') ?? '');
    activity(`${name} ${entryRef(ev.context, 'report')}`);
  } else if (lower === 'userlogout') {
    reports.clear();
    showSignedOut(logoutReason(notification));
  } else {
    activity(`${name} ${labelOf(entryResource(ev.context, 'study') ?? entryResource(ev.context, 'patient'))}`);
  }
  contexts.apply(notification);
  render();
}

/** Applies a DiagnosticReport-update broadcast (ours or another app's) to the local copy. */
function applyUpdate(notification) {
  const ev = notification.event;
  const rep = reports.get(entryRef(ev.context, 'report') ?? '');
  if (!rep) return;
  rep.reads += 1; // tells a getContext in flight that newer content arrived meanwhile
  const versionId = ev['context.versionId'];
  if (versionId === rep.versionId) return; // already read through getContext
  for (const entry of entryResource(ev.context, 'updates')?.entry ?? []) {
    const method = entry.request?.method;
    if (method === 'PUT' && entry.resource?.id) rep.findings.set(entry.resource.id, entry.resource);
    if (method === 'DELETE') rep.findings.delete(String(entry.request?.url ?? entry.fullUrl ?? '').split('/').pop());
  }
  rep.versionId = versionId;
  rep.versions.push(versionId);
  activity(`update ${shortId(ev['context.priorVersionId'])} → ${shortId(versionId)} (${entryResource(ev.context, 'updates')?.entry?.length ?? 0} entries)`);
}

/**
 * Reads the current context and, if it is this report, adopts its version and content. Repeats
 * when an update arrived while the read was in flight, so the copy never goes back in time.
 * @returns {Promise<boolean>} whether the report was the current context
 */
async function readContent(ref) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const rep = reports.get(ref);
    if (!rep) return false;
    const readsBefore = rep.reads;
    const answer = await hub.getContext(topic);
    if (answer['context.type'] !== 'DiagnosticReport' || entryRef(answer.context, 'report') !== ref) return false;
    if (reports.get(ref) !== rep) continue;
    if (rep.reads !== readsBefore) continue;
    const content = entryResource(answer.context, 'content');
    rep.findings = new Map((content?.entry ?? []).map((e) => [e.resource.id, e.resource]));
    if (answer['context.versionId'] && answer['context.versionId'] !== rep.versionId) {
      rep.versionId = answer['context.versionId'];
      rep.versions.push(rep.versionId);
    }
    render();
    return true;
  }
  return false;
}

// ---- what we ask the hub to do ------------------------------------------------------------------

function openReport(study, patient) {
  const encounter = entryResource(contexts.contexts.get(refOf(study))?.context, 'encounter');
  const report = {
    resourceType: 'DiagnosticReport',
    id: `dr-${study.id.replace(/^is-/, '')}`,
    identifier: [{ system: REPORT_ID_SYSTEM, value: `R${accessionOf(study).replace(/^A/, '')}` }],
    status: 'preliminary',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'RAD', display: 'Radiology' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '18748-4', display: 'Diagnostic imaging study' }], text: study.description },
    subject: referenceTo(patient),
    imagingStudy: [referenceTo(study)],
    effectiveDateTime: study.started,
  };
  const context = [{ key: 'report', resource: report }, { key: 'patient', resource: patient }, { key: 'study', resource: study }];
  if (encounter) context.push({ key: 'encounter', resource: encounter });
  return publish('DiagnosticReport-open', context);
}

function closeReport(rep) {
  return publish('DiagnosticReport-close', rep.context);
}

async function publish(eventName, context) {
  try {
    await hub.publish(topic, { 'hub.event': eventName, context });
    return true;
  } catch (error) {
    notice('err', `${eventName} was rejected: ${describeError(error)}`);
    return false;
  }
}

/**
 * Sends one DiagnosticReport-update (a transaction Bundle of PUT/DELETE entries). On 409 it re-reads
 * the context and retries once with the fresh version.
 */
async function sendUpdate(rep, entries) {
  const stale = /** @type {HTMLInputElement} */ (byId('stale-next'));
  let versionId = rep.versionId;
  if (stale.checked) {
    stale.checked = false;
    versionId = rep.versions.find((v) => v !== rep.versionId) ?? `${rep.versionId}-old`;
  }
  for (let attempt = 1; attempt <= 2; attempt++) {
    const body = {
      'hub.event': 'DiagnosticReport-update',
      'context.versionId': versionId,
      context: [
        { key: 'report', reference: { reference: rep.ref } },
        { key: 'patient', reference: referenceTo(rep.patient) },
        { key: 'updates', resource: { resourceType: 'Bundle', id: crypto.randomUUID(), type: 'transaction', entry: entries } },
      ],
    };
    try {
      await hub.publish(topic, body);
      if (attempt === 2) notice('ok', `Recovered: version ${shortId(body['context.versionId'])} was current after re-reading; the change is saved.`);
      return true;
    } catch (error) {
      const status = /** @type {any} */ (error)?.status;
      if (status !== 409 || attempt === 2) {
        notice('err', `Update rejected: ${describeError(error)}`);
        return false;
      }
      notice('warn', `Version ${shortId(versionId)} was stale (409). Re-reading the context…`);
      activity(`409 on version ${shortId(versionId)}: re-reading`, 'warn');
      if (!(await readContent(rep.ref))) {
        notice('err', 'Version conflict, and this report is not the current context: resume it, then try again.');
        return false;
      }
      versionId = rep.versionId;
    }
  }
  return false;
}

async function saveFinding() {
  const rep = currentReport();
  if (!rep) return;
  const text = /** @type {HTMLInputElement} */ (byId('finding-text')).value.trim();
  const site = /** @type {HTMLInputElement} */ (byId('finding-site')).value.trim();
  const sizeText = /** @type {HTMLInputElement} */ (byId('finding-size')).value.trim();
  if (!text) return;
  const previous = editingId ? rep.findings.get(editingId) : undefined;
  const id = previous?.id ?? newId('obs');
  const observation = {
    resourceType: 'Observation',
    id,
    identifier: previous?.identifier ?? [{ system: FINDING_ID_SYSTEM, value: crypto.randomUUID() }],
    status: 'preliminary',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'imaging', display: 'Imaging' }] }],
    code: { text },
    subject: referenceTo(rep.patient),
    derivedFrom: rep.study ? [referenceTo(rep.study)] : undefined,
    bodySite: site ? { text: site } : undefined,
    valueQuantity: sizeText ? { value: Number(sizeText), unit: 'mm', system: 'http://unitsofmeasure.org', code: 'mm' } : undefined,
  };
  const clean = JSON.parse(JSON.stringify(observation)); // drops the undefined members
  const ok = await sendUpdate(rep, [{ fullUrl: `Observation/${id}`, resource: clean, request: { method: 'PUT', url: `Observation/${id}` } }]);
  if (ok) {
    editFinding(undefined);
    byId('finding-text').focus();
  }
}

function removeFinding(rep, observation) {
  const url = `Observation/${observation.id}`;
  return sendUpdate(rep, [{ fullUrl: url, request: { method: 'DELETE', url } }]);
}

function editFinding(observation) {
  editingId = observation?.id;
  /** @type {HTMLInputElement} */ (byId('finding-text')).value = observation?.code?.text ?? '';
  /** @type {HTMLInputElement} */ (byId('finding-site')).value = observation?.bodySite?.text ?? '';
  /** @type {HTMLInputElement} */ (byId('finding-size')).value = observation?.valueQuantity?.value ?? '';
  byId('finding-submit').textContent = observation ? 'Save finding' : 'Add finding';
  byId('finding-cancel').hidden = !observation;
  if (observation) byId('finding-text').focus();
}

// ---- rendering ---------------------------------------------------------------------------------

/** The study shown: the current study, or the study of the current report. */
function studyInContext() {
  const ctx = contexts.currentContext();
  if (!ctx) return undefined;
  if (ctx.type === 'ImagingStudy') return ctx.resource;
  if (ctx.type === 'DiagnosticReport') return entryResource(ctx.context, 'study');
  return undefined;
}

/** The report that is the current context, if this app knows it. */
function currentReport() {
  const ctx = contexts.currentContext();
  return ctx?.type === 'DiagnosticReport' ? reports.get(contexts.current ?? '') : undefined;
}

function reportForStudy(study) {
  for (const rep of reports.values()) if (rep.study && refOf(rep.study) === refOf(study)) return rep;
  return undefined;
}

function render() {
  renderBackground();
  const study = studyInContext();
  const ctx = contexts.currentContext();
  const patient = OpenContexts.patientOf(ctx);
  renderPatientBanner(patient);
  renderStudy(study);
  const rep = currentReport();
  const body = byId('report-body');
  const meta = byId('report-meta');
  const form = byId('finding-form');
  form.hidden = !rep;
  if (rep) {
    meta.replaceChildren(
      h('span', { class: 'badge warn' }, rep.report.status ?? 'preliminary'), ' ',
      h('span', { class: 'chip', title: rep.ref }, rep.report.identifier?.[0]?.value ?? rep.report.id), ' ',
      h('span', { class: 'chip version', id: 'version', title: `context.versionId ${rep.versionId}` }, `version ${shortId(rep.versionId, 10)}`));
    body.replaceChildren(findingsTable(rep), h('div', { class: 'btn-row', style: 'margin: 8px 0' },
      h('button', { type: 'button', class: 'btn-danger', onclick: () => closeReport(rep) }, 'Close report')));
    const m = modalityOf(rep.study);
    byId('finding-suggestions').replaceChildren(...(SUGGESTIONS[m] ?? []).map((s) => h('option', { value: s })));
    return;
  }
  meta.replaceChildren();
  if (!study) {
    body.replaceChildren(h('p', { class: 'empty-note' }, patient ? `${patientName(patient)} is open, but no study: pick one in the worklist.` : 'Open a study in the worklist to start a report.'));
    return;
  }
  const existing = reportForStudy(study);
  const studyPatient = patient ?? existing?.patient;
  if (existing) {
    body.replaceChildren(h('div', { class: 'notice' },
      h('p', {}, `The report for ${accessionOf(study)} is open in the background (${existing.findings.size} finding${existing.findings.size === 1 ? '' : 's'} at the last read).`),
      h('button', { type: 'button', class: 'btn-primary', onclick: () => publish('DiagnosticReport-open', existing.context) }, 'Resume report')));
  } else {
    body.replaceChildren(h('div', {},
      h('p', {}, `No report yet for ${accessionOf(study)} (${study.description}).`),
      h('button', { type: 'button', class: 'btn-primary', disabled: !studyPatient, onclick: () => openReport(study, studyPatient) }, 'Start report')));
  }
}

/** Reports open on the topic but not shown: multi-tab, each keeps its content and version. */
function renderBackground() {
  const shown = currentReport()?.ref;
  const study = studyInContext();
  const others = [...reports.values()].filter((r) => r.ref !== shown && !(study && r.study && refOf(r.study) === refOf(study)));
  const box = byId('background-reports');
  box.hidden = others.length === 0;
  byId('background-list').replaceChildren(...others.map((r) => h('li', {},
    h('span', {}, `${r.report.identifier?.[0]?.value ?? r.report.id} · ${patientName(r.patient)} · ${r.study ? accessionOf(r.study) : ''}`), ' ',
    h('button', { type: 'button', 'aria-label': `Resume report ${r.report.identifier?.[0]?.value ?? r.report.id}`, onclick: () => publish('DiagnosticReport-open', r.context) }, 'Resume'))));
}

function findingsTable(rep) {
  if (rep.findings.size === 0) return h('p', { class: 'empty-note', id: 'findings-empty' }, 'No findings yet. Add the first one below.');
  return h('div', { class: 'table-wrap' }, h('table', { id: 'findings' },
    h('caption', {}, `${rep.findings.size} finding${rep.findings.size === 1 ? '' : 's'}, shared with every app of the session`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Finding'), h('th', { scope: 'col' }, 'Location'), h('th', { scope: 'col' }, 'Size'), h('th', { scope: 'col', class: 'hide-narrow' }, 'Id'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    h('tbody', {}, ...[...rep.findings.values()].map((o) => h('tr', {},
      h('td', { class: 'wrap' }, o.code?.text ?? ''),
      h('td', { class: 'wrap' }, o.bodySite?.text ?? '—'),
      h('td', {}, o.valueQuantity ? `${o.valueQuantity.value} ${o.valueQuantity.unit ?? ''}` : '—'),
      h('td', { class: 'mono muted hide-narrow' }, o.id),
      h('td', {}, h('div', { class: 'btn-row' },
        h('button', { type: 'button', 'aria-label': `Edit ${o.code?.text}`, onclick: () => editFinding(o) }, 'Edit'),
        h('button', { type: 'button', class: 'btn-danger', 'aria-label': `Remove ${o.code?.text}`, onclick: () => removeFinding(rep, o) }, 'Remove'))))))));
}


function renderStudy(study) {
  const box = byId('study-facts');
  if (!study) {
    box.replaceChildren(h('p', { class: 'empty-note' }, 'No study.'));
    return;
  }
  const rows = [['Accession', accessionOf(study)], ['Procedure', study.description ?? modalityOf(study)],
    ['Acquired', studyTime(study.started)], ['Indication', study.reasonCode?.[0]?.text ?? '—'], ['Referrer', study.referrer?.display ?? '—']];
  box.replaceChildren(h('dl', { class: 'facts', id: 'study-dl' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
}

function addSyncError(info) {
  const list = byId('syncerrors');
  list.prepend(h('article', { class: 'syncerror' },
    h('div', { class: 'title' }, `${info.subscriber ?? 'A subscriber'} is out of sync`),
    h('div', {}, info.diagnostics),
    h('div', { class: 'meta' }, `${clock(Date.parse(info.timestamp) || Date.now())} · ${info.eventName ?? ''}`)));
  while (list.childElementCount > 5) list.lastElementChild?.remove();
  byId('syncerrors-empty').hidden = true;
}

function notice(kind, text) {
  byId('report-notice').replaceChildren(h('div', { class: `notice ${kind}`, role: kind === 'err' ? 'alert' : 'status', style: 'margin-top: 8px' }, text));
}

function activity(text, kind = '') {
  const list = byId('activity');
  list.prepend(h('li', { class: kind }, h('span', { class: 'mono muted' }, clock()), ' ', text));
  while (list.childElementCount > 12) list.lastElementChild?.remove();
}
