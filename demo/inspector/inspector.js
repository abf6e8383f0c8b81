// Hub inspector: what the hub in the SharedWorker holds (hub.inspect()), what it does (hub.observe()),
// the current context with its shared content (hub.getContext()), and bridges to remote hubs.
import { byId, joinSession, clockMs, describeError, h, setStatus, shortId, showFatal } from '../shared/common.js';
import { entryResource, labelOf, refOf } from '../shared/fhir.js';

const MAX_LOG = 2000;
const Tabcast = /** @type {any} */ (globalThis).Tabcast;

let hub;
let sessionTopic = '';
/** The topic the panels show. */
let selected = '';
/** @type {Array<{at: number, type: string, topic?: string, subscriber?: string, eventId?: string, event?: string, status?: number, detail?: unknown}>} */
const log = [];
let selectedEntry;
let bridge;
let offBridge;
let contextTimer;

if (!Tabcast) showFatal('The tabcast script /tabcast/tabcast.iife.js did not load');
else void start();

async function start() {
  ({ hub, topic: sessionTopic } = await joinSession(() => Tabcast.connect({ appName: 'Inspector' })));
  selected = sessionTopic;

  hub.observe((entry) => {
    log.unshift(entry);
    if (log.length > MAX_LOG) log.length = MAX_LOG;
    renderLog();
    if (entry.topic === selected && (entry.type === 'publish' || entry.type === 'subscribe' || entry.type === 'close')) scheduleContextRead();
    void refresh();
  });
  for (const id of ['log-type', 'log-topic']) byId(id).addEventListener('change', renderLog);
  byId('log-event').addEventListener('input', renderLog);
  byId('log-export').addEventListener('click', exportLog);
  byId('log-clear').addEventListener('click', () => {
    log.length = 0;
    selectedEntry = undefined;
    byId('log-detail').textContent = 'Select a log row to see its JSON.';
    renderLog();
  });
  byId('refresh-context').addEventListener('click', () => void readContext());
  setupBridgeForm();
  setStatus(byId('status'), 'ok', 'Connected');
  renderLog();
  await refresh();
  await readContext();
  setInterval(() => void refresh(), 1000); // lease countdowns
}

// ---- snapshot: topics, subscribers, open contexts -----------------------------------------------

/** The door a subscriber came through, as the inspector names it (inspect()'s `channel`). */
const CHANNEL_NAMES = { stu3: 'STU3', stomp: 'STOMP', websub: 'WebSub', 2019: '2019', typed: 'typed', bridge: 'bridge' };
function channelName(channel) {
  return CHANNEL_NAMES[channel] ?? (channel ? String(channel) : 'STU3');
}
/** What each channel label of inspect() means, as a tooltip. */
const CHANNEL_TITLES = {
  stu3: 'STU3 WebSocket (hub.fetch + hub.WebSocket, or tabcast serve)',
  stomp: 'STOMP 1.2 over {hub.url}/websocket',
  typed: 'the typed API (hub.subscribe)',
  bridge: 'a bridge to a remote hub',
  websub: 'WebSub callback',
  2019: 'the 2019 envelope',
};

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const snapshot = await hub.inspect();
    renderSnapshot(snapshot);
  } catch (error) {
    setStatus(byId('status'), 'error', `inspect failed: ${describeError(error)}`);
  } finally {
    refreshing = false;
  }
}

/** The bounds in force and what they made the hub forget (HUB-BOUND-07). */
function renderBounds(snapshot) {
  const b = snapshot.bounds;
  const f = snapshot.forgotten;
  if (!b || !f) return;
  const mib = (n) => `${Math.round((n / 1048576) * 10) / 10} MiB`;
  const hours = (ms) => (ms % 3600000 === 0 ? `${ms / 3600000} h` : `${ms / 1000} s`);
  byId('bounds').textContent =
    `Bounds: ${b.maxOpenContexts} open contexts per topic \u00b7 ${mib(b.maxContentBytes)} content per context \u00b7 ${b.maxTopics} topics \u00b7 idle topics forgotten after ${hours(b.idleTopicMs)} \u00b7 connect within ${b.connectTimeoutMs / 1000} s. ` +
    `Forgotten so far: ${f.contexts} contexts, ${f.topics} topics, ${f.subscriptions} unconnected subscriptions.`;
}

