// An STU3 client in the style of OHIF's FHIRcast extension, written against the global fetch and
// WebSocket only: a form subscribe with hub.callback and hub.lease, the endpoint sent back as the
// first frame, publishes to hub.url/{topic}, and no answers to notifications.
window.ohifStyle = {
  frames: [],
  socket: null,
  async subscribe(hubUrl, topic, events) {
    const body = new URLSearchParams({
      'hub.callback': 'https://viewer.example/callback',
      'hub.mode': 'subscribe',
      'hub.topic': topic,
      'hub.events': events.join(','),
      'hub.lease': '999',
      'hub.channel.type': 'websocket',
    });
    const response = await fetch(hubUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
    const answer = await response.json();
    const endpoint = answer['hub.channel.endpoint'];
    await new Promise((resolve, reject) => {
      const socket = new WebSocket(endpoint);
      this.socket = socket;
      socket.onopen = () => {
        socket.send(JSON.stringify({ 'hub.channel.endpoint': endpoint }));
        resolve();
      };
      socket.onerror = () => reject(new Error(`socket ${endpoint} failed`));
      socket.onmessage = (event) => this.frames.push(JSON.parse(event.data));
    });
    return { status: response.status, endpoint, isWebSocket: this.socket instanceof WebSocket };
  },
  async publish(hubUrl, topic, event, context) {
    const response = await fetch(`${hubUrl}/${topic}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ timestamp: new Date().toISOString(), id: crypto.randomUUID(), event: { 'hub.topic': topic, 'hub.event': event, context } }),
    });
    return response.status;
  },
  events() {
    return this.frames.filter((f) => f.event && f.event['hub.event'] !== 'heartbeat').map((f) => f.event['hub.event']);
  },
};
