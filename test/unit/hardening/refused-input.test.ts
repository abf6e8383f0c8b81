/**
 * Issue #19 H1 (HUB-SEC-11): input the hub refuses, or names it never needs again, leave nothing
 * behind. The attack of the review is replayed against a real `tabcast serve` process and its
 * resident memory read from /proc: before the fix, 40 refused subscribe requests of 0.65 MiB and
 * 100 publishes under distinct long organisation event names kept hundreds of MB for good.
 */
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { HubError, MAX_EVENT_NAME_LENGTH, MAX_EVENTS_PER_SUBSCRIPTION, MAX_SUBSCRIBER_NAME_LENGTH, parseSubscriptionRequest, resolveEventName } from '../../../src/protocol/index.js';
import { ServeProcess } from './support/serve-process.js';

const MB = 2 ** 20;
/** The generous bound: a fixed hub grows a few MB at most; the unfixed one grew 600+. */
const GROWTH_BOUND_MB = 50;

let serve: ServeProcess | undefined;
afterEach(async () => {
  await serve?.kill();
  serve = undefined;
});

/** Resident set size of a process in MB (Linux). */
function rssMb(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(line![1]) / 1024;
}

/**
 * Runs a full garbage collection in the serve process through its inspector, so that RSS counts
 * what the process keeps, not garbage a loaded machine has not collected yet.
 */
async function collectGarbage(serve: ServeProcess): Promise<void> {
  const url = /Debugger listening on (ws:\/\/\S+)/.exec(serve.stderr)?.[1];
  if (!url) throw new Error(`no inspector address in: ${serve.stderr}`);
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const done = new Promise<void>((resolve) => ws.on('message', (data) => JSON.parse(String(data)).id === 1 && resolve()));
  ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
  await done;
  ws.close();
}

/** A form body near `bytes` long listing distinct organisation event names, then one the hub refuses. */
function refusedSubscribeBody(round: number, topic: string, bytes: number): string {
  const names: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const name = `org${round}x${i}.example.event${'e'.repeat(40)}`;
    names.push(name);
    length += name.length + 3;
  }
  names.push('not an event name');
  return new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.channel.type': 'websocket', 'hub.topic': topic, 'hub.events': names.join(',') }).toString();
}

async function post(url: string, contentType: string, body: string): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  await res.arrayBuffer();
  return res.status;
}

describe('issue #19 H1: refused input leaves no trace (HUB-SEC-11)', () => {
  it('H1 HUB-SEC-11 refused 0.65 MiB subscribe requests and distinct long organisation event names grow RSS by under 50 MB', async () => {
    serve = await ServeProcess.start([], ['--inspect=127.0.0.1:0']);
    const topic = 'h1-topic';
    const pid = serve.child.pid!;
    // Warm up with the same traffic, so the baseline already holds the server's working set.
    for (let i = 0; i < 3; i++) {
      expect(await post(serve.url, 'application/x-www-form-urlencoded', refusedSubscribeBody(1000 + i, topic, 0.65 * MB))).toBe(400);
    }
    await collectGarbage(serve);
    const before = rssMb(pid);

    for (let round = 0; round < 40; round++) {
      expect(await post(serve.url, 'application/x-www-form-urlencoded', refusedSubscribeBody(round, topic, 0.65 * MB))).toBe(400);
    }
    for (let i = 0; i < 100; i++) {
      // A name of 0.9 MB: accepted and remembered before the fix, refused (too long) after it.
      const name = `org${i}.example.${'n'.repeat(0.9 * MB)}`;
      const body = JSON.stringify({ timestamp: new Date().toISOString(), id: `h1-${i}`, event: { 'hub.topic': topic, 'hub.event': name, context: [] } });
      await post(serve.url, 'application/json', body);
    }
    await collectGarbage(serve);
    const growth = rssMb(pid) - before;
    expect(growth, `RSS grew by ${growth.toFixed(0)} MB`).toBeLessThan(GROWTH_BOUND_MB);
  }, 120_000);
});

/** The status and message a subscription request is refused with, or undefined when it is accepted. */
function refusal(params: Record<string, unknown>): { status: number; message: string } | undefined {
  try {
    parseSubscriptionRequest(params);
  } catch (error) {
    return error instanceof HubError ? { status: error.status, message: error.message } : undefined;
  }
  return undefined;
}

describe('issue #19 H1: client strings have length limits (HUB-SEC-11)', () => {
  const base = { 'hub.mode': 'subscribe', 'hub.channel.type': 'websocket', 'hub.topic': 't', 'hub.events': 'patient-open' };

  it('H1 HUB-SEC-11 subscriber.name over the limit is a 400 that names it; at the limit it is kept', () => {
    expect(refusal({ ...base, 'subscriber.name': 'n'.repeat(MAX_SUBSCRIBER_NAME_LENGTH + 1) })).toMatchObject({ status: 400, message: expect.stringContaining('subscriber.name') });
    expect(parseSubscriptionRequest({ ...base, 'subscriber.name': 'n'.repeat(MAX_SUBSCRIBER_NAME_LENGTH) }).subscriberName).toHaveLength(MAX_SUBSCRIBER_NAME_LENGTH);
  });

  it('H1 HUB-SEC-11 more hub.events entries than the limit, or one entry over the name limit, is a 400', () => {
    const many = Array.from({ length: MAX_EVENTS_PER_SUBSCRIPTION + 1 }, (_, i) => `org.example.e${i}`).join(',');
    expect(refusal({ ...base, 'hub.events': many })).toMatchObject({ status: 400, message: expect.stringContaining('hub.events') });
    expect(refusal({ ...base, 'hub.events': `org.example.${'x'.repeat(MAX_EVENT_NAME_LENGTH)}` })).toMatchObject({ status: 400, message: expect.stringContaining('longer than') });
    expect(parseSubscriptionRequest({ ...base, 'hub.events': many.split(',').slice(1).join(',') }).events).toHaveLength(MAX_EVENTS_PER_SUBSCRIPTION);
  });

  it('H1 HUB-SEC-11 an organisation event name over the limit is not an event; at the limit it is', () => {
    const at = `org.${'x'.repeat(MAX_EVENT_NAME_LENGTH - 4)}`;
    expect(resolveEventName(at)?.name).toBe(at);
    expect(resolveEventName(`${at}x`)).toBeUndefined();
  });
});
