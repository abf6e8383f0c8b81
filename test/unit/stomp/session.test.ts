/**
 * The STOMP session without a network (sans-I/O): heart-beats on a fake clock (HUB-STOMP-11), and
 * bad input through the wire's STOMP door (HUB-STOMP-12). Server frames are read with stompjs's parser.
 */
import { Parser } from '@stomp/stompjs';
import { describe, expect, it } from 'vitest';
import { StompSession } from '../../../src/stomp/session.js';
import { createWireHandler } from '../../../src/wire/index.js';
import { makeHub } from '../support/harness.js';
import { HUB_URL } from '../wire/support.js';

const STOMP_URL = 'ws://hub.test/fhircast/hub/websocket';

/** The hub side of a socket: server frames parsed by stompjs, heart-beats counted, the close kept. */
class ClientEnd {
  frames: Array<{ command: string; headers: Record<string, string>; body: string }> = [];
  beats = 0;
  closedWith?: { code: number; reason: string };
  private readonly parser = new Parser(
    (raw) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of raw.headers as Array<[string, string]>) if (!(k in headers)) headers[k] = v;
      this.frames.push({ command: raw.command!, headers, body: new TextDecoder().decode(raw.binaryBody) });
    },
    () => (this.beats += 1),
  );
  send(text: string) {
    this.parser.parseChunk(text);
  }
  close(code: number, reason: string) {
    this.closedWith = { code, reason };
  }
  commands() {
    return this.frames.map((f) => f.command);
  }
}

async function session(heartBeat = { send: 1000, receive: 1000 }) {
  const made = await makeHub();
  const socket = new ClientEnd();
  const wakes: Array<number | undefined> = [];
  const s = new StompSession({ hub: made.hub, socket, now: made.clock.now, sessionId: 'sess', maxFrameBytes: 4096, heartBeat, serverName: 'tabcast/test', onWake: (at) => wakes.push(at) });
  return { ...made, s, socket, wakes };
}

describe('HUB-STOMP-11 heart-beats', () => {
  it('HUB-STOMP-11 the hub sends a heart-beat after its agreed silence, and reports when tick() is due', async () => {
    const { s, socket, clock, wakes } = await session();
    s.receive('CONNECT\naccept-version:1.2\nheart-beat:0,2000\n\n\0');
    expect(socket.frames[0]!.headers['heart-beat']).toBe('1000,1000');
    expect(s.plan).toEqual({ sendEveryMs: 2000, expectEveryMs: 0 });
    expect(wakes.at(-1)).toBe(clock.now() + 2000);
    clock.advance(1999);
    s.tick();
    expect(socket.beats).toBe(0);
    clock.advance(1);
    s.tick();
    expect(socket.beats).toBe(1);
    expect(socket.closedWith).toBeUndefined();
  });

  it('HUB-STOMP-11 a client silent past twice its interval gets ERROR and is closed; anything it sends keeps it alive', async () => {
    const { s, socket, clock, hub } = await session({ send: 0, receive: 500 });
    s.receive('CONNECT\naccept-version:1.2\nheart-beat:1000,0\n\n\0');
    expect(s.plan).toEqual({ sendEveryMs: 0, expectEveryMs: 1000 });
    s.receive('SUBSCRIBE\nid:1\ndestination:/hub/fhircast/t/Patient-open\n\n\0');
    clock.advance(1900);
    s.receive('\n'); // a heart-beat from the client
    clock.advance(1900);
    s.tick();
    expect(socket.closedWith).toBeUndefined();
    clock.advance(101);
    s.tick();
    expect(socket.commands()).toEqual(['CONNECTED', 'ERROR']);
    expect(socket.frames[1]!.headers.message).toMatch(/heart-beat/);
    expect(socket.closedWith?.code).toBe(1008);
    // A silent peer is a dropped connection to the engine: its subscription is gone.
    expect(hub.inspect().topics.find((t) => t.topic === 't')?.subscribers ?? []).toHaveLength(0);
  });

  it('HUB-STOMP-11 with 0 on either side no heart-beats are sent or expected', async () => {
    const { s, socket, clock } = await session();
    s.receive('CONNECT\naccept-version:1.2\nheart-beat:0,0\n\n\0');
    expect(s.nextDeadline()).toBeUndefined();
    clock.advance(60_000);
    s.tick();
    expect(socket.beats).toBe(0);
    expect(socket.closedWith).toBeUndefined();
  });

  it('HUB-STOMP-11 a malformed heart-beat header gets ERROR and a close', async () => {
    const { s, socket } = await session();
    s.receive('CONNECT\naccept-version:1.2\nheart-beat:often\n\n\0');
    expect(socket.commands()).toEqual(['ERROR']);
    expect(socket.closedWith?.code).toBe(1008);
  });
});

