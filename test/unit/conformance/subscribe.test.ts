import { describe, expect, it } from 'vitest';
import { formParams, parseSubscriptionRequest } from '../../../src/protocol/index.js';
import { RecordingChannel } from '../support/harness.js';
import {
  accept,
  ackAll,
  confirmations,
  denials,
  join,
  names,
  notifications,
  patient,
  patientContext,
  request,
  studyContext,
  throws,
  world,
} from './support.js';

/** Parses a form body as the doors do, then hands it to the engine. */
const form = (text: string) => parseSubscriptionRequest(formParams(new URLSearchParams(text)));

describe('HUB-SUB: subscribe, confirmation, denial, unsubscribe, leases', () => {
  it('HUB-SUB-02 every subscription made without an endpoint gets an endpoint no other subscription ever had', async () => {
    const { hub, topic } = await world();
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { endpoint } = hub.subscribe({ topic, events: ['Patient-open'] });
      expect(endpoint.length).toBeGreaterThan(0);
      expect(seen.has(endpoint)).toBe(false);
      seen.add(endpoint);
      if (i % 2 === 0) hub.unsubscribe(topic, endpoint);
    }
    const other = hub.createTopic();
    for (let i = 0; i < 50; i++) {
      const { endpoint } = hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${other}&hub.events=Patient-open`));
      expect(seen.has(endpoint)).toBe(false);
      seen.add(endpoint);
    }
  });

  it('HUB-SUB-03 a request without hub.mode, with an unknown hub.mode, without hub.topic or with hub.channel.type=webhook gets 400', async () => {
    const { hub, topic } = await world();
    const bad = [
      `hub.channel.type=websocket&hub.topic=${topic}&hub.events=Patient-open`,
      `hub.channel.type=websocket&hub.mode=publish&hub.topic=${topic}&hub.events=Patient-open`,
      `hub.channel.type=websocket&hub.mode=SUBSCRIBE-ME&hub.topic=${topic}&hub.events=Patient-open`,
      `hub.channel.type=websocket&hub.mode=subscribe&hub.events=Patient-open`,
      `hub.channel.type=websocket&hub.mode=subscribe&hub.topic=&hub.events=Patient-open`,
      `hub.channel.type=webhook&hub.mode=subscribe&hub.topic=${topic}&hub.events=Patient-open&hub.callback=https://app.example.org/cb`,
      `hub.channel.type=websub&hub.mode=subscribe&hub.topic=${topic}&hub.events=Patient-open`,
    ];
    for (const body of bad) throws(() => hub.handleSubscriptionRequest(form(body)), 400);
    expect(hub.inspect().topics.find((t) => t.topic === topic)?.subscribers ?? []).toHaveLength(0);
  });

  it('HUB-SUB-03 an unsubscribe without hub.channel.endpoint gets 400 and leaves the subscription alone', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open']);
    throws(() => hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=unsubscribe&hub.topic=${topic}`)), 400);
    throws(() => hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=unsubscribe&hub.topic=${topic}&hub.channel.endpoint=`)), 400);
    expect(viewer.channel.closedWith).toBeUndefined();
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    expect(names(viewer.channel)).toEqual(['Patient-open']);
  });

  it('HUB-SUB-04 a subscription request without hub.channel.type gets 400', async () => {
    const { hub, topic } = await world();
    throws(() => hub.handleSubscriptionRequest(form(`hub.mode=subscribe&hub.topic=${topic}&hub.events=Patient-open`)), 400);
    const viewer = join(hub, topic, ['Patient-open']);
    throws(() => hub.handleSubscriptionRequest(form(`hub.mode=unsubscribe&hub.topic=${topic}&hub.channel.endpoint=${viewer.endpoint}`)), 400);
    expect(hub.hasEndpoint(viewer.endpoint)).toBe(true);
  });

  it('HUB-SUB-05 a subscribe with no or empty hub.events gets 400, through the form and through the engine', async () => {
    const { hub, topic } = await world();
    throws(() => hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}`)), 400);
    throws(() => hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}&hub.events=`)), 400);
    throws(() => hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}&hub.events=%20,%20`)), 400);
    throws(() => hub.subscribe({ topic, events: [] }), 400);
    throws(() => hub.subscribe({ topic, events: ['', '  '] }), 400);
  });

  it('HUB-SUB-05 a parameter repeated in the body gets 400', async () => {
    const { hub, topic } = await world();
    throws(() => form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}&hub.events=Patient-open&hub.events=Patient-close`), 400);
    throws(() => form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}&hub.topic=${topic}&hub.events=Patient-open`), 400);
    expect(hub.inspect().topics.find((t) => t.topic === topic)?.subscribers ?? []).toHaveLength(0);
  });

  it('HUB-SUB-05 HUB-CHANGE-11 a subscribe naming an event the hub cannot recognise gets 400', async () => {
    const { hub, topic } = await world();
    for (const events of ['Patient-opened', 'Patient-open,Foo-open', 'patient_open', 'Patient-open,Study-open', 'com.example.research-transmogrify']) {
      throws(() => hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}&hub.events=${encodeURIComponent(events)}`)), 400);
    }
    throws(() => hub.subscribe({ topic, events: ['Patient-open', 'Radiology-switch'] }), 400);
    for (const name of ['constructor', '__proto__', 'toString']) throws(() => hub.subscribe({ topic, events: [name] }), 400);
    expect(hub.inspect().topics.find((t) => t.topic === topic)?.subscribers ?? []).toHaveLength(0);
  });

  it('HUB-SUB-07 the first frame on a new endpoint is the confirmation with exactly hub.mode, hub.topic, hub.events (string) and hub.lease_seconds (number)', async () => {
    const { hub, topic } = await world();
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    const { endpoint } = hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}&hub.events=Patient-open,Patient-close&hub.lease_seconds=3600`));
    const channel = new RecordingChannel();
    hub.connect(endpoint, channel);
    const first = channel.frames[0];
    expect(Object.keys(first).sort()).toEqual(['hub.events', 'hub.lease_seconds', 'hub.mode', 'hub.topic']);
    expect(first['hub.mode']).toBe('subscribe');
    expect(first['hub.topic']).toBe(topic);
    expect(typeof first['hub.events']).toBe('string');
    expect(first['hub.events'].split(',').map((s: string) => s.toLowerCase()).sort()).toEqual(['patient-close', 'patient-open']);
    expect(first['hub.lease_seconds']).toBe(3600);
    expect(channel.frames[1].event['hub.event']).toBe('Patient-open');
  });

  it('HUB-SUB-08 hub.events is a set: Patient-open,patient-open,Patient-open yields one notification per Patient-open', async () => {
    const { hub, topic } = await world();
    const { endpoint } = hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}&hub.events=Patient-open,patient-open,Patient-open`));
    const channel = new RecordingChannel();
    hub.connect(endpoint, channel);
    const id1 = await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-1', 'MRN-1'))));
    const id2 = await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-2', 'MRN-2'))));
    expect(channel.events.map((f) => f.id)).toEqual([id1, id2]);
  });

  it('HUB-SUB-09 a positive integer lease is granted up to 86400, 7200 when none is asked, and the confirmation states it', async () => {
    const { hub, topic } = await world();
    const cases: Array<[string, number]> = [
      ['', 7200],
      ['&hub.lease_seconds=60', 60],
      ['&hub.lease_seconds=86400', 86400],
      ['&hub.lease_seconds=86401', 86400],
      ['&hub.lease_seconds=1000000', 86400],
    ];
    for (const [lease, granted] of cases) {
      const result = hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}&hub.events=Patient-open${lease}`));
      expect(result.leaseSeconds).toBe(granted);
      const channel = new RecordingChannel();
      hub.connect(result.endpoint, channel);
      expect(channel.frames[0]['hub.lease_seconds']).toBe(granted);
    }
    expect(hub.subscribe({ topic, events: ['Patient-open'], leaseSeconds: 500_000 }).leaseSeconds).toBe(86400);
  });

  it('HUB-SUB-09 a lease that is not a positive integer gets 400, through the form and through the engine', async () => {
    const { hub, topic } = await world();
    for (const lease of ['0', '-60', '1.5', 'abc', '1e3', '60s']) {
      throws(() => hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}&hub.events=Patient-open&hub.lease_seconds=${lease}`)), 400);
    }
    for (const leaseSeconds of [0, -60, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      throws(() => hub.subscribe({ topic, events: ['Patient-open'], leaseSeconds }), 400);
    }
    expect(hub.inspect().topics.find((t) => t.topic === topic)?.subscribers ?? []).toHaveLength(0);
  });

  it('HUB-SUB-10 when the lease runs out, counted from the confirmation, the hub sends a denial with a reason, closes with 1000 and forgets the endpoint', async () => {
    const { hub, topic, tick } = await world();
    const { endpoint } = hub.subscribe({ topic, events: ['Patient-open'], leaseSeconds: 60 });
    tick(30_000); // the socket connects 30 s after the subscribe
    const channel = new RecordingChannel();
    hub.connect(endpoint, channel);
    tick(59_000); // 89 s after the subscribe, 59 s after the confirmation
    expect(denials(channel)).toHaveLength(0);
    expect(channel.closedWith).toBeUndefined();
    expect(hub.hasEndpoint(endpoint)).toBe(true);
    tick(1_000);
    const denial = denials(channel);
    expect(denial).toHaveLength(1);
    expect(denial[0]['hub.topic']).toBe(topic);
    expect(typeof denial[0]['hub.reason']).toBe('string');
    expect(denial[0]['hub.reason']).toMatch(/lease|expire/i);
    expect(channel.closedWith?.code).toBe(1000);
    expect(hub.hasEndpoint(endpoint)).toBe(false);
    throws(() => hub.connect(endpoint, new RecordingChannel()), 404);
    throws(() => hub.unsubscribe(topic, endpoint), 404);
  });

  it('HUB-SUB-10 HUB-BOUND-06 a subscription whose socket never connects ends 60 s after its 202, before its lease runs out', async () => {
    const { hub, topic, tick } = await world();
    const { endpoint } = hub.subscribe({ topic, events: ['Patient-open'], leaseSeconds: 120 });
    tick(59_999);
    expect(hub.hasEndpoint(endpoint)).toBe(true);
    tick(1);
    expect(hub.hasEndpoint(endpoint)).toBe(false);
    throws(() => hub.connect(endpoint, new RecordingChannel()), 404);
  });

  it('HUB-SUB-11 a subscribe naming the same topic and an existing endpoint keeps that endpoint and only the new hub.events are delivered', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open']);
    const again = hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}&hub.events=ImagingStudy-open&hub.channel.endpoint=${encodeURIComponent(viewer.endpoint)}`));
    expect(again.endpoint).toBe(viewer.endpoint);
    viewer.channel.clear();
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext()));
    expect(names(viewer.channel)).toEqual(['ImagingStudy-open']);
  });

  it('HUB-SUB-12 a re-subscribe renews the lease from that moment and sends a fresh confirmation on the open socket', async () => {
    const { hub, topic, tick } = await world();
    const viewer = join(hub, topic, ['Patient-open'], { leaseSeconds: 60 });
    tick(50_000);
    ackAll(viewer);
    hub.subscribe({ topic, events: ['Patient-open', 'Patient-close'], leaseSeconds: 60, endpoint: viewer.endpoint });
    const confs = confirmations(viewer.channel);
    expect(confs).toHaveLength(2);
    expect(confs[1]['hub.lease_seconds']).toBe(60);
    expect(confs[1]['hub.events'].toLowerCase().split(',').sort()).toEqual(['patient-close', 'patient-open']);
    expect(viewer.channel.closedWith).toBeUndefined();
    tick(59_000); // 109 s after the first confirmation, 59 s after the renewal
    expect(denials(viewer.channel)).toHaveLength(0);
    expect(hub.hasEndpoint(viewer.endpoint)).toBe(true);
    await accept(hub, request(topic, 'Patient-close', patientContext()));
    expect(names(viewer.channel)).toEqual(['Patient-close']);
    ackAll(viewer);
    tick(1_000);
    expect(denials(viewer.channel)).toHaveLength(1);
    expect(hub.hasEndpoint(viewer.endpoint)).toBe(false);
  });

  it('HUB-SUB-13 an unsubscribe is accepted with the same endpoint (engine part; the 202 body is the wire suite\u2019s)', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open']);
    const result = hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=unsubscribe&hub.topic=${topic}&hub.channel.endpoint=${encodeURIComponent(viewer.endpoint)}`));
    expect(result.endpoint).toBe(viewer.endpoint);
  });

  it('HUB-SUB-14 after an unsubscribe the hub sends a denial naming the cancelled events, then closes the socket', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open', 'Patient-close']);
    hub.unsubscribe(topic, viewer.endpoint);
    const last = viewer.channel.frames[viewer.channel.frames.length - 1];
    expect(last['hub.mode']).toBe('denied');
    expect(last['hub.topic']).toBe(topic);
    expect(last['hub.events'].toLowerCase().split(',').sort()).toEqual(['patient-close', 'patient-open']);
    expect(viewer.channel.closedWith).toBeDefined();
  });

  it('HUB-SUB-15 after an unsubscribe nothing more is sent to the endpoint and connecting to it is refused with 404', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open']);
    const stays = join(hub, topic, ['Patient-open']);
    hub.unsubscribe(topic, viewer.endpoint);
    const count = viewer.channel.frames.length;
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    expect(viewer.channel.frames).toHaveLength(count);
    expect(names(stays.channel)).toEqual(['Patient-open']);
    expect(hub.hasEndpoint(viewer.endpoint)).toBe(false);
    throws(() => hub.connect(viewer.endpoint, new RecordingChannel()), 404);
  });

  it('HUB-SUB-16 any non-empty topic of up to 256 printable characters is accepted, whether or not the hub created it', async () => {
    const { hub } = await world();
    const topics = ['medplum-session-42', 'T', 'a'.repeat(256), 'PACS ws 3 / Reading room B', 'Sitzung-Röntgen-Ärztin'];
    for (const topic of topics) {
      const viewer = join(hub, topic, ['Patient-open']);
      expect(confirmations(viewer.channel)[0]['hub.topic']).toBe(topic);
      await accept(hub, request(topic, 'Patient-open', patientContext()));
      expect(notifications(viewer.channel)).toHaveLength(1);
      expect(hub.getContext(topic)['context.type']).toBe('Patient');
      hub.handleSubscriptionRequest(parseSubscriptionRequest({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'Patient-close' }));
    }
  });
});
