/**
 * WebSub callbacks on `tabcast serve --websub` (channels.md §3), part 1: the switch, where callbacks
 * may point, and verification of intent. A real hub and real callback listeners (node:http); every
 * timeout runs on manual timers (a fake clock). Delivery and acks: websub-delivery.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { settle } from '../bridge/support/manual-timers.js';
import { until } from '../bridge/support/local.js';
import { postSubscription, publish } from '../server/support.js';
import { callback, nextLog, patientOpen, serve, subscribers, subscribeVerified, TOPIC, webhookParams } from './rig.js';

describe('HUB-WEBSUB-01: webhooks only with --websub', () => {
  it('HUB-WEBSUB-01 / HUB-SUB-03: without --websub a webhook subscription gets 400 and the callback hears nothing', async () => {
    const cb = await callback();
    const { server } = await serve({ websub: false });
    const res = await postSubscription(server.url, webhookParams(cb.url));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/webhook/);
    await settle();
    expect(cb.requests).toHaveLength(0);
  });

  it('HUB-WEBSUB-01: with --websub, webhook and websub channel types with hub.callback answer 202', async () => {
    const cb = await callback();
    const { server } = await serve();
    for (const type of ['webhook', 'websub']) {
      const res = await postSubscription(server.url, webhookParams(`${cb.url}/${type}`, { 'hub.channel.type': type }));
      expect(res.status).toBe(202);
    }
    await cb.waitFor(2, (r) => r.method === 'GET', 'verifications');
    const missing = await postSubscription(server.url, { ...webhookParams(cb.url), 'hub.callback': '' });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toMatch(/hub\.callback/);
    const long = await postSubscription(server.url, webhookParams(`${cb.url}?${'x'.repeat(2100)}`));
    expect(long.status).toBe(400);
    expect((await postSubscription(server.url, webhookParams(cb.url, { 'hub.secret': 's'.repeat(1025) }))).status).toBe(400);
  });
});

describe('HUB-WEBSUB-02: where callbacks may point', () => {
  it('HUB-WEBSUB-02: a callback outside --websub-allow gets 400 with a reason, and no request ever reaches it', async () => {
    const cb = await callback();
    // Allowed: the same listener under the name localhost; refused: 127.0.0.1, which is not listed.
    const { server } = await serve({ allow: [`http://localhost:${cb.port}`] });
    const res = await postSubscription(server.url, webhookParams(cb.url));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/not allowed/);
    await publish(server.url, patientOpen('p1', 'e1'));
    await settle();
    expect(cb.requests).toHaveLength(0);
    const listed = await postSubscription(server.url, webhookParams(`http://localhost:${cb.port}/cb`));
    expect(listed.status).toBe(202);
    await cb.waitFor(1, (r) => r.method === 'GET', 'the verification of the listed origin');
  });

  it('HUB-WEBSUB-02 / HUB-WEBSUB-06 / HUB-ID-06: with --users webhooks and {topic}/websub need the Bearer secret; without it, 401 and no request to the callback', async () => {
    const cb = await callback();
    const { server } = await serve({ users: { secret: 'users-secret', groups: [['u1']] } });
    const res = await postSubscription(server.url, webhookParams(cb.url));
    expect(res.status).toBe(401);
    await settle();
    expect(cb.requests).toHaveLength(0);
    const connected = nextLog(server.hub, 'connect');
    expect((await postSubscription(server.url, webhookParams(cb.url), { authorization: 'Bearer users-secret' })).status).toBe(202);
    await connected;
    // The proposal's path asks for the same Bearer, for reading and for writing.
    expect((await fetch(`${server.url}/${TOPIC}/websub`)).status).toBe(401);
    expect((await fetch(`${server.url}/${TOPIC}/websub`, { headers: { authorization: 'Bearer users-secret' } })).status).toBe(200);
    expect((await publish(`${server.url}/${TOPIC}/websub`, patientOpen('p1', 'no-bearer'))).status).toBe(401);
    expect((await publish(`${server.url}/${TOPIC}/websub`, patientOpen('p1', 'bearer'), { authorization: 'Bearer users-secret' })).status).toBe(202);
  });

  it('HUB-WEBSUB-02: with no --websub-allow only loopback hosts are allowed, and only http(s)', async () => {
    const cb = await callback();
    const { server } = await serve();
    for (const bad of ['http://10.1.2.3:8080/cb', 'http://example.org/cb', 'ftp://127.0.0.1/cb', 'not a url', `http://user:pw@127.0.0.1:${cb.port}/cb`]) {
      const res = await postSubscription(server.url, webhookParams(bad));
      expect(res.status, bad).toBe(400);
    }
    await settle();
    expect(cb.requests).toHaveLength(0);
  });

  it('HUB-WEBSUB-02: a redirect is not followed: a verification answered 302 leaves the subscription inactive and the target unvisited', async () => {
    const target = await callback('/target');
    const cb = await callback();
    cb.verify = { redirect: target.url };
    const { server } = await serve();
    const ended = nextLog(server.hub, 'denied');
    expect((await postSubscription(server.url, webhookParams(cb.url))).status).toBe(202);
    await ended;
    await publish(server.url, patientOpen('p1', 'e1'));
    await settle();
    expect(target.requests).toHaveLength(0);
    expect(cb.deliveries).toHaveLength(0);
    expect(subscribers(server)).toHaveLength(0);
  });
});

describe('HUB-WEBSUB-03: verification of intent', () => {
  it('HUB-WEBSUB-03: the hub GETs the callback with mode, topic, events, challenge and lease; an echo activates it and catch-up follows', async () => {
    const cb = await callback();
    const { server } = await serve();
    await publish(server.url, patientOpen('p0', 'before'));
    await subscribeVerified(server, cb, { 'hub.lease_seconds': '600' });
    const q = cb.verifications[0]!.url.searchParams;
    expect(q.get('hub.mode')).toBe('subscribe');
    expect(q.get('hub.topic')).toBe(TOPIC);
    expect(q.get('hub.events')).toBe('Patient-open,Patient-close,SyncError');
    expect(q.get('hub.challenge')!.length).toBeGreaterThanOrEqual(16);
    expect(q.get('hub.lease_seconds')).toBe('600');
    await cb.waitFor(1, (r) => r.method === 'POST', 'the catch-up');
    expect(cb.deliveries.map((d) => d.id)).toEqual(['before']);
  });

  it('HUB-WEBSUB-03: a callback that answers without the exact challenge stays inactive and gets nothing', async () => {
    const cb = await callback();
    cb.verify = 'wrong';
    const { server } = await serve();
    const ended = nextLog(server.hub, 'denied');
    await postSubscription(server.url, webhookParams(cb.url));
    await ended;
    await publish(server.url, patientOpen('p1', 'e1'));
    await settle();
    expect(cb.deliveries).toHaveLength(0);
    expect(subscribers(server)).toHaveLength(0);
  });

  it('HUB-WEBSUB-03: a callback that hangs is given up after 5 s on the clock and never receives an event', async () => {
    const cb = await callback();
    cb.verify = 'hang';
    const { server, advance } = await serve();
    await postSubscription(server.url, webhookParams(cb.url));
    await cb.waitFor(1, (r) => r.method === 'GET', 'the verification');
    await advance(4999);
    expect(subscribers(server)).toHaveLength(1); // waiting, not yet given up
    expect(subscribers(server)[0]!.connected).toBe(false);
    const ended = nextLog(server.hub, 'denied');
    await advance(1);
    await ended;
    await publish(server.url, patientOpen('p1', 'e1'));
    await settle();
    expect(cb.deliveries).toHaveLength(0);
    expect(subscribers(server)).toHaveLength(0);
  });

  it('HUB-WEBSUB-03: unsubscribe answers 202, is verified with hub.mode=unsubscribe, and deliveries stop once it is', async () => {
    const cb = await callback();
    const { server } = await serve();
    await subscribeVerified(server, cb);
    const ended = nextLog(server.hub, 'denied');
    const res = await postSubscription(server.url, { 'hub.channel.type': 'webhook', 'hub.mode': 'unsubscribe', 'hub.topic': TOPIC, 'hub.callback': cb.url });
    expect(res.status).toBe(202);
    await ended;
    expect(cb.verifications.map((v) => v.url.searchParams.get('hub.mode'))).toEqual(['subscribe', 'unsubscribe']);
    await publish(server.url, patientOpen('p1', 'after'));
    await settle();
    expect(cb.deliveries).toHaveLength(0);
  });

  it('HUB-WEBSUB-03: subscribing the same callback again is verified again, then replaces its events and secret', async () => {
    const cb = await callback();
    const { server } = await serve();
    await subscribeVerified(server, cb, { 'hub.events': 'Patient-open', 'hub.secret': 'first' });
    const again = await postSubscription(server.url, webhookParams(cb.url, { 'hub.events': 'Patient-close', 'hub.secret': 'second' }));
    expect(again.status).toBe(202);
    await cb.waitFor(2, (r) => r.method === 'GET', 'the second verification');
    expect(cb.verifications[1]!.url.searchParams.get('hub.events')).toBe('Patient-close');
    await until(() => subscribers(server)[0]?.events === 'Patient-close', 'the new events to apply');
    expect(subscribers(server)).toHaveLength(1);
    cb.secret = 'second';
    await publish(server.url, patientOpen('p1', 'open-ignored'));
    await publish(server.url, { timestamp: '2026-01-01T00:00:00Z', id: 'closed', event: { 'hub.topic': TOPIC, 'hub.event': 'Patient-close', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p1' } }] } });
    await cb.waitFor(1, (r) => r.method === 'POST', 'the close');
    await settle();
    expect(cb.deliveries.map((d) => d.id)).toEqual(['closed']);
    expect(cb.badSignatures).toBe(0);
  });

  it('HUB-WEBSUB-03: an unsubscribe the callback does not confirm changes nothing', async () => {
    const cb = await callback();
    const { server } = await serve();
    await subscribeVerified(server, cb);
    cb.verify = 'refuse';
    await postSubscription(server.url, { 'hub.channel.type': 'webhook', 'hub.mode': 'unsubscribe', 'hub.topic': TOPIC, 'hub.callback': cb.url });
    await cb.waitFor(2, (r) => r.method === 'GET', 'the unsubscribe verification');
    await settle();
    await publish(server.url, patientOpen('p1', 'still'));
    await cb.waitFor(1, (r) => r.method === 'POST', 'a delivery');
    expect(cb.deliveries.map((d) => d.id)).toEqual(['still']);
  });
});
