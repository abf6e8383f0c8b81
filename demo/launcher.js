// The launcher: joins or creates the demo session and writes the topic into every app link.
import { byId, closeOnPageHide, connectOrExplain, forgetTopic, resolveTopic, setStatus, shortId, showFatal } from './shared/common.js';

const APPS = ['worklist', 'viewer', 'reporting', 'inspector', 'side-by-side'];
const Tabcast = /** @type {any} */ (globalThis).Tabcast;

if (!Tabcast) showFatal('The tabcast script /tabcast/tabcast.iife.js did not load');
else void start();

async function start() {
  const remote = new URL(location.href).searchParams.get('remote') ?? '';
  if (remote) {
    byId('remote').textContent = remote;
    byId('remote').hidden = false;
    byId('remote-label').hidden = false;
  }
  const hub = await connectOrExplain(() => Tabcast.connect({ appName: 'Launcher' }));
  closeOnPageHide(hub);
  byId('hub-url').textContent = hub.hubUrl;
  const show = async () => {
    const topic = await resolveTopic(hub);
    byId('topic').textContent = topic;
    byId('topic').title = topic;
    for (const app of APPS) {
      const link = /** @type {HTMLAnchorElement} */ (byId(`link-${app}`));
      const url = new URL(`/demo/${app}/`, location.href);
      url.searchParams.set('topic', topic);
      if (remote && (app === 'inspector' || app === 'side-by-side')) url.searchParams.set('remote', remote);
      link.href = url.pathname + url.search;
    }
    const stomp = /** @type {HTMLAnchorElement} */ (byId('link-reporting-stomp'));
    stomp.href = `/demo/reporting/?channel=stomp&topic=${encodeURIComponent(topic)}`;
    setStatus(byId('status'), 'ok', `Session ${shortId(topic, 10)}`);
  };
  byId('new-session').addEventListener('click', async () => {
    forgetTopic();
    const url = new URL(location.href);
    url.searchParams.delete('topic');
    history.replaceState(null, '', url);
    await show();
  });
  await show();
}