function renderSnapshot(snapshot) {
  const storage = byId('storage');
  if (snapshot.storage?.ok) setStatus(storage, 'ok', 'Storage OK');
  else setStatus(storage, 'error', `Storage error: ${snapshot.storage?.lastError ?? 'unknown'}`);
  // Stored records that failed validation at start were left out (HUB-SEC-15).
  if (snapshot.storage?.ok && snapshot.storage.malformed?.length) setStatus(storage, 'error', `Storage: ${snapshot.storage.malformed.length} malformed record(s) left out`);
  renderBounds(snapshot);

  const topics = snapshot.topics.toSorted((a, b) => (b.topic === sessionTopic) - (a.topic === sessionTopic) || b.subscribers.length - a.subscribers.length);
  byId('topics-note').textContent = `${topics.length} topic${topics.length === 1 ? '' : 's'} on this hub`;
  byId('topics').querySelector('tbody').replaceChildren(...topics.map((t) => h('tr', { class: t.topic === selected ? 'is-current' : '' },
    h('td', { class: 'mono', title: t.topic }, shortId(t.topic, 14), t.topic === sessionTopic ? h('span', { class: 'badge info', style: 'margin-left: 6px' }, 'this session') : null),
    h('td', { class: 'mono' }, t.current ?? '—'),
    h('td', {}, String(t.subscribers.filter((s) => s.connected).length), h('span', { class: 'muted' }, ` / ${t.subscribers.length}`)),
    h('td', {}, String(t.open.length)),
    h('td', {}, t.topic === selected ? h('span', { class: 'muted' }, 'shown') : h('button', { type: 'button', 'aria-label': `Show topic ${shortId(t.topic, 14)}`, onclick: () => select(t.topic) }, 'Show')))));

  const topic = snapshot.topics.find((t) => t.topic === selected);
  const now = Date.now();
  const subs = topic?.subscribers ?? [];
  byId('subscribers').querySelector('tbody').replaceChildren(...(subs.length ? subs.map((s) => h('tr', { dataset: { name: s.name } },
    h('td', {}, h('b', {}, s.name)),
    h('td', {}, h('span', { class: 'badge', title: CHANNEL_TITLES[s.channel] ?? '' }, channelName(s.channel))),
    h('td', {}, eventsCell(s.events)),
    h('td', { class: 'mono' }, formatLease(s.leaseRemainingSeconds)),
    h('td', {}, h('span', { class: `badge ${s.connected ? 'ok' : 'err'}` }, s.connected ? 'yes' : 'no')),
    h('td', { class: 'mono' }, s.lastAck ? h('span', { class: `badge ${s.lastAck.status < 300 ? 'ok' : 'warn'}` }, String(s.lastAck.status)) : '—',
      s.lastAck ? ` ${Math.max(0, Math.round((now - s.lastAck.at) / 1000))} s ago` : ''),
    h('td', { class: 'mono' }, String(s.pending)))) : [h('tr', {}, h('td', { colspan: 7, class: 'empty-note' }, 'No subscribers.'))]));

  const open = topic?.open ?? [];
  byId('open-contexts').querySelector('tbody').replaceChildren(...(open.length ? open.map((c) => h('tr', { class: c.current ? 'is-current' : '' },
    h('td', { class: 'mono', title: `opened by ${c.event}` }, `${c.type}/${c.id}`),
    h('td', {}, h('span', { class: 'chip version', title: c.versionId }, shortId(c.versionId, 8))),
    h('td', {}, String(c.contentCount)),
    h('td', {}, c.current ? h('span', { class: 'badge info' }, 'current') : ''))) : [h('tr', {}, h('td', { colspan: 4, class: 'empty-note' }, 'Nothing open.'))]));
}

/** `hub.events` as a short summary that opens into the full list. */
function eventsCell(events) {
  const list = events.split(',').filter(Boolean);
  if (list.length <= 2) return h('span', { class: 'mono' }, list.join(', '));
  return h('details', {}, h('summary', {}, `${list.length} events`), h('ul', { class: 'plain' }, ...list.map((e) => h('li', {}, e))));
}

function formatLease(seconds) {
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)} h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')} min`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${seconds} s`;
}

function select(topic) {
  selected = topic;
  void refresh();
  void readContext();
  renderLog();
}

// ---- current context and content (get current context) -------------------------------------------

function scheduleContextRead() {
  clearTimeout(contextTimer);
  contextTimer = setTimeout(() => void readContext(), 50);
}

