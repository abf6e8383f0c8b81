// Test harness for the e2e pages: a thin layer over the global `Tabcast` that records what an app sees.
// Tests drive it with page.evaluate and wait on its state with page.waitForFunction.
window.harness = {
  hub: null,
  /** Every notification any typed subscription of this page received, in order. */
  events: [],
  /** Every frame received by standard sockets, per socket name. */
  frames: {},
  subs: [],
  async connect(options) {
    this.hub = await Tabcast.connect(options);
    return this.hub.hubUrl;
  },
  /** Subscribes; `answer` is what the callback returns (a status, 'throw', or nothing). */
  async subscribe(topic, events, options = {}) {
    const sub = await this.hub.subscribe({ topic, events, subscriberName: options.name }, (notification) => {
      this.events.push(notification);
      if (options.answer === 'throw') throw new Error('this app refuses to work');
      return options.answer;
    });
    this.subs.push(sub);
    return { endpoint: sub.endpoint, events: sub.events, leaseSeconds: sub.leaseSeconds };
  },
  eventNames() {
    return this.events.map((n) => n.event['hub.event']);
  },
  /** Publishes and returns either the answer or the HubError's parts. */
  async publish(topic, request) {
    try {
      return await this.hub.publish(topic, request);
    } catch (error) {
      return { error: { name: error.name, isHubError: error instanceof Tabcast.HubError, status: error.status, outcome: error.outcome, message: error.message } };
    }
  },
};
