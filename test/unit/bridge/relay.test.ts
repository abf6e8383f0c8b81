/**
 * Relaying both ways against a scripted remote (mock-socket): subscription request, acks, echoes,
 * duplicates, loops, tokens, dialect paths. Time-dependent cases are in resilience.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CATALOG_EVENT_NAMES } from '../../../src/protocol/index.js';
import { cleanupMocks, LOCAL, mockBridge, patient, REMOTE } from './support/mock-setup.js';
import { patientOpen, until, waitForState } from './support/local.js';
import { settle } from './support/manual-timers.js';
import { makeHub } from '../support/harness.js';

afterEach(cleanupMocks);

describe('subscribing at the remote hub', () => {
  it('POSTs a form-encoded websocket subscription for every catalog event by name (Home-open included, no *)', async () => {
    const { remote, bridge } = await mockBridge();
    const sub = remote.subscribes[0]!;
    expect(sub.url).toBe(remote.hubUrl);
    expect(sub.form).toMatchObject({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': REMOTE });
    const events = sub.form!['hub.events']!.split(',');
    expect(events).toEqual([...CATALOG_EVENT_NAMES]);
    expect(events).toContain('Home-open');
    expect(events).not.toContain('*');
    expect(bridge.status().state).toBe('connected');
  });

  it('subscribes to exactly the configured events when events are given', async () => {
    const { remote } = await mockBridge({ config: { events: ['Patient-open', 'Patient-close'] } });
    expect(remote.subscribes[0]!.form!['hub.events']).toBe('Patient-open,Patient-close');
  });

  it('narrows the default events to the remote .well-known list when the remote refuses the full list with 400', async () => {
    let first = true;
    const { remote, bridge } = await mockBridge({
      prepare(r) {
        r.wellKnown = { eventsSupported: ['patient-open', 'patient-close', 'syncerror'] };
        const fetch = r.fetch;
        (r as { fetch: typeof fetch }).fetch = async (url, init) => {
          if (first && String(init.body ?? '').includes('hub.mode=subscribe')) {
            first = false;
            r.requests.push({ method: 'POST', url, form: Object.fromEntries(new URLSearchParams(String(init.body))) });
            return new Response('unknown event Home-open', { status: 400 });
          }
          return fetch(url, init);
        };
      },
    });
    expect(remote.subscribes).toHaveLength(2);
    expect(remote.subscribes[1]!.form!['hub.events']).toBe('Patient-open,Patient-close,SyncError');
    expect(bridge.status().state).toBe('connected');
  });

  it('sends Authorization: Bearer on subscribe, get-context and publish, and never shows the token in config or status', async () => {
    const { remote, bridge, hub } = await mockBridge({ config: { token: 'tok-very-secret' } });
    await hub.publish(patientOpen(LOCAL, 'p1', 'l-1'));
    await until(() => remote.publishes.length === 1, 'the publish');
    for (const r of remote.requests) expect(r.authorization).toBe('Bearer tok-very-secret');
    expect(remote.requests.map((r) => r.method)).toEqual(['POST', 'GET', 'POST']);
    expect(JSON.stringify(bridge.config)).not.toContain('tok-very-secret');
    expect(JSON.stringify(bridge.status())).not.toContain('tok-very-secret');
  });

  it('calls getToken before each subscribe and uses the fresh token', async () => {
    const tokens = ['t-1', 't-2'];
    const { remote, timers, bridge } = await mockBridge({ config: { getToken: () => tokens.shift() } });
    expect(remote.subscribes[0]!.authorization).toBe('Bearer t-1');
    remote.closeSocket(1000);
    await waitForState(bridge, 'reconnecting');
    await timers.advance(1000);
    await waitForState(bridge, 'connected');
    expect(remote.subscribes[1]!.authorization).toBe('Bearer t-2');
  });
});

describe('remote → local', () => {
  it('publishes a remote event on the local topic with its id, timestamp and context, then acks it {id, status: 200}', async () => {
    const { remote, app, bridge } = await mockBridge();
    const n = remote.notification('r-1', 'Patient-open', [patient('p1')]);
    remote.send(n);
    await until(() => remote.acks.length === 1, 'the ack');
    expect(remote.acks[0]).toEqual({ id: 'r-1', status: 200 });
    const local = app.events.find((e) => e.id === 'r-1');
    expect(local.timestamp).toBe(n.timestamp);
    expect(local.event['hub.topic']).toBe(LOCAL);
    expect(local.event.context).toEqual([patient('p1')]);
    expect(bridge.status().eventsIn).toBe(1);
  });

  it('delivers an event id seen twice only once, and acks both copies', async () => {
    const { remote, app } = await mockBridge();
    const n = remote.notification('r-dup', 'Patient-open', [patient('p1')]);
    remote.send(n);
    remote.send(n);
    await until(() => remote.acks.length === 2, 'two acks');
    expect(remote.acks).toEqual([{ id: 'r-dup', status: 200 }, { id: 'r-dup', status: 200 }]);
    expect(app.ids().filter((id) => id === 'r-dup')).toHaveLength(1);
  });

  it('never sends a remote event back to the remote (no loop)', async () => {
    const { remote, app } = await mockBridge();
    remote.send(remote.notification('r-2', 'Patient-open', [patient('p2')]));
    await until(() => app.ids().includes('r-2') && remote.acks.length === 1, 'the local delivery and the ack');
    await settle();
    expect(remote.publishes).toHaveLength(0);
  });

  it('answers a remote event the local hub refuses with the local status, so the remote raises its SyncError', async () => {
    const { remote, app } = await mockBridge();
    // An update for a report that is not open locally: the engine answers 404.
    remote.send(
      remote.notification('r-bad', 'DiagnosticReport-update', [
        { key: 'report', reference: { reference: 'DiagnosticReport/dr-1' } },
        { key: 'updates', resource: { resourceType: 'Bundle', type: 'transaction', entry: [] } },
      ], { 'context.versionId': 'v-remote' }),
    );
    await until(() => remote.acks.length === 1, 'the ack');
    expect(remote.acks[0]).toEqual({ id: 'r-bad', status: 404 });
    expect(app.ids()).not.toContain('r-bad');
  });

  it('never acks heartbeats and never relays them', async () => {
    const { remote, app } = await mockBridge();
    remote.send({ timestamp: new Date().toISOString(), id: 'hb-1', event: { 'hub.topic': REMOTE, 'hub.event': 'heartbeat', context: [{ key: 'period', decimal: '10' }] } });
    remote.send(remote.notification('r-3', 'Patient-open', [patient('p3')]));
    await until(() => remote.acks.length === 1, 'the ack of r-3');
    await settle();
    expect(remote.acks).toEqual([{ id: 'r-3', status: 200 }]);
    expect(app.events.map((e) => e.event['hub.event'])).toEqual(['Patient-open']);
  });

  it('ignores garbage frames (not JSON, arrays, numbers, binary, shapeless objects) and keeps relaying', async () => {
    const { remote, app, bridge } = await mockBridge();
    for (const junk of ['not json', '[1,2,3]', '42', 'null', '{"event":"Patient-open"}', '{"hub.mode":"subscribed?"}', '{"event":{"hub.event":"Patient-open","context":"x"}}']) {
      remote.send(junk);
    }
    remote.socket!.send(new Uint8Array([0xff, 0xfe, 0x00]).buffer);
    remote.send(remote.notification('r-4', 'Patient-open', [patient('p4')]));
    await until(() => app.ids().includes('r-4') && remote.acks.length === 1, 'the good event and its ack');
    await settle();
    expect(remote.acks).toEqual([{ id: 'r-4', status: 200 }]);
    expect(bridge.status().state).toBe('connected');
  });
});

describe('the local subscription', () => {
  it('acks every local notification in time, so a local hub with a 10 s ack timeout never drops the bridge', async () => {
    const { hub, tick } = await makeHub({ ackTimeoutMs: 10_000 });
    const { remote, app } = await mockBridge({ hub });
    await hub.publish(patientOpen(LOCAL, 'p1', 'l-1'));
    remote.send(remote.notification('r-1', 'Patient-open', [patient('p2')]));
    await until(() => app.ids().length === 2 && remote.acks.length === 2, 'both events and their acks');
    await settle();
    tick(10_001);
    const subscribers = hub.inspect().topics.find((t) => t.topic === LOCAL)!.subscribers;
    expect(subscribers.find((s) => s.name === 'tabcast bridge')).toMatchObject({ pending: 0, lastAck: { status: 200 } });
    expect(app.named('syncerror')).toEqual([]);
  });
});

describe('local → remote', () => {
  it('POSTs a local publish to hub.url as STU3 JSON with the remote topic, the same id and timestamp, and no local version', async () => {
    const { remote, hub, bridge } = await mockBridge();
    const req = patientOpen(LOCAL, 'p5', 'l-5');
    await hub.publish(req);
    await until(() => bridge.status().eventsOut === 1, 'eventsOut');
    const sent = remote.publishes[0]!;
    expect(sent.url).toBe(remote.hubUrl);
    expect(sent.json).toEqual({ id: 'l-5', timestamp: req.timestamp, event: { 'hub.topic': REMOTE, 'hub.event': 'Patient-open', context: req.event.context } });
    expect(bridge.status().lastRttMs).toBeGreaterThanOrEqual(0);
  });

  it("recognises the remote's echo of its own publish by id: acked, not applied locally again", async () => {
    const { remote, hub, app, bridge } = await mockBridge();
    await hub.publish(patientOpen(LOCAL, 'p6', 'l-6'));
    await until(() => remote.acks.some((a) => a.id === 'l-6'), 'the ack of the echo');
    await settle();
    expect(remote.acks).toEqual([{ id: 'l-6', status: 200 }]);
    expect(app.ids()).toEqual(['l-6']);
    expect(bridge.status().eventsIn).toBe(0);
  });

  it('publishes to hub.url/{topic} in the topic-path dialect and accepts a sandbox confirmation without hub.topic/hub.events', async () => {
    const { remote, hub, bridge } = await mockBridge({ config: { dialect: 'topic-path' }, confirmation: 'sandbox' });
    expect(bridge.status().state).toBe('connected');
    await hub.publish(patientOpen(LOCAL, 'p7', 'l-7'));
    await until(() => remote.publishes.length === 1, 'the publish');
    expect(remote.publishes[0]!.url).toBe(`${remote.hubUrl}/${REMOTE}`);
  });

  it('refuses a stu3 confirmation that names another topic (and reconnects)', async () => {
    const { remote, bridge } = await mockBridge({ confirmation: 'none', connect: false });
    await until(() => remote.connections === 1, 'the socket');
    remote.send({ 'hub.mode': 'subscribe', 'hub.topic': 'someone-else', 'hub.events': 'Patient-open', 'hub.lease_seconds': 60 });
    const s = await waitForState(bridge, 'reconnecting');
    expect(s.lastError).toContain('someone-else');
  });

  it('reports a local event the remote refuses (4xx) with a SyncError on the local topic, and does not retry it', async () => {
    const { remote, hub, app, bridge } = await mockBridge();
    remote.publishStatus = 422;
    await hub.publish(patientOpen(LOCAL, 'p8', 'l-8'));
    await until(() => app.named('syncerror').length === 1, 'the SyncError');
    const oo = app.named('syncerror')[0].event.context[0].resource;
    const codes = oo.issue[0].details.coding.map((c: { system: string; code: string }) => [c.system.split('/').pop(), c.code]);
    expect(codes).toContainEqual(['eventid', 'l-8']);
    expect(codes).toContainEqual(['eventname', 'Patient-open']);
    expect(oo.issue[0].diagnostics).toContain('422');
    expect(bridge.status().lastError).toContain('l-8');
    await settle();
    expect(remote.publishes).toHaveLength(1); // not retried, and the SyncError itself is not relayed
  });
});
