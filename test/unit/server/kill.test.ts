/**
 * The working-day kill test of issue 12: 10,000 distinct studies on one topic through
 * `tabcast serve --data DIR`, SIGKILL after the last 202, restart. The hub then holds exactly the
 * 100 most recent open contexts (HUB-BOUND-03), with their versionIds (HUB-PERSIST-02/05), in a
 * store that stays small.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lmdbStorage } from '../../../src/adapters/lmdb-storage.js';
import { startServer } from '../../../src/server/index.js';
import { ServeProcess } from '../hardening/support/serve-process.js';
import { cleanup, getContext, subscribeAndOpen, track } from './support.js';

const STUDIES = 10_000;
const WAVE = 100;
const TOPIC = 'reading-room-1';

let dir: string | undefined;
afterEach(async () => {
  await cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const studyOpen = (i: number) => ({
  timestamp: '2026-01-01T08:00:00.000Z',
  id: `ev-${i}`,
  event: {
    'hub.topic': TOPIC,
    'hub.event': 'ImagingStudy-open',
    context: [
      { key: 'study', resource: { resourceType: 'ImagingStudy', id: `st-${i}`, status: 'available', subject: { reference: `Patient/p-${i % 40}` } } },
      { key: 'patient', resource: { resourceType: 'Patient', id: `p-${i % 40}` } },
    ],
  },
});

describe('a working day through tabcast serve --data DIR, then SIGKILL', () => {
  it('HUB-BOUND-03 HUB-PERSIST-02 HUB-PERSIST-05 after 10,000 distinct studies and a SIGKILL, the restarted hub has exactly the 100 most recent open contexts with their versionIds, in under 2 MB', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tabcast-day-'));
    const data = join(dir, 'data');
    const hub = await ServeProcess.start(['--data', data, '--ack-timeout-ms', '0', '--heartbeat-ms', '0', '--max-connections-per-ip', '1000']);
    try {
      const post = async (i: number) => {
        const res = await fetch(hub.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(studyOpen(i)) });
        await res.arrayBuffer();
        if (res.status !== 202) throw new Error(`study ${i} answered ${res.status}`);
      };
      // Waves of concurrent requests keep this quick; each wave is answered before the next starts,
      // so the 100 most recent are st-9900..st-9998 (the last wave) and the final single open, st-9999.
      const wave = async (start: number) => Promise.all(Array.from({ length: Math.min(WAVE, STUDIES - 1 - start) }, (_, k) => post(start + k)));
      for (let start = 0; start < STUDIES - 100; start += WAVE) await wave(start);
      // A viewer joins for the last 100, to learn the versionId the hub gave each of them.
      const viewer = await subscribeAndOpen(hub.url, TOPIC, 'ImagingStudy-open');
      await wave(STUDIES - 100);
      await post(STUDIES - 1);
      hub.child.kill('SIGKILL'); // right after the last 202
      await hub.exited;
      const versionOf = new Map<string, string>();
      for (const f of viewer.sock.frames) if (f.event?.['hub.event'] === 'ImagingStudy-open') versionOf.set(f.event.context[0].resource.id, f.event['context.versionId']);
      // the catch-up (st-9899, the current one when the viewer joined) and the 100 opens after it
      expect(versionOf.size, 'the viewer saw every open after it joined').toBe(101);

      const bytes = Number(execFileSync('du', ['-sk', data]).toString().split('\t')[0]) * 1024;
      expect(bytes, `du of the data directory is ${bytes} bytes`).toBeLessThan(2 * 1024 * 1024);

      const restarted = track(await startServer({ port: 0, heartbeatMs: 0, storage: lmdbStorage(data) }));
      const topic = restarted.hub.inspect().topics.find((t) => t.topic === TOPIC)!;
      const recent = Array.from({ length: 100 }, (_, k) => `st-${STUDIES - 100 + k}`);
      expect(topic.open.map((o) => o.id).sort()).toEqual([...recent].sort());
      for (const o of topic.open) expect(o.versionId, `versionId of ${o.id}`).toBe(versionOf.get(o.id));
      expect(topic.current).toBe(`ImagingStudy/st-${STUDIES - 1}`);
      const current = await getContext(restarted.url, TOPIC);
      expect(current['context.versionId']).toBe(versionOf.get(`st-${STUDIES - 1}`));
    } finally {
      await hub.kill();
    }
  }, 240_000); // ~10 s on an idle two-core machine; far longer when it is shared
});
