import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileStorage } from '../../../src/adapters/file-storage.js';
import { startServer, type ServerOptions } from '../../../src/server/index.js';
import { patientOpen, reportOpen, reportUpdate } from '../wire/support.js';
import { cleanup, getContext, publish, refusedUpgradeStatus, subscribeAndOpen, track } from './support.js';

const SECRET = 'persist-secret-7d2e';
const USERS = { secret: SECRET, groups: [['gkustas61', 'georgek'], ['joe']] };

let dir: string;
let dataFile: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tabcast-persist-'));
  dataFile = join(dir, 'hub.json');
});
afterEach(async () => {
  await cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** Starts a hub on the test's data file; `close()` it to "restart". */
const startOnFile = async (options: ServerOptions = {}) => track(await startServer({ port: 0, heartbeatMs: 0, storage: fileStorage(dataFile), ...options }));

const closeEvent = (open: ReturnType<typeof patientOpen> | ReturnType<typeof reportOpen>, name: string) => ({
  ...open,
  id: `${open.id}-close`,
  event: { ...open.event, 'hub.event': name },
});

describe('HUB-PERSIST state across restarts of tabcast serve (--data)', () => {
  it('HUB-PERSIST-01 HUB-ID-08 GetTopic topics survive a restart, and the data file never holds the secret', async () => {
    const first = await startOnFile({ users: USERS });
    const ask = async (url: string, user: string) =>
      ((await (await fetch(`${url}/gettopic?username=${user}&secret=${SECRET}`)).json()) as Record<string, string>)['hub.topic'];
    const before = await ask(first.url, 'georgek');
    await first.close();
    const second = await startOnFile({ users: USERS });
    expect(await ask(second.url, 'georgek')).toBe(before);
    expect(await ask(second.url, 'gkustas61')).toBe(before);
    await second.close();
    const stored = await readFile(dataFile, 'utf8');
    expect(stored).toContain(before!);
    expect(stored).not.toContain(SECRET);
  });

  it('HUB-PERSIST-02 open contexts, current and not, survive: same get-context, and closing the non-current one still works', async () => {
    const first = await startOnFile();
    // Same patient in both: the report then implies no second, newer Patient-open (HUB-CTX-13).
    const patient = patientOpen('T-p02', 'p-2');
    expect((await publish(first.url, patient)).status).toBe(202);
    expect((await publish(first.url, reportOpen('T-p02', 'dr-1', 'p-2'))).status).toBe(202);
    const before = await getContext(first.url, 'T-p02');
    expect(before['context.type']).toBe('DiagnosticReport');
    await first.close();

    const second = await startOnFile();
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
    const first = await startOnFile();
    await publish(first.url, reportOpen('T-p03', 'dr-3', 'p-3'));
    const v1 = (await getContext(first.url, 'T-p03'))['context.versionId'];
    expect((await publish(first.url, reportUpdate('T-p03', 'dr-3', v1, 'obs-1'))).status).toBe(202);
    const v2 = (await getContext(first.url, 'T-p03'))['context.versionId'];
    expect(v2).not.toBe(v1);
    await first.close();

    const second = await startOnFile();
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
    const first = await startOnFile();
    const sub = await subscribeAndOpen(first.url, 'T-p04', 'Patient-open');
    const open = patientOpen('T-p04', 'p-4', 'ev-p04');
    await publish(first.url, open);
    sub.sock.ack(await sub.sock.nextEvent('Patient-open'));
    await first.close();

    const second = await startOnFile();
    const oldEndpoint = sub.endpoint.replace(/:\d+\//, `:${new URL(second.url).port}/`);
    expect(await refusedUpgradeStatus(oldEndpoint)).toBe(404);
    const again = await subscribeAndOpen(second.url, 'T-p04', 'Patient-open');
    const catchUp = await again.sock.nextEvent('Patient-open');
    expect(catchUp.id).toBe('ev-p04');
    expect(catchUp.timestamp).toBe(open.timestamp);
  });

  it('HUB-PERSIST-05 a change is on disk when its 202 arrives', async () => {
    const server = await startOnFile();
    expect((await publish(server.url, patientOpen('T-p05', 'p-durable'))).status).toBe(202);
    expect(await readFile(dataFile, 'utf8')).toContain('p-durable');
  });

  it('HUB-PERSIST-06 a missing data file is created', async () => {
    await startOnFile();
    const stored = JSON.parse(await readFile(dataFile, 'utf8'));
    expect(typeof stored).toBe('object');
  });

  for (const [what, content] of [
    ['not JSON', '{"format": "tabcast-data", "entries": {'],
    ['JSON of another shape', '[1, 2, 3]'],
    ['empty', ''],
  ] as const) {
    it(`HUB-PERSIST-06 a corrupt data file (${what}) stops the start with a clear error and is left untouched`, async () => {
      await writeFile(dataFile, content);
      await expect(startServer({ port: 0, storage: fileStorage(dataFile) })).rejects.toThrow(/data file .*hub\.json.* corrupt/);
      expect(await readFile(dataFile, 'utf8')).toBe(content);
    });
  }
});

describe('HUB-PERSIST file storage adapter', () => {
  it('HUB-PERSIST-05 writeBatch resolves only once the batch is in the file; deletes remove keys; no temporary files remain', async () => {
    const storage = fileStorage(dataFile);
    expect([...(await storage.loadAll())]).toEqual([]);
    await storage.writeBatch(new Map<string, unknown>([['a', { n: 1 }], ['b', 'two']]));
    expect(JSON.parse(await readFile(dataFile, 'utf8')).entries).toEqual({ a: { n: 1 }, b: 'two' });
    await storage.writeBatch(new Map<string, unknown>([['a', undefined], ['c', [3]]]));
    expect(JSON.parse(await readFile(dataFile, 'utf8')).entries).toEqual({ b: 'two', c: [3] });
    expect(await readdir(dir)).toEqual(['hub.json']);
    const reopened = fileStorage(dataFile);
    expect(Object.fromEntries(await reopened.loadAll())).toEqual({ b: 'two', c: [3] });
  });

  it('HUB-PERSIST-05 concurrent batches land in order and each is complete', async () => {
    const storage = fileStorage(dataFile);
    await storage.loadAll();
    await Promise.all(Array.from({ length: 10 }, (_, i) => storage.writeBatch(new Map<string, unknown>([['k', i], [`only-${i}`, true]]))));
    const entries = JSON.parse(await readFile(dataFile, 'utf8')).entries;
    expect(entries.k).toBe(9);
    for (let i = 0; i < 10; i++) expect(entries[`only-${i}`]).toBe(true);
  });

  it('HUB-PERSIST-06 a failed write rejects with a message and leaves the previous file and state', async () => {
    const storage = fileStorage(join(dir, 'missing-dir', 'hub.json'));
    await expect(storage.loadAll()).rejects.toThrow(/cannot write data file/);
    const good = fileStorage(dataFile);
    await good.writeBatch(new Map([['kept', 1]]));
    await rm(dir, { recursive: true, force: true });
    await expect(good.writeBatch(new Map([['lost', 2]]))).rejects.toThrow(/cannot write data file/);
    expect(Object.fromEntries(await good.loadAll())).toEqual({ kept: 1 });
  });
});