async function readContext() {
  const view = byId('context-view');
  let answer;
  try {
    answer = await hub.getContext(selected);
  } catch (error) {
    view.replaceChildren(h('div', { class: 'notice err' }, `getContext failed: ${describeError(error)}`));
    return;
  }
  if (!answer['context.type']) {
    view.replaceChildren(h('p', { class: 'empty-note' }, 'No current context (context.type is empty).'), rawJson(answer));
    return;
  }
  const content = entryResource(answer.context, 'content');
  const entries = answer.context.filter((e) => e.key !== 'content');
  const items = content?.entry ?? [];
  view.replaceChildren(
    h('dl', { class: 'facts' },
      h('dt', {}, 'context.type'), h('dd', { id: 'context-type' }, answer['context.type']),
      h('dt', {}, 'context.versionId'), h('dd', {}, h('span', { class: 'chip version', id: 'context-version', title: answer['context.versionId'] }, shortId(answer['context.versionId'], 14))),
      ...entries.flatMap((e) => [h('dt', {}, e.key), h('dd', {}, e.resource ? `${refOf(e.resource)} · ${labelOf(e.resource)}` : JSON.stringify(e.reference ?? e))])),
    h('h3', { class: 'muted', style: 'font-size: 12px; margin: 8px 0 4px' }, `Content bundle (${items.length} entr${items.length === 1 ? 'y' : 'ies'})`),
    items.length
      ? h('div', { class: 'table-wrap' }, h('table', { id: 'content' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Resource'), h('th', { scope: 'col' }, 'Summary'), h('th', { scope: 'col' }, 'Status'))),
        h('tbody', {}, ...items.map((e) => h('tr', {},
          h('td', { class: 'mono' }, e.fullUrl ?? refOf(e.resource)),
          h('td', { class: 'wrap' }, labelOf(e.resource)),
          h('td', {}, e.resource?.status ?? ''))))))
      : h('p', { class: 'empty-note', id: 'content-empty' }, 'No shared content.'),
    rawJson(answer),
  );
}

function rawJson(value) {
  return h('details', {}, h('summary', {}, 'JSON (get current context)'), h('pre', { class: 'json' }, JSON.stringify(value, null, 2)));
}

// ---- log ------------------------------------------------------------------------------------------

function filteredLog() {
  const type = /** @type {HTMLSelectElement} */ (byId('log-type')).value;
  const eventText = /** @type {HTMLInputElement} */ (byId('log-event')).value.trim().toLowerCase();
  const topicMode = /** @type {HTMLSelectElement} */ (byId('log-topic')).value;
  return log.filter((e) => (!type || e.type === type)
    && (!eventText || (e.event ?? '').toLowerCase().includes(eventText))
    && (topicMode !== 'session' || !e.topic || e.topic === selected));
}

function renderLog() {
  const rows = filteredLog().slice(0, 400);
  byId('log').querySelector('tbody').replaceChildren(...rows.map((entry) => {
    const tr = h('tr', {
      class: `t-${entry.type}`, tabindex: '0', 'aria-selected': entry === selectedEntry ? 'true' : 'false',
      onclick: () => showEntry(entry, tr),
      onkeydown: (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          showEntry(entry, tr);
        }
      },
    },
    h('td', {}, clockMs(entry.at)),
    h('td', {}, entry.type === 'syncerror' ? h('span', { class: 'badge warn' }, 'syncerror') : entry.type === 'reject' || entry.type === 'storage-error' ? h('span', { class: 'badge err' }, entry.type) : entry.type),
    h('td', {}, entry.event ?? ''),
    h('td', {}, entry.subscriber ?? ''),
    h('td', {}, entry.status !== undefined ? String(entry.status) : ''),
    h('td', { title: entry.eventId ?? '' }, shortId(entry.eventId, 10) === '—' ? '' : shortId(entry.eventId, 10)),
    h('td', { title: entry.topic ?? '' }, entry.topic ? shortId(entry.topic, 8) : ''));
    return tr;
  }));
  const total = filteredLog().length;
  byId('log-count').textContent = `${total} of ${log.length} entries${total > rows.length ? ` (newest ${rows.length} shown)` : ''} · since this page opened`;
}

function showEntry(entry, tr) {
  selectedEntry = entry;
  for (const row of byId('log').querySelectorAll('tr[aria-selected="true"]')) row.setAttribute('aria-selected', 'false');
  tr.setAttribute('aria-selected', 'true');
  byId('log-detail').textContent = JSON.stringify({ ...entry, at: new Date(entry.at).toISOString() }, null, 2);
}