describe('HUB-STOMP-12 bad input on the STOMP door', () => {
  async function door() {
    const made = await makeHub();
    const wire = createWireHandler(made.hub, { hubUrl: HUB_URL });
    const socket = new ClientEnd();
    const handle = wire.acceptSocket(STOMP_URL, socket)!;
    return { ...made, wire, socket, handle };
  }

  const cases: Array<[string, string | Uint8Array, RegExp]> = [
    ['garbage', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n\0', /not a STOMP frame|command/],
    ['binary garbage', new Uint8Array([0xff, 0xfe, 0x0a, 0x0a, 0x00]), /UTF-8|not a STOMP frame/],
    ['an unknown command', 'CONNECT\naccept-version:1.2\n\n\0FROB\n\n\0', /unknown command FROB/],
    ['a frame before CONNECT', 'SEND\ndestination:/hub/fhircast/t/Patient-open\n\n{}\0', /before CONNECT/],
    ['a second CONNECT', 'CONNECT\naccept-version:1.2\n\n\0CONNECT\naccept-version:1.2\n\n\0', /already connected/],
    ['a bad destination', 'CONNECT\naccept-version:1.2\n\n\0SUBSCRIBE\nid:1\ndestination:/queue/x\n\n\0', /destination/],
    ['SUBSCRIBE without id', 'CONNECT\naccept-version:1.2\n\n\0SUBSCRIBE\ndestination:/hub/fhircast/t/Patient-open\n\n\0', /needs the header id/],
    ['a bad ack mode', 'CONNECT\naccept-version:1.2\n\n\0SUBSCRIBE\nid:1\nack:sometimes\ndestination:/hub/fhircast/t/Patient-open\n\n\0', /ack/],
    ['UNSUBSCRIBE of an unknown id', 'CONNECT\naccept-version:1.2\n\n\0UNSUBSCRIBE\nid:9\n\n\0', /no subscription/],
    ['a SEND body that is not JSON', 'CONNECT\naccept-version:1.2\n\n\0SEND\ndestination:/hub/fhircast/t/Patient-open\n\n{nope\0', /not JSON/],
    ['a SEND to a wildcard', 'CONNECT\naccept-version:1.2\n\n\0SEND\ndestination:/hub/fhircast/t/*\n\n{}\0', /one event/],
  ];
  for (const [what, input, reason] of cases) {
    it(`HUB-STOMP-12 ${what} gets ERROR with a reason and a close; the hub keeps serving`, async () => {
      const { socket, handle, hub, wire } = await door();
      handle.receive(input);
      await Promise.resolve();
      expect(socket.commands().at(-1)).toBe('ERROR');
      expect(socket.frames.at(-1)!.headers.message).toMatch(reason);
      expect(JSON.parse(socket.frames.at(-1)!.body).resourceType).toBe('OperationOutcome');
      expect(socket.closedWith?.code).toBe(1008);
      expect(hub.inspect().topics.flatMap((t) => t.subscribers)).toHaveLength(0);
      // Frames after the close change nothing, and another connection works.
      handle.receive('SEND\ndestination:/hub/fhircast/t/Patient-open\n\n{"context":[{"key":"patient","resource":{"resourceType":"Patient","id":"p"}}]}\0');
      expect(hub.getContext('t')).toEqual({ 'context.type': '', context: [] });
      const next = new ClientEnd();
      wire.acceptSocket(STOMP_URL, next)!.receive('CONNECT\naccept-version:1.2\n\n\0');
      expect(next.commands()).toEqual(['CONNECTED']);
    });
  }

  it('HUB-STOMP-12 a frame over 1 MiB gets ERROR (413) and a close with 1009', async () => {
    const { socket, handle } = await door();
    handle.receive('CONNECT\naccept-version:1.2\n\n\0');
    handle.receive(`SEND\ndestination:/hub/fhircast/t/Patient-open\n\n${'x'.repeat(1024 * 1024)}\0`);
    expect(socket.commands()).toEqual(['CONNECTED', 'ERROR']);
    expect(socket.frames[1]!.headers.status).toBe('413');
    expect(socket.closedWith?.code).toBe(1009);
  });

  it('HUB-STOMP-12 a frame just under 1 MiB is accepted (the limit is the STOMP door\'s, not the STU3 answer cap)', async () => {
    const { socket, handle } = await door();
    handle.receive('CONNECT\naccept-version:1.2\n\n\0');
    const pad = 'x'.repeat(1024 * 1024 - 300);
    handle.receive(`SEND\ndestination:/hub/fhircast/t/Patient-open\nreceipt:big\n\n{"context":[{"key":"patient","resource":{"resourceType":"Patient","id":"p","text":{"status":"generated","div":"${pad}"}}}]}\0`);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(socket.commands()).toEqual(['CONNECTED', 'RECEIPT']);
  });
});

describe('HUB-STOMP-08 acknowledgement modes on the session', () => {
  async function twoMessages(ack: 'client' | 'client-individual') {
    const { s, socket, hub } = await session({ send: 0, receive: 0 });
    s.receive(`CONNECT\naccept-version:1.2\n\n\0SUBSCRIBE\nid:1\nack:${ack}\ndestination:/hub/fhircast/t/Patient-open\n\n\0`);
    for (const p of ['p1', 'p2']) await hub.publish({ id: `ev-${p}`, event: { 'hub.topic': 't', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: p } }] } });
    const messages = socket.frames.filter((f) => f.command === 'MESSAGE');
    expect(messages.map((m) => m.headers['message-id'])).toEqual(['ev-p1', 'ev-p2']);
    const pending = () => hub.inspect().topics.find((t) => t.topic === 't')!.subscribers[0]!.pending;
    expect(pending()).toBe(2);
    return { s, messages, pending };
  }

  it('HUB-STOMP-08 in client mode an ACK also answers every earlier MESSAGE of the subscription', async () => {
    const { s, messages, pending } = await twoMessages('client');
    s.receive(`ACK\nid:${messages[1]!.headers.ack}\n\n\0`);
    expect(pending()).toBe(0);
  });

  it('HUB-STOMP-08 in client-individual mode an ACK answers only its MESSAGE; a repeated or unknown ACK changes nothing', async () => {
    const { s, messages, pending } = await twoMessages('client-individual');
    s.receive(`ACK\nid:${messages[1]!.headers.ack}\n\n\0`);
    expect(pending()).toBe(1);
    s.receive(`ACK\nid:${messages[1]!.headers.ack}\n\n\0ACK\nid:nope\n\n\0`);
    expect(pending()).toBe(1);
    s.receive(`ACK\nid:${messages[0]!.headers.ack}\n\n\0`);
    expect(pending()).toBe(0);
  });

  it('HUB-STOMP-08 in client mode a NACK answers only the MESSAGE it names', async () => {
    const { s, messages, pending } = await twoMessages('client');
    s.receive(`NACK\nid:${messages[1]!.headers.ack}\nstatus:409\n\n\0`);
    expect(pending()).toBe(1);
  });
});

