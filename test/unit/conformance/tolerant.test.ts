import { describe, expect, it } from 'vitest';
import { formParams, parseSubscriptionRequest } from '../../../src/protocol/index.js';
import { RecordingChannel } from '../support/harness.js';
import {
  accept,
  ackAll,
  answer,
  confirmations,
  denials,
  imagingStudy,
  join,
  names,
  notifications,
  patient,
  patientContext,
  request,
  studyContext,
  syncCodings,
  syncErrors,
  throws,
  world,
} from './support.js';

const form = (text: string) => parseSubscriptionRequest(formParams(new URLSearchParams(text)));

describe('HUB-TOLERANT: what real clients send', () => {
  it('HUB-TOLERANT-01 hub.lease is read as hub.lease_seconds, and hub.lease_seconds wins when both are given', async () => {
    const { hub, topic } = await world();
    const viaLease = hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}&hub.events=Patient-open&hub.lease=900`));
    expect(viaLease.leaseSeconds).toBe(900);
    const both = hub.handleSubscriptionRequest(form(`hub.channel.type=websocket&hub.mode=subscribe&hub.topic=${topic}&hub.events=Patient-open&hub.lease=900&hub.lease_seconds=1800`));
    expect(both.leaseSeconds).toBe(1800);
    const ch = new RecordingChannel();
    hub.connect(both.endpoint, ch);
    expect(ch.frames[0]['hub.lease_seconds']).toBe(1800);
    const json = hub.handleSubscriptionRequest(parseSubscriptionRequest({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'Patient-open', 'hub.lease': 600 }));
    expect(json.leaseSeconds).toBe(600);
  });

  it('HUB-TOLERANT-02 a JSON subscribe or unsubscribe with the same hub.* members is treated like the form; events as string or array, lease as number or string', async () => {
    const { hub, topic } = await world();
    const bodies = [
      { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'Patient-open,ImagingStudy-open', 'hub.lease_seconds': 3600 },
      { 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': ['Patient-open', 'ImagingStudy-open'], 'hub.lease_seconds': '3600' },
    ];
    for (const body of bodies) {
      const result = hub.handleSubscriptionRequest(parseSubscriptionRequest(body));
      expect(result.leaseSeconds).toBe(3600);
      const ch = new RecordingChannel();
      const handle = hub.connect(result.endpoint, ch);
      expect(ch.frames[0]['hub.events'].toLowerCase().split(',').sort()).toEqual(['imagingstudy-open', 'patient-open']);
      const id = await accept(hub, request(topic, 'ImagingStudy-open', studyContext()));
      handle.receive(JSON.stringify({ id, status: 200 }));
      const gone = hub.handleSubscriptionRequest(parseSubscriptionRequest({ 'hub.channel.type': 'websocket', 'hub.mode': 'unsubscribe', 'hub.topic': topic, 'hub.channel.endpoint': result.endpoint }));
      expect(gone.endpoint).toBe(result.endpoint);
      expect(denials(ch)).toHaveLength(1);
    }
    throws(() => hub.handleSubscriptionRequest(parseSubscriptionRequest({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': [] })), 400);
    throws(() => hub.handleSubscriptionRequest(parseSubscriptionRequest({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'Patient-open', 'hub.lease_seconds': -5 })), 400);
  });

  it('HUB-TOLERANT-03 whitespace around event names is ignored, hub.channel.type matches case-insensitively, unknown fields are ignored', async () => {
    const { hub, topic } = await world();
    const result = hub.handleSubscriptionRequest(
      form(`hub.channel.type=WebSocket&hub.mode=subscribe&hub.topic=${topic}&hub.events=${encodeURIComponent(' Patient-open , ImagingStudy-open\n')}&hub.callback=https%3A%2F%2Fviewer.example.org%2Fcb&hub.secret=s3cr3t&subscriber.name=OHIF`),
    );
    const ch = new RecordingChannel();
    const handle = hub.connect(result.endpoint, ch);
    expect(ch.frames[0]['hub.events'].toLowerCase().split(',').sort()).toEqual(['imagingstudy-open', 'patient-open']);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    await accept(hub, request(topic, 'ImagingStudy-open', studyContext()));
    expect(ch.events.map((f) => f.event['hub.event'])).toEqual(['Patient-open', 'ImagingStudy-open']);
    for (const f of ch.events) handle.receive(JSON.stringify({ id: f.id, status: 200 }));
    const json = hub.handleSubscriptionRequest(parseSubscriptionRequest({ 'hub.channel.type': 'WEBSOCKET', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': [' Patient-close '], 'hub.callback': 'https://x.example.org' }));
    expect(json.events.toLowerCase()).toBe('patient-close');
  });

  it('HUB-TOLERANT-04 a first frame {"hub.channel.endpoint": url} is ignored: no error, no SyncError, the socket stays open', async () => {
    const { hub, topic, tick } = await world();
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    const ohif = join(hub, topic, ['Patient-open'], { subscriberName: 'OHIF' });
    const watcher = join(hub, topic, ['SyncError']);
    const before = ohif.channel.frames.length;
    ohif.handle.receive(JSON.stringify({ 'hub.channel.endpoint': `ws://127.0.0.1:5200/fhircast/hub/ws/${ohif.endpoint}` }));
    expect(ohif.channel.frames).toHaveLength(before);
    expect(ohif.channel.closedWith).toBeUndefined();
    expect(syncErrors(watcher.channel)).toHaveLength(0);
    // it was not taken as the answer to the pending catch-up: a real answer still counts
    answer(ohif, { id: notifications(ohif.channel)[0].id, status: 409 });
    expect(syncErrors(watcher.channel)).toHaveLength(1);
    tick(10_001);
    expect(syncErrors(watcher.channel)).toHaveLength(1);
  });

  it('HUB-TOLERANT-05 the 2019 reply {timestamp, status: "OK", statusCode} is read as an answer with status statusCode', async () => {
    const { hub, topic, tick } = await world();
    const old = join(hub, topic, ['Patient-open'], { subscriberName: 'Legacy RIS' });
    const watcher = join(hub, topic, ['SyncError']);
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-1', 'MRN-1'))));
    answer(old, { timestamp: '2026-01-01T00:00:01Z', status: 'OK', statusCode: '200' });
    tick(10_001);
    expect(syncErrors(watcher.channel)).toHaveLength(0);
    expect(hub.hasEndpoint(old.endpoint)).toBe(true);
    const id = await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-2', 'MRN-2'))));
    answer(old, { timestamp: '2026-01-01T00:00:12Z', status: 'OK', statusCode: '500' });
    expect(syncErrors(watcher.channel).map((f) => syncCodings(f).eventid)).toEqual([id]);
  });

  it('HUB-TOLERANT-06 an answer without id answers the oldest unanswered notification on that connection', async () => {
    const { hub, topic } = await world();
    const sub = join(hub, topic, ['Patient-open'], { subscriberName: 'Prototype' });
    const watcher = join(hub, topic, ['SyncError']);
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-1', 'MRN-1'))));
    const second = await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-2', 'MRN-2'))));
    const third = await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-3', 'MRN-3'))));
    answer(sub, { status: 200 });
    answer(sub, { status: 409 });
    answer(sub, { id: third, status: 200 });
    expect(syncErrors(watcher.channel).map((f) => syncCodings(f).eventid)).toEqual([second]);
    answer(sub, { status: 500 }); // nothing left unanswered: ignored
    expect(syncErrors(watcher.channel)).toHaveLength(1);
  });

  it('HUB-TOLERANT-07 after an abnormal close a client may reconnect during the lease: new confirmation, catch-up, subscription goes on', async () => {
    const { hub, topic, tick } = await world();
    const viewer = join(hub, topic, ['Patient-open'], { subscriberName: 'Medplum app', leaseSeconds: 3600 });
    const watcher = join(hub, topic, ['SyncError', 'Patient-open'], { leaseSeconds: 3600 });
    const first = await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-1', 'MRN-1'))));
    ackAll(watcher);
    viewer.handle.closed(1006);
    expect(syncErrors(watcher.channel)).toHaveLength(1);
    // while away: nothing is queued for it and no further SyncError is raised about it
    await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-2', 'MRN-2'))));
    const whileAway = await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-4', 'MRN-4'))));
    ackAll(watcher);
    tick(30_000);
    ackAll(watcher);
    expect(syncErrors(watcher.channel)).toHaveLength(1);
    expect(hub.hasEndpoint(viewer.endpoint)).toBe(true);
    const again = new RecordingChannel();
    const handle = hub.connect(viewer.endpoint, again);
    expect(again.frames[0]['hub.mode']).toBe('subscribe');
    expect(typeof again.frames[0]['hub.lease_seconds']).toBe('number');
    expect(again.events.map((f) => f.id)).toEqual([whileAway]);
    handle.receive(JSON.stringify({ id: whileAway, status: 200 }));
    const live = await accept(hub, request(topic, 'Patient-open', patientContext(patient('pt-3', 'MRN-3'))));
    expect(again.events.map((f) => f.id)).toEqual([whileAway, live]);
    expect(viewer.channel.events.map((f) => f.id)).toEqual([first]);
  });

  it('HUB-TOLERANT-07 after a close with 1000, 1001 or 1005 the subscription ends', async () => {
    for (const code of [1000, 1001, 1005]) {
      const { hub, topic } = await world();
      const viewer = join(hub, topic, ['Patient-open']);
      viewer.handle.closed(code);
      expect(hub.hasEndpoint(viewer.endpoint), `close ${code}`).toBe(false);
      throws(() => hub.connect(viewer.endpoint, new RecordingChannel()), 404);
    }
  });

  it('HUB-TOLERANT-07 a reconnect is refused once the lease ran out while the client was away', async () => {
    const { hub, topic, tick } = await world();
    const viewer = join(hub, topic, ['Patient-open'], { leaseSeconds: 60 });
    viewer.handle.closed(1006);
    tick(60_000);
    throws(() => hub.connect(viewer.endpoint, new RecordingChannel()), 404);
  });

  it('HUB-TOLERANT-07 a newer connection to a live endpoint replaces the older one, which is closed with 1000 and causes no SyncError', async () => {
    const { hub, topic } = await world();
    const viewer = join(hub, topic, ['Patient-open'], { subscriberName: 'Tab A' });
    const watcher = join(hub, topic, ['SyncError']);
    const newer = new RecordingChannel();
    const handle = hub.connect(viewer.endpoint, newer);
    expect(viewer.channel.closedWith?.code).toBe(1000);
    viewer.handle.closed(1000);
    viewer.handle.closed(1006);
    expect(syncErrors(watcher.channel)).toHaveLength(0);
    expect(confirmations(newer)).toHaveLength(1);
    const id = await accept(hub, request(topic, 'Patient-open', patientContext()));
    expect(newer.events.map((f) => f.id)).toEqual([id]);
    expect(names(viewer.channel)).toEqual([]);
    handle.receive(JSON.stringify({ id, status: 200 }));
    expect(hub.hasEndpoint(viewer.endpoint)).toBe(true);
  });

  it('HUB-TOLERANT-08 with ackTimeoutMs 0 a missing answer causes no SyncError and no unsubscribe; failing answers still do', async () => {
    const { hub, topic, tick } = await world({ ackTimeoutMs: 0 });
    const ohif = join(hub, topic, ['Patient-open', 'ImagingStudy-open'], { subscriberName: 'OHIF' });
    const watcher = join(hub, topic, ['SyncError']);
    await accept(hub, request(topic, 'Patient-open', patientContext()));
    tick(60_000);
    tick(3_600_000);
    expect(syncErrors(watcher.channel)).toHaveLength(0);
    expect(denials(ohif.channel)).toHaveLength(0);
    expect(hub.hasEndpoint(ohif.endpoint)).toBe(true);
    const id = await accept(hub, request(topic, 'ImagingStudy-open', studyContext(imagingStudy('st-1', 'ACC-1'))));
    answer(ohif, { id, status: 409 });
    expect(syncErrors(watcher.channel).map((f) => syncCodings(f).eventid)).toEqual([id]);
  });
});
