// Worklist / EHR: the app that drives the session. Picking a patient or a study publishes
// Patient-open / ImagingStudy-open; its context tabs follow the topic's open contexts (multi-tab:
// selecting a tab re-sends that open, closing one sends the -close); SyncErrors are listed.
import {
  byId, joinSession, renderPatientBanner, clock, describeError, h, logoutReason, setStatus, shortId, showFatal,
  showSignedOut,
} from '../shared/common.js';
import {
  OpenContexts, accessionOf, ageOf, entryResource, labelOf, loadWorklist, modalityOf, mrnOf,
  patientName, readSyncError, refOf, sexOf, studyTime, visitOf,
} from '../shared/fhir.js';

const APP = 'Worklist';
const EVENTS = [
  'Patient-open', 'Patient-close', 'Encounter-open', 'Encounter-close', 'ImagingStudy-open', 'ImagingStudy-close',
  'DiagnosticReport-open', 'DiagnosticReport-close', 'SyncError', 'userLogout', 'Home-open',
];

const modalityNames = { CT: 'Computed tomography', MR: 'Magnetic resonance', US: 'Ultrasound', CR: 'Computed radiography', MG: 'Mammography' };
const contexts = new OpenContexts();
/** Requests this tab sent, by event id, so a SyncError about one can offer to resend it. */
const sent = new Map();
let hub;
let topic = '';
let data;

const Tabcast = /** @type {any} */ (globalThis).Tabcast;
if (!Tabcast) showFatal('The tabcast script /tabcast/tabcast.iife.js did not load');
else void start();

async function start() {
  const status = byId('status');
  ({ hub, topic } = await joinSession(() => Tabcast.connect({ appName: APP })));
  data = await loadWorklist();
  renderWorklist();
  byId('filter-modality').addEventListener('change', renderWorklist);
  byId('filter-text').addEventListener('input', renderWorklist);
  byId('home').addEventListener('click', () => send('Home-open', []));
  byId('clear-syncerrors').addEventListener('click', () => {
    byId('syncerrors').replaceChildren();
    renderSyncErrorsEmpty();
  });
  await hub.subscribe({ topic, events: EVENTS, subscriberName: APP }, onEvent);
  setStatus(status, 'ok', 'Connected');
  render();
}

/** Every notification the hub sends us (our own requests come back too, as their broadcast). */
function onEvent(notification) {
  const name = notification.event['hub.event'];
  if (name.toLowerCase() === 'syncerror') {
    addSyncError(readSyncError(notification));
    return;
  }
  const mine = sent.has(notification.id);
  activity(`${mine ? 'echo' : 'received'} ${name} ${describeContext(notification.event.context, name)}`);
  if (contexts.apply(notification)) render();
  if (name.toLowerCase() === 'userlogout') showSignedOut(logoutReason(notification));
}

// ---- publishing ------------------------------------------------------------------------------

/** Requests a context change; the hub answers 202 or rejects with a HubError. */
async function send(eventName, context, original) {
  const id = original?.id ?? crypto.randomUUID();
  const timestamp = original?.timestamp ?? new Date().toISOString();
  sent.set(id, { eventName, context, timestamp });
  if (sent.size > 50) sent.delete(sent.keys().next().value);
  try {
    const answer = await hub.publish(topic, { 'hub.event': eventName, context, id, timestamp });
    activity(`sent ${eventName}: ${answer.status} accepted`);
  } catch (error) {
    activity(`sent ${eventName}: rejected ${describeError(error)}`, 'err');
  }
}

const openPatient = (patient) => send('Patient-open', [{ key: 'patient', resource: patient }]);

function openStudy(study) {
  const patient = data.byRef.get(study.subject.reference);
  const encounter = study.encounter ? data.byRef.get(study.encounter.reference) : undefined;
  const context = [{ key: 'study', resource: study }];
  if (encounter) context.push({ key: 'encounter', resource: encounter });
  if (patient) context.push({ key: 'patient', resource: patient });
  return send('ImagingStudy-open', context);
}

