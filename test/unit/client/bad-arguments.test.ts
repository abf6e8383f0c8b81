/**
 * Issue 16 (DESIGN.md "Bad arguments"): every client call rejects, and never throws synchronously,
 * with a HubError of status 400 for a missing or ill-typed argument; the hub keeps what it had.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HubError } from '../../../src/client/index.js';
import { channelTransport, openPage, patientOpen, startHost, type RigPage } from './support/rig.js';
import { FakeLocks } from './support/fake-locks.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function page(): Promise<RigPage> {
  const locks = new FakeLocks();
  const host = await startHost(locks);
  const opened = await openPage(locks, channelTransport(() => host), 'A');
  cleanup.push(() => host.die(), () => opened.hub.close());
  return opened;
}

/** Calls `call` and expects a rejected promise (not a throw) with a HubError 400 whose message names `named`. */
async function expect400(call: () => Promise<unknown>, named: string): Promise<void> {
  let promise: Promise<unknown> | undefined;
  expect(() => (promise = call())).not.toThrow();
  const error = await promise!.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(HubError);
  expect((error as HubError).status).toBe(400);
  expect((error as HubError).outcome.issue[0]?.diagnostics).toContain(named);
}

describe('issue 16: bad arguments reject with HubError 400', () => {
  it('publish(topic, null), publish(undefined, event) and publish(topic, "text") reject with 400 naming the argument', async () => {
    const { hub } = await page();
    const topic = await hub.createTopic();
    await expect400(() => hub.publish(topic, null as never), 'request');
    await expect400(() => hub.publish(topic, 'Patient-open' as never), 'request');
    await expect400(() => hub.publish(undefined as never, patientOpen('p1')), 'topic');
    await expect400(() => hub.publish(42 as never, patientOpen('p1')), 'topic');
    // nothing was lost: a good call still works afterwards
    await expect(hub.publish(topic, patientOpen('p1'))).resolves.toMatchObject({ status: 202 });
  });

  it('subscribe without options or without a callback rejects with 400 and registers nothing', async () => {
    const { hub } = await page();
    const topic = await hub.createTopic();
    await expect400(() => hub.subscribe(null as never, () => undefined), 'options');
    await expect400(() => hub.subscribe({ topic, events: ['Patient-open'] }, undefined as never), 'onEvent');
    await expect400(() => hub.subscribe({ topic, events: ['Patient-open'] }, 'cb' as never), 'onEvent');
    const snapshot = await hub.inspect();
    expect(JSON.stringify(snapshot)).not.toContain('"subscribers":[{');
  });

  it('getContext, getTopic and bridge reject with 400 for missing arguments', async () => {
    const { hub } = await page();
    await expect400(() => hub.getContext(undefined as never), 'topic');
    await expect400(() => hub.getContext({} as never), 'topic');
    await expect400(() => hub.getTopic(undefined as never, 's'), 'username');
    await expect400(() => hub.getTopic('u', 7 as never), 'secret');
    await expect400(() => hub.bridge(undefined as never), 'options');
  });

  it('observe with a non-function throws a HubError 400 at once (it returns a function, not a promise)', async () => {
    const { hub } = await page();
    let thrown: unknown;
    try {
      hub.observe(null as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HubError);
    expect((thrown as HubError).status).toBe(400);
  });
});