function exportLog() {
  const payload = { exportedAt: new Date().toISOString(), hubUrl: hub.hubUrl, sessionTopic, entries: log.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
  const url = URL.createObjectURL(new Blob([JSON.stringify(payload, null, 2)], { type: 'application/json' }));
  const a = h('a', { href: url, download: `tabcast-log-${new Date().toISOString().replace(/[:.]/g, '-')}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---- bridge ---------------------------------------------------------------------------------------

function setupBridgeForm() {
  const params = new URL(location.href).searchParams;
  const url = /** @type {HTMLInputElement} */ (byId('bridge-url'));
  const remote = params.get('remote');
  if (remote) url.value = remote;
  if (params.get('remoteTopic')) /** @type {HTMLInputElement} */ (byId('bridge-topic')).value = params.get('remoteTopic') ?? '';
  byId('bridge-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void startBridge();
  });
  byId('bridge-stop').addEventListener('click', () => void stopBridge());
  if (remote && params.get('connect') !== 'no') void startBridge();
}

async function startBridge() {
  const config = {
    topic: selected,
    remoteHubUrl: /** @type {HTMLInputElement} */ (byId('bridge-url')).value.trim(),
    remoteTopic: /** @type {HTMLInputElement} */ (byId('bridge-topic')).value.trim() || undefined,
    token: /** @type {HTMLInputElement} */ (byId('bridge-token')).value || undefined,
    dialect: /** @type {HTMLSelectElement} */ (byId('bridge-dialect')).value,
  };
  if (!config.remoteHubUrl) return;
  await stopBridge();
  renderBridge({ state: 'connecting', eventsIn: 0, eventsOut: 0 }, config);
  try {
    bridge = await hub.bridge(config);
  } catch (error) {
    byId('bridge-status').replaceChildren(h('div', { class: 'notice err', role: 'alert' }, `Bridge refused: ${describeError(error)}`));
    return;
  }
  offBridge = bridge.onStatus((status) => renderBridge(status, config));
  renderBridge(bridge.status, config);
  /** @type {HTMLButtonElement} */ (byId('bridge-stop')).disabled = false;
}

async function stopBridge() {
  if (!bridge) return;
  offBridge?.();
  const b = bridge;
  bridge = undefined;
  try {
    await b.stop();
  } finally {
    renderBridge({ ...b.status, state: 'stopped' }, undefined);
    /** @type {HTMLButtonElement} */ (byId('bridge-stop')).disabled = true;
  }
}

function renderBridge(status, config) {
  const facts = [
    ['State', h('b', { class: 'bridge-state', id: 'bridge-state', dataset: { state: status.state } }, status.state)],
    ['Events in / out', `${status.eventsIn ?? 0} / ${status.eventsOut ?? 0}`],
    ['Round trip', status.lastRttMs !== undefined ? `${Math.round(status.lastRttMs)} ms` : '—'],
  ];
  if (config) facts.unshift(['Relays', `${shortId(config.topic, 10)} ⇄ ${config.remoteHubUrl}${config.remoteTopic ? ` (${config.remoteTopic})` : ''} · ${config.dialect}`]);
  if (status.lastError) facts.push(['Last error', h('span', { class: 'bridge-error' }, String(status.lastError))]);
  byId('bridge-status').replaceChildren(h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    config ? tryItFromATerminal(config) : '');
}

/** A curl command that plays "another system" on the remote hub: the demo apps follow it through the bridge. */
function tryItFromATerminal(config) {
  const body = {
    id: `curl-${Date.now().toString(36)}`,
    event: {
      'hub.topic': config.remoteTopic ?? config.topic,
      'hub.event': 'Patient-open',
      context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'pt-400239', identifier: [{ system: 'urn:oid:2.16.840.1.113883.3.9999.1.2', value: '0400239' }], name: [{ family: 'Raman', given: ['Priya', 'S'] }], gender: 'female', birthDate: '1984-01-22' } }],
    },
  };
  const auth = config.token ? " -H 'authorization: Bearer <token>'" : '';
  const command = `curl -i -X POST '${config.remoteHubUrl}' -H 'content-type: application/json'${auth} -d '${JSON.stringify(body)}'`;
  return h('details', { style: 'margin-top: 6px' }, h('summary', {}, 'Try it: publish on the remote hub from a terminal'),
    h('pre', { class: 'json', style: 'white-space: pre-wrap; overflow-wrap: anywhere' }, command));
}