// ---- rendering -------------------------------------------------------------------------------

function renderWorklist() {
  const modality = /** @type {HTMLSelectElement} */ (byId('filter-modality')).value;
  const text = /** @type {HTMLInputElement} */ (byId('filter-text')).value.trim().toLowerCase();
  const rows = [];
  for (const study of data.studies) {
    const patient = data.byRef.get(study.subject.reference);
    const haystack = `${patientName(patient)} ${mrnOf(patient)} ${accessionOf(study)} ${study.description}`.toLowerCase();
    if (modality && modalityOf(study) !== modality) continue;
    if (text && !haystack.includes(text)) continue;
    const m = modalityOf(study);
    rows.push(
      h('tr', { dataset: { ref: refOf(study), patient: refOf(patient) } },
        h('td', { class: 'mono col-time' }, study.started.slice(11, 16)),
        h('td', { class: 'name-cell' },
          h('button', { type: 'button', class: 'btn-quiet', title: 'Patient-open', 'aria-label': `Open patient ${patientName(patient)}`, onclick: () => openPatient(patient) }, patientName(patient)),
          h('span', { class: 'sub' }, `MRN ${mrnOf(patient)} · ${ageOf(patient.birthDate)} y ${sexOf(patient)}`)),
        h('td', { class: 'mono' }, accessionOf(study), h('span', { class: 'visually-hidden open-flag' })),
        h('td', {}, h('span', { class: 'modality', dataset: { m }, title: modalityNames[m] ?? m }, m)),
        h('td', { class: 'wrap' }, study.description, h('span', { class: 'sub hide-narrow' }, study.reasonCode?.[0]?.text ?? '')),
        h('td', {}, h('button', { type: 'button', class: 'btn-primary', title: 'ImagingStudy-open', 'aria-label': `Open study ${accessionOf(study)}`, onclick: () => openStudy(study) }, 'Open'))),
    );
  }
  byId('worklist-body').replaceChildren(...rows);
  byId('worklist-count').textContent = `${rows.length} of ${data.studies.length} studies · synthetic data, no real patients`;
  markRows();
}

function render() {
  renderTabs();
  renderCurrent();
  renderBanner();
  markRows();
}

function tabTitle(ctx) {
  if (ctx.type === 'Patient') return patientName(ctx.resource);
  if (ctx.type === 'ImagingStudy') return `${accessionOf(ctx.resource)} ${modalityOf(ctx.resource)}`;
  if (ctx.type === 'DiagnosticReport') {
    const study = entryResource(ctx.context, 'study');
    return study ? accessionOf(study) : labelOf(ctx.resource);
  }
  return labelOf(ctx.resource) || ctx.id;
}

function renderTabs() {
  const items = [];
  for (const [ref, ctx] of contexts.contexts) {
    const current = contexts.current === ref;
    const title = tabTitle(ctx);
    items.push(
      h('li', { class: `ctx-tab${current ? ' is-current' : ''}`, dataset: { ref } },
        h('button', {
          type: 'button', class: 'ctx-open', 'aria-current': current ? 'true' : undefined,
          title: `${ctx.event}: make ${ref} current again`,
          onclick: () => send(ctx.event, ctx.context),
        }, h('span', { class: 'ctx-type' }, ctx.type === 'ImagingStudy' ? 'Study' : ctx.type === 'DiagnosticReport' ? 'Report' : ctx.type), ' ', title),
        h('button', {
          type: 'button', class: 'ctx-close', 'aria-label': `Close ${title}`, title: `${ctx.type}-close`,
          onclick: () => send(`${ctx.type}-close`, ctx.context),
        }, '×')),
    );
  }
  byId('tabs').replaceChildren(...items);
  byId('tabs-empty').hidden = items.length > 0;
}

