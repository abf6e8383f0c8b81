// Helpers shared by the demo apps: DOM building, the session topic, ids, time formatting.
// Nothing here talks to tabcast; each app loads the library its own way and passes the hub in.

import { demographics, mrnOf, patientName } from './fhir.js';

// Inside the side-by-side view the apps drop the link back to the launcher (the frame has one).
if (window.top !== window) document.documentElement.classList.add('embedded');

/** Where the launcher remembers the demo session, so an app opened without ?topic= joins it. */
const TOPIC_KEY = 'tabcast-demo.topic';

/**
 * Builds an element. `attrs` keys: `class`, `text`, `on<event>` handlers, `dataset`, booleans, or
 * any attribute. Children may be nodes, strings, or null/false (skipped).
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'text') el.textContent = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Shorthand for document.getElementById that fails loudly when markup and code disagree. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo markup has no #${id}`);
  return el;
}

/**
 * The session topic: `?topic=`, else the one the launcher stored, else a new one from the hub.
 * Writes it back to the URL and to localStorage, so links and reloads keep the session.
 * @param {{ createTopic(): Promise<string> }} hub
 */
export async function resolveTopic(hub) {
  const url = new URL(location.href);
  let topic = url.searchParams.get('topic') || localStorage.getItem(TOPIC_KEY) || '';
  if (!topic) topic = await hub.createTopic();
  localStorage.setItem(TOPIC_KEY, topic);
  if (url.searchParams.get('topic') !== topic) {
    url.searchParams.set('topic', topic);
    history.replaceState(null, '', url);
  }
  return topic;
}

/** Forgets the stored session (the launcher's "New session"). */
export function forgetTopic() {
  localStorage.removeItem(TOPIC_KEY);
}

/** A short random id with a prefix, e.g. `obs-3f9a1c2b`. */
export function newId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return `${prefix}-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The first characters of a long opaque id, for display next to a title attribute with all of it. */
export function shortId(id, length = 8) {
  if (!id) return '—';
  return id.length > length ? `${id.slice(0, length)}…` : id;
}

/** `09:41:07` in local time. */
export function clock(at = Date.now()) {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** `09:41:07.123` for the event log. */
export function clockMs(at) {
  const d = new Date(at);
  return `${clock(at)}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** The app header's status line: `state` is ok, busy, warn or error. */
export function setStatus(el, state, text) {
  el.dataset.state = state;
  el.textContent = text;
}

/**
 * Connects through `connect()` and shows a readable message in `#app-error` when that fails
 * (e.g. the library was not built). Resolves with the hub, or never when it failed.
 * @template T
 * @param {() => Promise<T>} connect
 * @returns {Promise<T>}
 */
export async function connectOrExplain(connect) {
  try {
    return await connect();
  } catch (error) {
    showFatal(`Could not reach the tabcast hub: ${error instanceof Error ? error.message : String(error)}`);
    return new Promise(() => {});
  }
}

/**
 * Connects, joins the demo session's topic and shows it in the header (with the launcher link).
 * The hub says goodbye when the page goes away.
 * @param {() => Promise<any>} connect
 * @returns {Promise<{ hub: any, topic: string }>}
 */
export async function joinSession(connect) {
  const hub = await connectOrExplain(connect);
  closeOnPageHide(hub);
  const topic = await resolveTopic(hub);
  byId('session').textContent = `topic ${shortId(topic, 10)}`;
  byId('session').title = `FHIRcast topic (hub.topic): ${topic}`;
  /** @type {HTMLAnchorElement} */ (byId('launcher-link')).href = launcherHref(topic);
  return { hub, topic };
}

/**
 * Shows a patient in the page's banner (name, MRN, date of birth), or that there is none.
 * @param {any} patient
 */
export function renderPatientBanner(patient) {
  const banner = byId('banner');
  if (!patient) {
    banner.className = 'patient-banner empty';
    banner.replaceChildren('No patient in context');
    return;
  }
  banner.className = 'patient-banner';
  banner.replaceChildren(
    h('span', { class: 'name' }, patientName(patient)),
    h('span', { class: 'field' }, 'MRN ', h('b', {}, mrnOf(patient))),
    h('span', { class: 'field' }, 'DOB ', h('b', {}, demographics(patient))),
  );
}

/** Replaces the page body's main area with a fatal message. */
export function showFatal(message) {
  const box = document.getElementById('app-error');
  if (box) {
    box.hidden = false;
    box.textContent = `${message}. Run \`npm run demo\` (it builds the library when needed) and reload.`;
  }
}

/** Quiet exit: unsubscribe normally when the tab goes away; a page restored from the back/forward cache reloads. */
export function closeOnPageHide(hub) {
  addEventListener('pagehide', () => {
    hub.close().catch(() => undefined); // the page is going away; nothing left to report to
  });
  addEventListener('pageshow', (event) => {
    if (event.persisted) location.reload();
  });
}

/** The session links in an app header: back to the launcher, keeping the topic. */
export function launcherHref(topic) {
  return `/?topic=${encodeURIComponent(topic)}`;
}

/** A readable message for a rejected publish (a HubError has status and an OperationOutcome). */
export function describeError(error) {
  if (error && typeof error === 'object') {
    const status = /** @type {any} */ (error).status;
    const diagnostics = /** @type {any} */ (error).outcome?.issue?.[0]?.diagnostics ?? /** @type {any} */ (error).message;
    return status ? `${status}: ${diagnostics}` : String(diagnostics);
  }
  return String(error);
}

/**
 * Covers the app after a userLogout: its patient data is gone; "Sign in again" just removes the cover
 * (the demo has no real login).
 * @param {string} reason the logout code, e.g. user-initiated
 */
export function showSignedOut(reason) {
  document.querySelector('.overlay')?.remove();
  const button = h('button', { type: 'button', class: 'btn-primary' }, 'Sign in again');
  const overlay = h('div', { class: 'overlay', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'signed-out-title' },
    h('div', { class: 'box' },
      h('h2', { id: 'signed-out-title' }, 'Signed out'),
      h('p', {}, `The session ended (userLogout, ${reason}). This app closed the patient and cleared its screen.`),
      h('div', { class: 'btn-row' }, button)));
  button.addEventListener('click', () => overlay.remove());
  document.body.append(overlay);
  button.focus();
}

/** The logout code of a userLogout notification. */
export function logoutReason(notification) {
  const params = notification.event.context.find((e) => e.key === 'parameters')?.resource;
  const code = params?.parameter?.find((p) => p.name === 'code')?.valueCoding?.code;
  return code ?? 'no reason given';
}
