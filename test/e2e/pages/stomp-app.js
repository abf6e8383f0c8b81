// A STOMP app written against @stomp/stompjs only (the UMD global StompJs, unmodified). The e2e
// tests hand it hub.WebSocket as its webSocketFactory, so it talks to the in-page hub.
window.createStompApp = function createStompApp({ url, WebSocket, connectHeaders = {}, protocols = ['v12.stomp', 'v11.stomp', 'v10.stomp'] }) {
  const record = { messages: [], errors: [], closes: [], receipts: [], connected: null, protocol: null };
  const client = new StompJs.Client({
    webSocketFactory: () => {
      const socket = new WebSocket(url, protocols);
      record.socket = socket;
      return socket;
    },
    connectHeaders,
    reconnectDelay: 0,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    onConnect: (frame) => {
      record.connected = frame.headers;
      record.protocol = record.socket.protocol;
    },
    onStompError: (frame) => record.errors.push({ headers: frame.headers, body: frame.body }),
    onWebSocketClose: (event) => record.closes.push({ code: event.code, reason: event.reason }),
  });
  const kept = new Map();
  return {
    record,
    client,
    activate: () => client.activate(),
    subscribe(destination, headers = {}) {
      const sub = client.subscribe(destination, (message) => {
        kept.set(message.headers['message-id'] + '|' + message.headers.subscription, message);
        record.messages.push({ headers: message.headers, body: JSON.parse(message.body) });
      }, headers);
      return sub.id;
    },
    /** SEND; resolves with the RECEIPT's headers. */
    send(destination, body, headers = {}) {
      const receipt = 'r-' + Math.random().toString(36).slice(2);
      const done = new Promise((resolve) => client.watchForReceipt(receipt, (frame) => resolve(frame.headers)));
      client.publish({ destination, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { ...headers, receipt } });
      return done;
    },
    ack(messageId, subscription) {
      kept.get(messageId + '|' + subscription).ack();
    },
    nack(messageId, subscription, headers = {}) {
      kept.get(messageId + '|' + subscription).nack(headers);
    },
    deactivate: () => client.deactivate(),
  };
};
