// Image viewer: follows ImagingStudy-open / -close (and hides a study when another patient is
// opened), can refuse the next change with 409 so the hub raises a SyncError, and logs the user out.
import { connect } from '/tabcast/tabcast.js';
import {
  byId, joinSession, clock, describeError, h, logoutReason, setStatus,
  showSignedOut,
} from '../shared/common.js';
import { accessionOf, demographics, entryRef, entryResource, logoutContext, modalityOf, mrnOf, patientName, refOf, studyTime } from '../shared/fhir.js';
import { defaultSeries, drawStudy } from './synthetic-image.js';

const APP = 'Viewer';
const EVENTS = ['ImagingStudy-open', 'ImagingStudy-close', 'Patient-open', 'Patient-close', 'Home-open', 'userLogout'];
/** Events the "refuse next change" toggle applies to: context changes, not logouts. */
const REFUSABLE = /^(imagingstudy|patient)-(open|close)$/i;

/** @type {{ study?: any, patient?: any, image: number, message?: string }} */
const view = { image: 1, message: 'Waiting for ImagingStudy-open' };
let hub;
let topic = '';

void start();

async function start() {
  ({ hub, topic } = await joinSession(() => connect({ appName: APP })));
  const slice = /** @type {HTMLInputElement} */ (byId('slice'));
  slice.addEventListener('input', () => {
    view.image = Number(slice.value);
    draw();
  });
  byId('image').addEventListener('wheel', (event) => {
    if (!view.study) return;
    event.preventDefault();
    slice.value = String(Number(slice.value) + (event.deltaY > 0 ? 1 : -1));
    slice.dispatchEvent(new Event('input'));
  }, { passive: false });
  byId('logout').addEventListener('click', logout);
  draw();
  await hub.subscribe({ topic, events: EVENTS, subscriberName: APP }, onEvent);
  setStatus(byId('status'), 'ok', 'Connected');
}

/** Answers each notification: undefined acks 200; a number is the status the hub receives. */
function onEvent(notification) {
  const name = notification.event['hub.event'];
  const context = notification.event.context;
  const refuse = /** @type {HTMLInputElement} */ (byId('refuse'));
  if (refuse.checked && REFUSABLE.test(name)) {
    refuse.checked = false;
    const what = entryResource(context, 'study') ? accessionOf(entryResource(context, 'study')) : patientName(entryResource(context, 'patient'));
    notice('warn', `Refused ${name} (${what}) with 409. Still showing ${view.study ? accessionOf(view.study) : 'nothing'}; the hub tells the other apps with a SyncError.`);
    activity(`refused ${name} ${what}: 409`, 'warn');
    setStatus(byId('status'), 'warn', 'Out of sync: refused a change');
    return 409;
  }
  if (REFUSABLE.test(name)) setStatus(byId('status'), 'ok', 'Connected');
  const lower = name.toLowerCase();
  if (lower === 'imagingstudy-open') {
    const study = entryResource(context, 'study');
    if (!study) return 400; // a study open without the study: refuse, the hub reports it
    show(study, entryResource(context, 'patient'));
    activity(`displaying ${accessionOf(study)}`);
    notice('', '');
  } else if (lower === 'imagingstudy-close') {
    if (view.study && entryRef(context, 'study') === refOf(view.study)) clear('Study closed');
    activity(`closed ${entryRef(context, 'study')}`);
  } else if (lower === 'patient-open') {
    const ref = entryRef(context, 'patient');
    // Patient safety: never keep showing one patient's images while another patient is in context.
    if (view.study && view.study.subject?.reference !== ref) clear(`Patient ${patientName(entryResource(context, 'patient'))} opened: no study selected`);
    activity(`patient ${patientName(entryResource(context, 'patient'))}`);
  } else if (lower === 'patient-close') {
    if (view.study && view.study.subject?.reference === entryRef(context, 'patient')) clear('Patient closed');
  } else if (lower === 'home-open') {
    clear('Home: no context');
    activity('Home-open');
  } else if (lower === 'userlogout') {
    clear('Signed out');
    activity('userLogout');
    showSignedOut(logoutReason(notification));
  }
  return undefined;
}

function show(study, patient) {
  view.study = study;
  view.patient = patient;
  const total = defaultSeries(study)?.numberOfInstances ?? 1;
  view.image = Math.max(1, Math.round(total / 2));
  const slice = /** @type {HTMLInputElement} */ (byId('slice'));
  slice.max = String(total);
  slice.value = String(view.image);
  byId('slice-label').hidden = false;
  render();
}

function clear(message) {
  view.study = undefined;
  view.patient = undefined;
  view.message = message;
  byId('slice-label').hidden = true;
  render();
}

function render() {
  const { study, patient } = view;
  const banner = byId('banner');
  if (patient) {
    banner.className = 'patient-banner';
    banner.replaceChildren(
      h('span', { class: 'name' }, patientName(patient)),
      h('span', { class: 'field' }, 'MRN ', h('b', {}, mrnOf(patient))),
      h('span', { class: 'field' }, 'DOB ', h('b', {}, demographics(patient))),
    );
  } else {
    banner.className = 'patient-banner empty';
    banner.replaceChildren(view.message ?? 'No study displayed');
  }
  const facts = byId('study-facts');
  if (!study) {
    facts.replaceChildren(h('p', { class: 'empty-note' }, view.message ?? 'No study displayed.'));
  } else {
    const rows = [
      ['Accession', accessionOf(study)],
      ['Modality', modalityOf(study)],
      ['Procedure', study.description ?? ''],
      ['Acquired', studyTime(study.started)],
      ['Series', `${study.numberOfSeries ?? study.series?.length ?? 0} series · ${study.numberOfInstances ?? '?'} images`],
      ['Referrer', study.referrer?.display ?? '—'],
      ['Indication', study.reasonCode?.[0]?.text ?? '—'],
    ];
    facts.replaceChildren(h('dl', { class: 'facts', id: 'study-dl' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
  }
  draw();
}

function draw() {
  const canvas = /** @type {HTMLCanvasElement} */ (byId('image'));
  drawStudy(canvas, view);
  const total = defaultSeries(view.study)?.numberOfInstances ?? 1;
  byId('slice-value').textContent = `${view.image} / ${total}`;
  canvas.setAttribute('aria-label', view.study
    ? `Synthetic ${modalityOf(view.study)} image, ${view.study.description}, accession ${accessionOf(view.study)}, image ${view.image} of ${total}`
    : view.message ?? 'No study displayed');
}

async function logout() {
  try {
    await hub.publish(topic, { 'hub.event': 'userLogout', context: logoutContext() });
    activity('sent userLogout (user-initiated)');
  } catch (error) {
    notice('err', `Log out failed: ${describeError(error)}`);
  }
}

function notice(kind, text) {
  const box = byId('sync-notice');
  box.replaceChildren(text ? h('div', { class: `notice ${kind}`, role: kind === 'err' ? 'alert' : undefined }, text) : '');
}

function activity(text, kind = '') {
  const list = byId('activity');
  list.prepend(h('li', { class: kind }, h('span', { class: 'mono muted' }, clock()), ' ', text));
  while (list.childElementCount > 10) list.lastElementChild?.remove();
}
