// Reporting over STOMP (`?channel=stomp`): the app's subscription goes through the unmodified
// @stomp/stompjs on hub.WebSocket, to the in-page hub's STOMP channel ({hub.url}/websocket),
// so the inspector shows a STOMP subscriber beside the typed-API apps (docs/stomp.md).

const STOMPJS_URL = '/vendor/stompjs/stomp.umd.js';

/** Loads the stompjs UMD bundle once; resolves with its global. */
function loadStompJs() {
  const global = /** @type {any} */ (globalThis);
  if (global.StompJs) return Promise.resolve(global.StompJs);
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = STOMPJS_URL;
    script.onload = () => resolve(global.StompJs);
    script.onerror = () => reject(new Error(`${STOMPJS_URL} did not load`));
    document.head.append(script);
  });
}

/**
 * Subscribes to every event of `topic` over STOMP and hands each notification to `onEvent`, as
 * hub.subscribe would: a number ≥ 400 it returns, or a throw, NACKs with that status (or 500).
 * Resolves once the first subscription is made; stompjs reconnects and re-subscribes on its own.
 */
export async function subscribeOverStomp(hub, topic, subscriberName, onEvent) {
  const StompJs = await loadStompJs();
  const client = new StompJs.Client({
    webSocketFactory: () => new hub.WebSocket(`${hub.hubUrl}/websocket`, ['v12.stomp']),
    connectHeaders: { 'client-id': subscriberName },
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    reconnectDelay: 1000,
  });
  await new Promise((resolve, reject) => {
    client.onConnect = () => {
      client.subscribe(`/hub/fhircast/${encodeURIComponent(topic)}/*`, (message) => {
        let status;
        try {
          status = onEvent(JSON.parse(message.body));
        } catch {
          status = 500;
        }
        if (typeof status === 'number' && status >= 400) message.nack({ status: String(status) });
        else message.ack();
      }, { ack: 'client-individual' });
      resolve(client);
    };
    client.onStompError = (frame) => reject(new Error(frame.headers.message ?? 'the hub refused the STOMP connection'));
    client.activate();
  });
  addEventListener('pagehide', () => void client.deactivate());
  return client;
}
