/**
 * End to end: the real `node bin/tabcast.js serve` (which loads dist/tabcast-server.js, built by
 * `npm run build`) driven with plain fetch and the ws client.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { patientOpen, reportOpen, reportUpdate } from '../wire/support.js';
import { DIST_MISSING, HubProcess, LISTENING, ROOT, cleanup, getContext, publish, refusedUpgradeStatus, runToExit, subscribeAndOpen, unsubscribe } from './support.js';

const SKIP_REASON = 'skipped: dist/tabcast-server.js is missing, run `npm run build` first';
const named = (title: string) => (DIST_MISSING ? `${title} (${SKIP_REASON})` : title);
const SYNC = 'https://fhircast.hl7.org/events/syncerror';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tabcast-e2e-'));
});
afterEach(async () => {
  await cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(DIST_MISSING)(named('HUB-SERVE end to end through bin/tabcast.js'), () => {
  it('HUB-SERVE-01 HUB-SERVE-03 HUB-SERVE-04 HUB-SERVE-08 HUB-SEC-10 a full session: subscribe, notify, ack, SyncError, get-context, content sharing, unsubscribe, SIGTERM', async () => {
    const hub = await HubProcess.start(['--port', '0']);
    const url = hub.url;
    expect(hub.stdout).toMatch(/^FHIRcast hub listening on http:\/\/127\.0\.0\.1:\d+\/fhircast\/hub\n$/);
    const topic = `T-e2e-${randomUUID()}`;

    const reporting = await subscribeAndOpen(url, topic, 'Patient-open,DiagnosticReport-open,DiagnosticReport-update,SyncError', { name: 'Reporting' });
    expect(reporting.endpoint).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\//);
    expect(reporting.confirmation).toEqual({
      'hub.mode': 'subscribe',
      'hub.topic': topic,
      'hub.events': 'Patient-open,DiagnosticReport-open,DiagnosticReport-update,SyncError',
      'hub.lease_seconds': 7200,
    });
    const viewer = await subscribeAndOpen(url, topic, 'Patient-open,DiagnosticReport-*', { name: 'Viewer' });

    // Publish, notification to both, ack from one, a 409 from the other → SyncError to the first.
    const open = patientOpen(topic, 'pt-1', `ev-${randomUUID()}`);
    const accepted = await publish(url, open);
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('content-type')).toMatch(/json/);
    expect(await accepted.json()).toEqual({ id: open.id });
    const atReporting = await reporting.sock.nextEvent('Patient-open');
    const atViewer = await viewer.sock.nextEvent('Patient-open');
    for (const n of [atReporting, atViewer]) {
      expect(n.id).toBe(open.id);
      expect(n.timestamp).toBe(open.timestamp);
      expect(n.event['hub.topic']).toBe(topic);
      expect(n.event.context).toEqual(open.event.context);
    }
    reporting.sock.ack(atReporting, 200);
    viewer.sock.ack(atViewer, 409);
    const syncError = await reporting.sock.nextEvent('syncerror');
    const issue = syncError.event.context[0].resource.issue[0];
    expect(issue.severity).toBe('warning');
    expect(issue.code).toBe('processing');
    expect(issue.details.coding).toEqual(
      expect.arrayContaining([
        { system: `${SYNC}/eventid`, code: open.id },
        { system: `${SYNC}/eventname`, code: 'Patient-open' },
        { system: `${SYNC}/subscribername`, code: 'Viewer' },
      ]),
    );

    const patientContext = await getContext(url, topic);
    expect(patientContext['context.type']).toBe('Patient');
    expect(patientContext.context[0]).toEqual(open.event.context[0]);

    // Content sharing: open a report, update it, a stale update is refused.
    const report = reportOpen(topic, 'dr-1', 'pt-1');
    expect((await publish(url, report)).status).toBe(202);
    const reportAtReporting = await reporting.sock.nextEvent('DiagnosticReport-open');
    const reportAtViewer = await viewer.sock.nextEvent('DiagnosticReport-open');
    const v1 = reportAtReporting.event['context.versionId'];
    expect(v1).toBeTypeOf('string');
    expect(reportAtViewer.event['context.versionId']).toBe(v1);
    reporting.sock.ack(reportAtReporting);
    viewer.sock.ack(reportAtViewer);
    const reportContext = await getContext(url, topic);
    expect(reportContext['context.type']).toBe('DiagnosticReport');
    expect(reportContext['context.versionId']).toBe(v1);

    const update = reportUpdate(topic, 'dr-1', v1, 'obs-1');
    expect((await publish(url, update)).status).toBe(202);
    const updated = await reporting.sock.nextEvent('DiagnosticReport-update');
    reporting.sock.ack(updated);
    viewer.sock.ack(await viewer.sock.nextEvent('DiagnosticReport-update'));
    const v2 = updated.event['context.versionId'];
    expect(v2).toBeTypeOf('string');
    expect(v2).not.toBe(v1);
    expect(updated.event['context.priorVersionId']).toBe(v1);
    expect(updated.id).toBe(update.id);
    expect(updated.event.context[1].resource.id).toBe(update.event.context[1]!.resource!.id);
    const shared = await getContext(url, topic);
    expect(shared['context.versionId']).toBe(v2);
    const content = shared.context.at(-1);
    expect(content.key).toBe('content');
    expect(content.resource.type).toBe('collection');
    expect(content.resource.entry.map((e: any) => e.resource.id)).toEqual(['obs-1']);

    const stale = await publish(url, reportUpdate(topic, 'dr-1', v1, 'obs-2'));
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { issue: Array<{ code: string }> }).issue[0]!.code).toBe('conflict');

    // Unsubscribe: same endpoint back, denial, then close.
    const unsub = await unsubscribe(url, topic, reporting.endpoint);
    expect(unsub.status).toBe(202);
    expect(await unsub.json()).toEqual({ 'hub.channel.endpoint': reporting.endpoint });
    const denial = await reporting.sock.next((f) => f['hub.mode'] === 'denied', 'the denial');
    expect(denial).toMatchObject({ 'hub.topic': topic, 'hub.events': reporting.confirmation['hub.events'] });
    expect((await reporting.sock.closed).code).toBe(1000);

    // Endpoints appear in no notification, SyncError or get-context (HUB-SEC-10).
    const everything = JSON.stringify([reporting.sock.frames, viewer.sock.frames, patientContext, reportContext, shared]);
    for (const endpoint of [reporting.endpoint, viewer.endpoint]) {
      expect(everything).not.toContain(endpoint);
      expect(everything).not.toContain(new URL(endpoint).pathname.split('/').pop()!);
    }

    const stop = await hub.stop('SIGTERM');
    expect(stop.code).toBe(0);
    expect(stop.ms).toBeLessThan(3000);
    expect((await viewer.sock.closed).code).toBe(1001);
    expect(viewer.sock.frames.filter((f) => f['hub.mode'] === 'denied')).toEqual([]);
    // The server printed its one line and nothing that names an endpoint.
    expect(hub.stdout.trim().split('\n')).toHaveLength(1);
    for (const endpoint of [reporting.endpoint, viewer.endpoint]) expect(hub.stdout + hub.stderr).not.toContain(new URL(endpoint).pathname);
  });

  it('HUB-SERVE-08 package.json bin.tabcast is an ESM .js file that plain node runs', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(pkg.bin.tabcast).toMatch(/\.js$/);
    const p = await HubProcess.start(['--port', '0']);
    expect((await fetch(`${p.url}/.well-known/fhircast-configuration`)).status).toBe(200);
  });

  it('HUB-SERVE-03 SIGINT also ends the process with 0 within 3 s', async () => {
    const p = await HubProcess.start(['--port', '0']);
    const sub = await subscribeAndOpen(p.url, 'T-sigint', 'Patient-open');
    const stop = await p.stop('SIGINT');
    expect(stop.code).toBe(0);
    expect(stop.ms).toBeLessThan(3000);
    expect((await sub.sock.closed).code).toBe(1001);
  });

  it('HUB-SERVE-02 HUB-SEC-07 --path moves hub.url; without --host the hub is on 127.0.0.1', async () => {
    const p = await HubProcess.start(['--port', '0', '--path', '/other/hub']);
    expect(p.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/other\/hub$/);
    expect((await fetch(`${p.url}/.well-known/fhircast-configuration`)).status).toBe(200);
  });

  it('HUB-SERVE-05 --ack-timeout-ms turns a silent subscriber into a SyncError and a denial', async () => {
    const p = await HubProcess.start(['--port', '0', '--ack-timeout-ms', '300']);
    const watcher = await subscribeAndOpen(p.url, 'T-ack', 'SyncError', { name: 'Watcher' });
    const silent = await subscribeAndOpen(p.url, 'T-ack', 'Patient-open', { name: 'Silent' });
    const open = patientOpen('T-ack', 'p1');
    await publish(p.url, open);
    await silent.sock.nextEvent('Patient-open');
    const syncError = await watcher.sock.nextEvent('syncerror');
    expect(syncError.event.context[0].resource.issue[0].details.coding).toContainEqual({ system: `${SYNC}/eventid`, code: open.id });
    await silent.sock.next((f) => f['hub.mode'] === 'denied', 'the denial');
    expect((await silent.sock.closed).code).toBe(1000);
  });

  it('HUB-SERVE-06 HUB-SEC-06 --users, --data and two --allow-origin flags are accepted together', async () => {
    const users = join(dir, 'users.json');
    await writeFile(users, JSON.stringify({ secret: 's-606', groups: [['joe']] }));
    const p = await HubProcess.start(['--port', '0', '--users', users, '--data', join(dir, 'data.json'), '--allow-origin', 'http://a.example', '--allow-origin', 'http://b.example']);
    for (const origin of ['http://a.example', 'http://b.example']) {
      const res = await fetch(`${p.url}/.well-known/fhircast-configuration`, { headers: { origin } });
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    }
    expect((await fetch(`${p.url}/gettopic?username=joe&secret=s-606`)).status).toBe(200);
  });

  const failures: Array<[string, string[], RegExp]> = [
    ['an unknown flag', ['serve', '--port', '0', '--turbo'], /--turbo/],
    ['a bad flag value', ['serve', '--port', 'abc'], /--port/],
    ['a bad --ack-timeout-ms', ['serve', '--port', '0', '--ack-timeout-ms', 'soon'], /--ack-timeout-ms/],
  ];
  for (const [what, args, message] of failures) {
    it(`HUB-SERVE-07 ${what} ends the process non-zero with a message on stderr, without listening`, async () => {
      const r = await runToExit(args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).not.toMatch(LISTENING);
    });
  }

  it('HUB-SERVE-07 a port in use ends the process non-zero with a message on stderr', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const r = await runToExit(['serve', '--port', String(port)]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/in use/);
      expect(r.stdout).not.toMatch(LISTENING);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('HUB-ID-08 HUB-SEC-10 with a users file, neither the output nor the data directory ever holds the secret or an endpoint', async () => {
    const secret = `secret-${randomUUID()}`;
    const users = join(dir, 'users.json');
    const data = join(dir, 'data.json');
    await writeFile(users, JSON.stringify({ secret, groups: [['gkustas61', 'georgek']] }));
    const p = await HubProcess.start(['--port', '0', '--users', users, '--data', data]);
    const topic = ((await (await fetch(`${p.url}/gettopic?username=georgek&secret=${secret}`)).json()) as Record<string, string>)['hub.topic']!;
    const auth = { authorization: `Bearer ${secret}` };
    const sub = await subscribeAndOpen(p.url, topic, 'Patient-open', { headers: auth });
    expect((await publish(p.url, patientOpen(topic, 'p1'), auth)).status).toBe(202);
    expect((await publish(p.url, patientOpen(topic, 'p1'))).status).toBe(401);
    await sub.sock.nextEvent('Patient-open');
    expect((await p.stop()).code).toBe(0);
    const stored = (await Promise.all((await readdir(data)).map((f) => readFile(join(data, f), 'latin1')))).join('\n');
    for (const text of [p.stdout, p.stderr, stored]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(new URL(sub.endpoint).pathname);
    }
  });

  it('HUB-ID-09 a malformed users file, or a user in two groups, stops the process before it listens', async () => {
    for (const content of ['{"secret": ', JSON.stringify({ secret: 'x', groups: [['a', 'b'], ['b']] })]) {
      const users = join(dir, 'users.json');
      await writeFile(users, content);
      const r = await runToExit(['serve', '--port', '0', '--users', users]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/users file/);
      expect(r.stdout).not.toMatch(LISTENING);
    }
  });

  it('HUB-PERSIST-05 HUB-PERSIST-01 a change answered 202 survives a SIGKILL right after it, and GetTopic topics survive too', async () => {
    const data = join(dir, 'data.json');
    const users = join(dir, 'users.json');
    await writeFile(users, JSON.stringify({ secret: 's-p05', groups: [['joe']] }));
    const args = ['--port', '0', '--data', data, '--users', users];
    const auth = { authorization: 'Bearer s-p05' };
    const first = await HubProcess.start(args);
    const topic = ((await (await fetch(`${first.url}/gettopic?username=joe&secret=s-p05`)).json()) as Record<string, string>)['hub.topic']!;
    const res = await publish(first.url, patientOpen(topic, 'p-survivor'), auth);
    expect(res.status).toBe(202);
    const killed = await first.stop('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');

    const second = await HubProcess.start(args);
    const again = ((await (await fetch(`${second.url}/gettopic?username=joe&secret=s-p05`)).json()) as Record<string, string>)['hub.topic'];
    expect(again).toBe(topic);
    const ctx = await getContext(second.url, topic, auth);
    expect(ctx['context.type']).toBe('Patient');
    expect(ctx.context[0].resource.id).toBe('p-survivor');
  });

  it('HUB-PERSIST-04 after a restart old endpoints are refused with 404', async () => {
    const data = join(dir, 'data.json');
    const first = await HubProcess.start(['--port', '0', '--data', data]);
    const sub = await subscribeAndOpen(first.url, 'T-e2e-p04', 'Patient-open');
    await first.stop();
    const second = await HubProcess.start(['--port', '0', '--data', data]);
    const port = new URL(second.url).port;
    expect(await refusedUpgradeStatus(sub.endpoint.replace(/:\d+\//, `:${port}/`))).toBe(404);
  });

  it('HUB-PERSIST-06 a missing data directory is created; one that cannot be opened stops the process with a message and stays untouched', async () => {
    const data = join(dir, 'fresh');
    const p = await HubProcess.start(['--port', '0', '--data', data]);
    expect((await stat(data)).isDirectory()).toBe(true);
    await p.stop();

    const corrupt = join(dir, 'corrupt');
    const garbage = '{"format": "tabcast-data", "version": 1, "entries": {"topic:x": ';
    await writeFile(corrupt, garbage);
    const r = await runToExit(['serve', '--port', '0', '--data', corrupt]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cannot open data directory .*corrupt.*left untouched/);
    expect(r.stdout).not.toMatch(LISTENING);
    expect(await readFile(corrupt, 'utf8')).toBe(garbage);
  });
});
