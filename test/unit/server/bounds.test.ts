/** HUB-BOUND-03..07 through `tabcast serve`: the flags reach the engine, and the refusals reach HTTP clients. */
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/server/args.js';
import { startServer, type ServerOptions } from '../../../src/server/index.js';
import { FakeClock } from '../support/harness.js';
import { ServeProcess } from '../hardening/support/serve-process.js';
import { patientOpen, reportOpen, reportUpdate } from '../wire/support.js';
import { cleanup, getContext, publish, refusedUpgradeStatus, track } from './support.js';

afterEach(cleanup);

const start = async (options: ServerOptions = {}) => track(await startServer({ port: 0, heartbeatMs: 0, ...options }));

const subscribe = (url: string, topic: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'hub.channel.type': 'websocket', 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.events': 'Patient-open' }),
  });

describe('HUB-BOUND through tabcast serve', () => {
  it('HUB-BOUND-03 HUB-BOUND-04 HUB-BOUND-05 HUB-BOUND-06 HUB-BOUND-07 each bound has its flag, and unset ones keep the defaults', () => {
    const parsed = parseCommandLine(['serve', '--max-open-contexts', '5', '--max-content-bytes=9000', '--max-topics', '3', '--idle-topic-ms', '1000', '--connect-timeout-ms', '2000']);
    expect(parsed.command === 'serve' && parsed.args).toMatchObject({ maxOpenContexts: 5, maxContentBytes: 9000, maxTopics: 3, idleTopicMs: 1000, connectTimeoutMs: 2000 });
    expect(() => parseCommandLine(['serve', '--max-open-contexts', '0'])).toThrow(/--max-open-contexts must be a whole number from 1/);
  });

  it('HUB-BOUND-07 the flags are the bounds in force: tabcast serve prints nothing extra and inspect() of the engine shows them', async () => {
    const server = await start({ bounds: { maxOpenContexts: 2, maxTopics: 9 } });
    expect(server.hub.inspect().bounds).toEqual({ maxOpenContexts: 2, maxContentBytes: 4_194_304, maxTopics: 9, idleTopicMs: 86_400_000, connectTimeoutMs: 60_000 });
    const proc = await ServeProcess.start(['--max-topics', '1']);
    try {
      expect((await publish(proc.url, patientOpen('only-topic', 'p-1'))).status).toBe(202);
      const refused = await publish(proc.url, patientOpen('second-topic', 'p-1'));
      expect(refused.status, 'the CLI flag reached the engine').toBe(503);
    } finally {
      await proc.kill();
    }
  });

  it('HUB-BOUND-03 beyond --max-open-contexts the least recently opened context is forgotten without a broadcast; get-context is unchanged', async () => {
    const server = await start({ bounds: { maxOpenContexts: 2 } });
    for (const p of ['p-1', 'p-2', 'p-3']) expect((await publish(server.url, patientOpen('T-b3', p))).status).toBe(202);
    const snap = server.hub.inspect();
    expect(snap.topics[0]!.open.map((o) => o.id)).toEqual(['p-2', 'p-3']);
    expect(snap.forgotten.contexts).toBe(1);
    expect((await getContext(server.url, 'T-b3')).context[0].resource.id).toBe('p-3');
  });

  it('HUB-BOUND-04 an update past --max-content-bytes gets 413 with an OperationOutcome, and the content is unchanged', async () => {
    const server = await start({ bounds: { maxContentBytes: 100 } });
    await publish(server.url, reportOpen('T-b4', 'dr-1', 'p-1'));
    const before = await getContext(server.url, 'T-b4');
    const res = await publish(server.url, reportUpdate('T-b4', 'dr-1', before['context.versionId'], 'obs-with-a-long-enough-id-to-pass-one-hundred-bytes-of-json'));
    expect(res.status).toBe(413);
    const outcome = await res.json();
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0].diagnostics).toMatch(/limit of 100/);
    expect(await getContext(server.url, 'T-b4')).toEqual(before);
  });

  it('HUB-BOUND-05 past --max-topics a publish or subscribe that would create a topic gets 503 with a reason; existing topics work', async () => {
    const server = await start({ bounds: { maxTopics: 1 } });
    expect((await publish(server.url, patientOpen('T-kept', 'p-1'))).status).toBe(202);
    const refused = await publish(server.url, patientOpen('T-new', 'p-1'));
    expect(refused.status).toBe(503);
    expect((await refused.json()).issue[0].diagnostics).toMatch(/1 topics, its limit/);
    expect((await subscribe(server.url, 'T-other')).status).toBe(503);
    expect((await subscribe(server.url, 'T-kept')).status).toBe(202);
  });

  it('HUB-BOUND-05 an idle topic is forgotten after --idle-topic-ms', async () => {
    const clock = new FakeClock();
    const server = await start({ clock, bounds: { idleTopicMs: 5000 } });
    const created = server.hub.createTopic();
    clock.advance(5000);
    server.hub.tick();
    expect(server.hub.topicIds()).not.toContain(created);
  });

  it('HUB-BOUND-06 a subscription whose WebSocket is not opened within 60 s of the 202 ends; its endpoint then gets 404', async () => {
    const clock = new FakeClock();
    const server = await start({ clock });
    const res = await subscribe(server.url, 'T-b6');
    expect(res.status).toBe(202);
    const endpoint = ((await res.json()) as Record<string, string>)['hub.channel.endpoint']!;
    clock.advance(60_000);
    server.hub.tick();
    expect(await refusedUpgradeStatus(endpoint)).toBe(404);
  });
});
