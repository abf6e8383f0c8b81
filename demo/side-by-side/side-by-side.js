// Three apps in one window, for a screen share. Each iframe is a full app with its own connection
// to the one hub; this page only settles the topic first, so the three cannot pick different ones.
import { connect } from '/tabcast/tabcast.js';
import { byId, closeOnPageHide, connectOrExplain, launcherHref, resolveTopic, shortId } from '../shared/common.js';

const hub = await connectOrExplain(() => connect({ appName: 'Side by side' }));
closeOnPageHide(hub);
const topic = await resolveTopic(hub);
for (const app of ['worklist', 'viewer', 'reporting']) {
  /** @type {HTMLIFrameElement} */ (byId(`frame-${app}`)).src = `/demo/${app}/?topic=${encodeURIComponent(topic)}`;
}
byId('session').textContent = `topic ${shortId(topic, 10)}`;
byId('session').title = `FHIRcast topic (hub.topic): ${topic}`;
/** @type {HTMLAnchorElement} */ (byId('launcher-link')).href = launcherHref(topic);
