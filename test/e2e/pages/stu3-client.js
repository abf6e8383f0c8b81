// A plain STU3 FHIRcast client, written against the spec only: it is handed `fetch` and `WebSocket`
// and knows nothing of tabcast. The e2e tests give it hub.fetch and hub.WebSocket.
window.createStu3Client = function createStu3Client({ hubUrl, fetch, WebSocket }) {
  const form = (params) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
  const read = async (response) => {
    const type = response.headers.get('content-type') ?? '';
    const body = type.includes('json') ? await response.json() : await response.text();
    return { status: response.status, type, body };
  };
  return {
    discover: () => fetch(`${hubUrl}/.well-known/fhircast-configuration`).then(read),
    requestSubscription: (params) => fetch(hubUrl, form({ 'hub.channel.type': 'websocket', ...params })).then(read),
    publish: (notification) => fetch(hubUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(notification) }).then(read),
    getContext: (topic) => fetch(`${hubUrl}/${encodeURIComponent(topic)}`).then(read),
    /** Opens an endpoint; every frame is parsed and kept in `socket.received`, the close in `socket.closedWith`. */
    open(endpoint) {
      const socket = new WebSocket(endpoint);
      const record = { socket, received: [], closedWith: null, errors: 0, opened: false };
      socket.addEventListener('open', () => (record.opened = true));
      socket.onmessage = (event) => record.received.push(JSON.parse(event.data));
      socket.onerror = () => (record.errors += 1);
      socket.addEventListener('close', (event) => (record.closedWith = { code: event.code, reason: event.reason, wasClean: event.wasClean }));
      return record;
    },
    ack: (record, id, status) => record.socket.send(JSON.stringify({ id, status })),
  };
};
