import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lmdbStorage } from '../../../src/adapters/lmdb-storage.js';
import { contextKey, topicKey } from '../../../src/hub/records.js';
import { startServer, type ServerOptions } from '../../../src/server/index.js';
import { ServeProcess } from '../hardening/support/serve-process.js';
import { readStore, storedAnchorIds } from '../support/stored.js';
import { patientOpen, reportOpen, reportUpdate } from '../wire/support.js';
import { cleanup, getContext, publish, refusedUpgradeStatus, subscribeAndOpen, track } from './support.js';

const SECRET = 'persist-secret-7d2e';
const USERS = { secret: SECRET, groups: [['gkustas61', 'georgek'], ['joe']] };

let dir: string;
let dataDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tabcast-persist-'));
  dataDir = join(dir, 'data');
});
afterEach(async () => {
  await cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** Starts a hub on the test's data directory; `close()` it to "restart". */
const startOnDir = async (options: ServerOptions = {}) => track(await startServer({ port: 0, heartbeatMs: 0, storage: lmdbStorage(dataDir), ...options }));

const closeEvent = (open: ReturnType<typeof patientOpen> | ReturnType<typeof reportOpen>, name: string) => ({
  ...open,
  id: `${open.id}-close`,
  event: { ...open.event, 'hub.event': name },
});

describe('HUB-PERSIST state across restarts of tabcast serve (--data DIR, LMDB)', () => {
  it('HUB-PERSIST-01 HUB-ID-08 GetTopic topics survive a restart, and the store never holds the secret', async () => {
    const first = await startOnDir({ users: USERS });
    const ask = async (url: string, user: string) =>
      ((await (await fetch(`${url}/gettopic?username=${user}&secret=${SECRET}`)).json()) as Record<string, string>)['hub.topic'];
    const before = await ask(first.url, 'georgek');
    await first.close();
    const second = await startOnDir({ users: USERS });
    expect(await ask(second.url, 'georgek')).toBe(before);
    expect(await ask(second.url, 'gkustas61')).toBe(before);
    await second.close();
    const stored = JSON.stringify([...(await readStore(dataDir))]);
    expect(stored).toContain(before!);
    expect(stored).not.toContain(SECRET);
    for (const file of await readdir(dataDir)) expect((await readFile(join(dataDir, file))).includes(SECRET), file).toBe(false);
  });

  it('HUB-PERSIST-02 open contexts, current and not, survive: same get-context, and closing the non-current one still works', async () => {
    const first = await startOnDir();
    // Same patient in both: the report then implies no second, newer Patient-open (HUB-CTX-13).
    const patient = patientOpen('T-p02', 'p-2');
    expect((await publish(first.url, patient)).status).toBe(202);
    expect((await publish(first.url, reportOpen('T-p02', 'dr-1', 'p-2'))).status).toBe(202);
    const before = await getContext(first.url, 'T-p02');
    expect(before['context.type']).toBe('DiagnosticReport');
    await first.close();

    const second = await startOnDir();
    expect(await getContext(second.url, 'T-p02')).toEqual(before);
    // The non-current Patient context came back too: a new Patient-open subscriber gets it as catch-up.
    const late = await subscribeAndOpen(second.url, 'T-p02', 'Patient-open');
    const catchUp = await late.sock.nextEvent('Patient-open');
    expect(catchUp.id).toBe(patient.id);
    late.sock.ack(catchUp);
    const openAnchors = () => second.hub.inspect().topics.find((t) => t.topic === 'T-p02')!.open.map((o) => `${o.type}/${o.id}`);
    expect(openAnchors()).toHaveLength(2);
    expect(openAnchors()).toEqual(expect.arrayContaining(['DiagnosticReport/dr-1', 'Patient/p-2']));
    expect((await publish(second.url, closeEvent(patient, 'Patient-close'))).status).toBe(202);
    expect(openAnchors()).toEqual(['DiagnosticReport/dr-1']);
    expect(await getContext(second.url, 'T-p02')).toEqual(before);
  });

  it('HUB-PERSIST-03 content sharing survives: an update with the versionId from before the restart is accepted, content intact', async () => {
    const first = await startOnDir();
    await publish(first.url, reportOpen('T-p03', 'dr-3', 'p-3'));
    const v1 = (await getContext(first.url, 'T-p03'))['context.versionId'];
    expect((await publish(first.url, reportUpdate('T-p03', 'dr-3', v1, 'obs-1'))).status).toBe(202);
    const v2 = (await getContext(first.url, 'T-p03'))['context.versionId'];
    expect(v2).not.toBe(v1);
    await first.close();

    const second = await startOnDir();
    const after = await getContext(second.url, 'T-p03');
    expect(after['context.versionId']).toBe(v2);
    const content = after.context.find((e: any) => e.key === 'content').resource;
    expect(content.entry.map((e: any) => e.resource.id)).toEqual(['obs-1']);
    expect((await publish(second.url, reportUpdate('T-p03', 'dr-3', v1, 'obs-stale'))).status).toBe(409);
    expect((await publish(second.url, reportUpdate('T-p03', 'dr-3', v2, 'obs-2'))).status).toBe(202);
    const ids = (await getContext(second.url, 'T-p03')).context.find((e: any) => e.key === 'content').resource.entry.map((e: any) => e.resource.id);
    expect(ids).toEqual(['obs-1', 'obs-2']);
  });

  it('HUB-PERSIST-04 subscriptions do not survive: old endpoints get 404, and a re-subscribe gets its catch-up from the stored state', async () => {
    const first = await startOnDir();
    const sub = await subscribeAndOpen(first.url, 'T-p04', 'Patient-open');
    const open = patientOpen('T-p04', 'p-4', 'ev-p04');
    await publish(first.url, open);
    sub.sock.ack(await sub.sock.nextEvent('Patient-open'));
    await first.close();

    const second = await startOnDir();
    const oldEndpoint = sub.endpoint.replace(/:\d+\//, `:${new URL(second.url).port}/`);
    expect(await refusedUpgradeStatus(oldEndpoint)).toBe(404);
    const again = await subscribeAndOpen(second.url, 'T-p04', 'Patient-open');
    const catchUp = await again.sock.nextEvent('Patient-open');
    expect(catchUp.id).toBe('ev-p04');
    expect(catchUp.timestamp).toBe(open.timestamp);
  });

  it('HUB-PERSIST-05 a change is in the store when its 202 arrives', async () => {
    const server = await startOnDir();
    expect((await publish(server.url, patientOpen('T-p05', 'p-durable'))).status).toBe(202);
    expect(storedAnchorIds(await readStore(dataDir), 'T-p05')).toEqual(['p-durable']);
  });

  it('HUB-PERSIST-06 a missing data directory is created, with its parents, owner-only', async () => {
    dataDir = join(dir, 'a', 'b', 'data');
    const server = await startOnDir();
    await publish(server.url, patientOpen('T-p06', 'p-6'));
    await server.close();
    const { mode } = await import('node:fs/promises').then((fs) => fs.stat(dataDir));
    expect(mode & 0o077).toBe(0);
    expect(storedAnchorIds(await readStore(dataDir), 'T-p06')).toEqual(['p-6']);
  });

  it('HUB-PERSIST-06 a store that cannot be opened (a corrupt data.mdb) stops the start with a clear error and is left untouched', async () => {
    await mkdir(dataDir);
    const garbage = Buffer.alloc(64 * 1024, 0x5a);
    await writeFile(join(dataDir, 'data.mdb'), garbage);
    await expect(startServer({ port: 0, storage: lmdbStorage(dataDir) })).rejects.toThrow(/cannot open data directory .*data.*left untouched/);
    expect((await readFile(join(dataDir, 'data.mdb'))).equals(garbage)).toBe(true);
  });

  it('HUB-PERSIST-06 a data path that is a file, not a directory, stops the start with a clear error', async () => {
    await writeFile(dataDir, 'not a directory');
    await expect(startServer({ port: 0, storage: lmdbStorage(dataDir) })).rejects.toThrow(/cannot open data directory/);
    expect(await readFile(dataDir, 'utf8')).toBe('not a directory');
  });

  it('L2 HUB-SEC-15 HUB-PERSIST-06 a malformed record in the store stops tabcast serve with a message naming it, and the store is left as it was', async () => {
    const first = await startOnDir();
    await publish(first.url, patientOpen('T-l2', 'p-ok'));
    await first.close();
    const raw = lmdbStorage(dataDir);
    await raw.loadAll();
    await raw.writeBatch(new Map<string, unknown>([[contextKey('T-l2', 'Patient', 'p-bad'), { topic: 'T-l2', anchorType: 'Patient', anchorId: 'p-bad', versionId: 7 }]]));
    await raw.close();
    const before = await readStore(dataDir);
    const proc = await ServeProcess.start(['--data', dataDir]).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(proc).toMatch(/exited \(1\)/);
    expect(proc).toMatch(/malformed record.*ctx\/T-l2\/Patient\/p-bad/);
    expect(proc).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(await readStore(dataDir)).toEqual(before);
  });
});

describe('issue 18: persistence follows what changed', () => {
  it('HUB-CTX-13 HUB-PERSIST-02 closing a resource open only through a derived open is stored: after a restart it is not announced again (LMDB)', async () => {
    const first = await startOnDir();
    // DiagnosticReport-open implies Patient-open for p-9, which is not open as its own context.
    expect((await publish(first.url, reportOpen('T-dc', 'dr-9', 'p-9'))).status).toBe(202);
    expect((await publish(first.url, { ...patientOpen('T-dc', 'p-9'), event: { ...patientOpen('T-dc', 'p-9').event, 'hub.event': 'Patient-close' } })).status).toBe(202);
    await first.close();
    const second = await startOnDir();
    const late = await subscribeAndOpen(second.url, 'T-dc', 'Patient-open');
    // The confirmation came; a catch-up would follow it at once. Publish a marker and see it arrive first.
    expect((await publish(second.url, patientOpen('T-dc', 'p-marker', 'ev-marker'))).status).toBe(202);
    const first202 = await late.sock.nextEvent('Patient-open');
    expect(first202.id, 'the closed patient came back in the catch-up').toBe('ev-marker');
  });
});

describe('HUB-BOUND-02 on the directory store', () => {
  it('HUB-BOUND-02 an open writes its context record and the topic header, an update only the context and the resources it changed', async () => {
    const lmdb = lmdbStorage(dataDir);
    const batches: string[][] = [];
    const server = await startOnDir({ storage: { loadAll: () => lmdb.loadAll(), writeBatch: (c) => (batches.push([...c.keys()].sort()), lmdb.writeBatch(c)), close: () => lmdb.close() } });
    for (let i = 0; i < 20; i++) expect((await publish(server.url, reportOpen('T-b2', `dr-${i}`, 'p-1'))).status).toBe(202);
    batches.length = 0;
    expect((await publish(server.url, reportOpen('T-b2', 'dr-new', 'p-1'))).status).toBe(202);
    expect(batches).toEqual([[contextKey('T-b2', 'DiagnosticReport', 'dr-new'), topicKey('T-b2')].sort()]);
    const v = (await getContext(server.url, 'T-b2'))['context.versionId'];
    batches.length = 0;
    expect((await publish(server.url, reportUpdate('T-b2', 'dr-new', v, 'obs-1'))).status).toBe(202);
    expect(batches.flat()).toEqual([contextKey('T-b2', 'DiagnosticReport', 'dr-new'), `res/T-b2/DiagnosticReport/dr-new/Observation/obs-1`].sort());
  });
});

describe('HUB-PERSIST LMDB storage adapter', () => {
  it('HUB-PERSIST-05 writeBatch resolves once the batch is stored; deletes remove keys; keys too long for LMDB round-trip', async () => {
    const storage = lmdbStorage(dataDir);
    expect([...(await storage.loadAll())]).toEqual([]);
    const long = `ctx/${'t'.repeat(200)}/Patient/${'x'.repeat(3000)}`;
    await storage.writeBatch(new Map<string, unknown>([['a', { n: 1 }], ['b', 'two'], [long, { big: true }]]));
    await storage.writeBatch(new Map<string, unknown>([['a', undefined], ['c', [3]]]));
    await storage.close();
    const reopened = lmdbStorage(dataDir);
    expect(Object.fromEntries(await reopened.loadAll())).toEqual({ b: 'two', c: [3], [long]: { big: true } });
    await reopened.writeBatch(new Map([[long, undefined]]));
    expect([...(await reopened.loadAll()).keys()].sort()).toEqual(['b', 'c']);
    await reopened.close();
  });
});