describe('HUB-STOMP-04 MESSAGE names (HUB-LEGACY-03)', () => {
  it('HUB-STOMP-04 a SUBSCRIBE under a 2019 name gets MESSAGEs under that name, in destination and body; a case-insensitive name gets the STU3 spelling', async () => {
    const { s, socket, hub } = await session({ send: 0, receive: 0 });
    s.receive('CONNECT\naccept-version:1.2\n\n\0SUBSCRIBE\nid:legacy\ndestination:/hub/fhircast/t/open-imaging-study\n\n\0SUBSCRIBE\nid:stu3\ndestination:/app/fhircast/t/imagingstudy-OPEN\n\n\0');
    await hub.publish({ id: 'ev-1', event: { 'hub.topic': 't', 'hub.event': 'ImagingStudy-open', context: [{ key: 'study', resource: { resourceType: 'ImagingStudy', id: 's1' } }] } });
    const messages = socket.frames.filter((f) => f.command === 'MESSAGE');
    const bySub = Object.fromEntries(messages.map((m) => [m.headers.subscription, m]));
    expect(bySub.legacy!.headers.destination).toBe('/app/fhircast/t/open-imaging-study');
    expect(JSON.parse(bySub.legacy!.body).event['hub.event']).toBe('open-imaging-study');
    expect(bySub.stu3!.headers.destination).toBe('/app/fhircast/t/ImagingStudy-open');
    expect(JSON.parse(bySub.stu3!.body).event['hub.event']).toBe('ImagingStudy-open');
  });
});