function renderCurrent() {
  const ctx = contexts.currentContext();
  const box = byId('current');
  if (!ctx) {
    box.replaceChildren(h('p', { class: 'empty-note' }, contexts.contexts.size ? 'None current (Home). Select a tab to resume.' : 'No current context.'));
    return;
  }
  const facts = [['Context', `${ctx.type}/${ctx.id}`]];
  const study = ctx.type === 'ImagingStudy' ? ctx.resource : entryResource(ctx.context, 'study');
  const encounter = entryResource(ctx.context, 'encounter');
  if (ctx.type === 'DiagnosticReport') facts.push(['Report status', ctx.resource?.status ?? '—']);
  if (study) {
    facts.push(['Accession', accessionOf(study)], ['Procedure', study.description ?? modalityOf(study)],
      ['Acquired', studyTime(study.started)], ['Indication', study.reasonCode?.[0]?.text ?? '—'], ['Referrer', study.referrer?.display ?? '—']);
  }
  if (encounter) facts.push(['Visit', `${visitOf(encounter)} · ${encounter.class?.display ?? encounter.class?.code ?? ''}`]);
  box.replaceChildren(
    h('dl', { class: 'facts', id: 'current-facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
      h('dt', {}, 'Version'), h('dd', {}, h('span', { class: 'chip version', title: 'context.versionId' }, shortId(ctx.versionId, 12)))),
  );
}

function renderBanner() {
  renderPatientBanner(OpenContexts.patientOf(contexts.currentContext()));
}

/** Highlights the worklist rows of the current study and marks those whose study is open. */
function markRows() {
  const current = contexts.currentContext();
  const currentStudy = current?.type === 'ImagingStudy' ? contexts.current : undefined;
  for (const tr of /** @type {NodeListOf<HTMLTableRowElement>} */ (document.querySelectorAll('#worklist-body tr'))) {
    const ref = tr.dataset.ref ?? '';
    tr.classList.toggle('is-current', ref === currentStudy);
    const open = contexts.contexts.has(ref);
    tr.classList.toggle('is-open', open);
    const flag = tr.querySelector('.open-flag');
    if (flag) flag.textContent = open ? ' (open)' : '';
  }
}

// ---- sync errors and activity ------------------------------------------------------------------

function addSyncError(info) {
  const original = info.eventId ? sent.get(info.eventId) : undefined;
  const item = h('article', { class: 'syncerror', 'aria-label': `Sync error from ${info.subscriber ?? 'a subscriber'}` },
    h('div', { class: 'title' }, `${info.subscriber ?? 'A subscriber'} is out of sync`),
    h('div', {}, info.diagnostics),
    h('div', { class: 'meta' }, `${clock(Date.parse(info.timestamp) || Date.now())} · ${info.eventName ?? 'no event'} · event ${shortId(info.eventId, 12)}`),
    h('div', { class: 'btn-row' },
      original ? h('button', { type: 'button', onclick: () => send(original.eventName, original.context, { id: info.eventId, timestamp: original.timestamp }) }, `Resend ${original.eventName}`) : null,
      h('button', { type: 'button', class: 'btn-quiet', onclick: (e) => { e.currentTarget.closest('.syncerror').remove(); renderSyncErrorsEmpty(); } }, 'Dismiss')),
  );
  byId('syncerrors').prepend(item);
  renderSyncErrorsEmpty();
  activity(`SyncError: ${info.diagnostics}`, 'warn');
}

function renderSyncErrorsEmpty() {
  byId('syncerrors-empty').hidden = byId('syncerrors').childElementCount > 0;
}

function activity(text, kind = '') {
  const list = byId('activity');
  list.prepend(h('li', { class: kind }, h('span', { class: 'mono muted' }, clock()), ' ', text));
  while (list.childElementCount > 12) list.lastElementChild?.remove();
}

function describeContext(context, name) {
  const [key] = ['study', 'report', 'patient', 'encounter'].filter((k) => entryResource(context, k));
  if (!key) return name.toLowerCase() === 'userlogout' ? '(session ended)' : '';
  return labelOf(entryResource(context, key));
}
