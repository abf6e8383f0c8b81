// One tab of the "day" benchmark (bench/lib/day.mjs): a radiologist's day, a new study id on every
// event. Tab A publishes; tab B is subscribed and stamps when each notification arrives.
const params = new URLSearchParams(location.search);
let hub;
const arrivals = new Map(); // event id → absolute ms at B's callback
/** Time every tab of the browser shares (performance.timeOrigin differs per tab). */
const abs = () => performance.timeOrigin + performance.now();

const studyOpen = (n) => ({
  id: `day-${n}-${Math.random().toString(36).slice(2, 8)}`,
  'hub.event': 'ImagingStudy-open',
  context: [
    { key: 'study', resource: { resourceType: 'ImagingStudy', id: `st-${n}`, status: 'available', subject: { reference: `Patient/p-${n % 500}` }, identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:2.25.${n}` }] } },
    { key: 'patient', resource: { resourceType: 'Patient', id: `p-${n % 500}`, identifier: [{ system: 'urn:mrn', value: `MRN-${n % 500}` }] } },
  ],
});

window.day = {
  async connect() {
    hub = await Tabcast.connect({ appName: `day ${params.get('name') ?? 'tab'}` });
  },
  createTopic: () => hub.createTopic(),
  async subscribe(topic) {
    await hub.subscribe({ topic, events: ['ImagingStudy-open'], subscriberName: 'day viewer' }, (n) => arrivals.set(n.id, abs()));
  },
  /** Publishes studies [from, to) in waves of `wave` concurrent publishes, each awaited to its 202. */
  async fill({ topic, from, to, wave }) {
    for (let n = from; n < to; n += wave) {
      const batch = [];
      for (let k = n; k < Math.min(to, n + wave); k++) batch.push(hub.publish(topic, studyOpen(k)));
      await Promise.all(batch);
    }
  },
  /** `samples` new studies, one at a time: [event id, sent (abs ms), 202 after (ms)]. */
  async measure({ topic, from, samples }) {
    const out = [];
    for (let i = 0; i < samples; i++) {
      const req = studyOpen(from + i);
      const sent = abs();
      const t0 = performance.now();
      await hub.publish(topic, req);
      out.push([req.id, sent, performance.now() - t0]);
      await new Promise((r) => setTimeout(r, 5));
    }
    return out;
  },
  /** B: arrival times of these ids. */
  arrivals: (ids) => ids.map((id) => arrivals.get(id) ?? null),
  clearArrivals: () => arrivals.clear(),
  /** How many open contexts the hub holds on the topic (the bound keeps it at 100). */
  held: async (topic) => (await hub.inspect()).topics.find((t) => t.topic === topic)?.open.length ?? 0,
};
window.dayReady = true;