describe('HUB-STOMP-12 memory stays bounded', () => {
  it('HUB-STOMP-12 with the ack timeout off, a client-mode subscriber that never answers keeps at most 1000 MESSAGEs waiting', async () => {
    const made = await makeHub({ ackTimeoutMs: 0 });
    const socket = new ClientEnd();
    const s = new StompSession({ hub: made.hub, socket, now: made.clock.now, sessionId: 'sess', maxFrameBytes: 4096, heartBeat: { send: 0, receive: 0 }, serverName: 'tabcast/test' });
    s.receive('CONNECT\naccept-version:1.2\n\n\0SUBSCRIBE\nid:1\nack:client-individual\ndestination:/hub/fhircast/t/Patient-open\n\n\0');
    const published: Array<Promise<unknown>> = [];
    for (let i = 0; i < 1010; i++) published.push(made.hub.publish({ id: `ev-${i}`, event: { 'hub.topic': 't', 'hub.event': 'Patient-open', context: [{ key: 'patient', resource: { resourceType: 'Patient', id: 'p' } }] } }));
    await Promise.all(published);
    const messages = socket.frames.filter((f) => f.command === 'MESSAGE');
    expect(messages).toHaveLength(1010);
    expect(s.subscriptions.get('1')!.waiting).toBe(1000);
    // The oldest tokens are forgotten: answering one changes nothing; the newest still works.
    const pending = () => made.hub.inspect().topics.find((t) => t.topic === 't')!.subscribers[0]!.pending;
    const before = pending();
    s.receive(`ACK\nid:${messages[0]!.headers.ack}\n\n\0`);
    expect(pending()).toBe(before);
    s.receive(`ACK\nid:${messages[1009]!.headers.ack}\n\n\0`);
    expect(pending()).toBe(before - 1);
  });
});

describe('HUB-STOMP-12 subscriptions per connection are bounded', () => {
  it('HUB-STOMP-12 the 101st SUBSCRIBE on one connection gets ERROR 429 and a close; its subscriptions end', async () => {
    const { s, socket, hub } = await session({ send: 0, receive: 0 });
    s.receive('CONNECT\naccept-version:1.2\n\n\0');
    for (let i = 0; i < 101; i++) s.receive(`SUBSCRIBE\nid:${i}\ndestination:/hub/fhircast/t/Patient-open\n\n\0`);
    expect(socket.commands().filter((c) => c === 'ERROR')).toHaveLength(1);
    expect(socket.commands().at(-1)).toBe('ERROR');
    expect(socket.frames.at(-1)!.headers.status).toBe('429');
    expect(socket.closedWith?.code).toBe(1008);
    expect(hub.inspect().topics.find((t) => t.topic === 't')?.subscribers ?? []).toHaveLength(0);
  });
});

describe('HUB-STOMP-13 ERROR names the refused frame', () => {
  it('HUB-STOMP-13 BEGIN with a receipt gets ERROR "transactions are not supported" with that receipt-id', async () => {
    const { s, socket } = await session({ send: 0, receive: 0 });
    s.receive('CONNECT\naccept-version:1.2\n\n\0BEGIN\ntransaction:t1\nreceipt:begin-1\n\n\0');
    expect(socket.frames.at(-1)).toMatchObject({ command: 'ERROR', headers: { message: 'transactions are not supported', status: '501', 'receipt-id': 'begin-1' } });
  });
});
