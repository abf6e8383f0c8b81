/**
 * Issue 13, the STOMP door under fast-check (HUB-STOMP-12): random sequences of client frames —
 * CONNECT with damaged headers, SUBSCRIBE/UNSUBSCRIBE to good and bad destinations, SENDs of
 * mutated context changes (also to the wrong destination), ACK/NACK of made-up ids, transactions,
 * DISCONNECT, and raw garbage — sent whole, concatenated or split anywhere. Invariants: the door
 * never throws; what it writes is well-formed STOMP (read by stompjs's parser); it closes only after
 * an ERROR or a DISCONNECT's RECEIPT and writes nothing after; a SEND answered with ERROR changed
 * no context; contexts stay well-formed; a fresh connection is still served.
 */
import { Parser } from '@stomp/stompjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Hub } from '../../../src/hub/index.js';
import { makeWire } from '../wire/support.js';
import { mutate, nastyString, recipe } from './support/arbitraries.js';
import { versionFor } from './support/engine-rig.js';
import { expectWellFormedContext, settle } from './support/invariants.js';
import { runs } from './support/sizes.js';

const STOMP_URL = 'ws://hub.test/fhircast/hub/websocket';
const TOPICS = ['topic-a', 'topic-b'];

/** What the hub wrote on one connection, parsed by stompjs. */
class Recorder {
  frames: Array<{ command: string; headers: Record<string, string> }> = [];
  closedAfter: number | undefined;
  writesAfterClose = 0;
  private readonly parser = new Parser(
    (raw) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of raw.headers as Array<[string, string]>) if (!(k in headers)) headers[k] = v;
      this.frames.push({ command: raw.command ?? '', headers });
    },
    () => undefined,
  );
  send(text: string) {
    if (this.closedAfter !== undefined) this.writesAfterClose += 1;
    this.parser.parseChunk(text);
  }
  close() {
    this.closedAfter ??= this.frames.length;
  }
}

const eventName = fc.constantFrom('Patient-open', 'Patient-close', 'ImagingStudy-open', 'DiagnosticReport-update', '*', 'patient-OPEN', 'open-patient-chart', 'Nonsense-thing', '');
const destination = fc.oneof(
  { arbitrary: fc.tuple(fc.constantFrom('hub', 'app'), fc.constantFrom(...TOPICS), eventName).map(([p, t, e]) => `/${p}/fhircast/${t}/${encodeURIComponent(e)}`), weight: 6 },
  { arbitrary: nastyString, weight: 1 },
  { arbitrary: fc.constantFrom('/queue/x', '/hub/fhircast/topic-a', '/hub/fhircast/%ZZ/Patient-open', '/hub/fhircast/topic-a/Patient-open/extra'), weight: 1 },
);
const headerValue = fc.oneof(fc.string({ maxLength: 12 }), nastyString);

type Action =
  | { kind: 'connect'; version: string; heartBeat?: string }
  | { kind: 'subscribe'; id?: string; destination: string; ack?: string }
  | { kind: 'unsubscribe'; id: string }
  | { kind: 'send'; destination: string; body: ReturnType<typeof recipe> extends fc.Arbitrary<infer R> ? R : never; bare: boolean }
  | { kind: 'answer'; command: 'ACK' | 'NACK'; id: string; status?: string }
  | { kind: 'other'; command: string }
  | { kind: 'garbage'; text: string };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('connect' as const), version: fc.constantFrom('1.2', '1.0,1.1,1.2', '1.1', '', '1.2x'), heartBeat: fc.option(fc.constantFrom('0,0', '10,10', '1000,x', '-1,5', '99999999999,0'), { nil: undefined }) }),
  fc.record({ kind: fc.constant('subscribe' as const), id: fc.option(fc.constantFrom('1', '2', 'x'), { nil: undefined }), destination, ack: fc.option(fc.constantFrom('auto', 'client', 'client-individual', 'never'), { nil: undefined }) }),
  fc.record({ kind: fc.constant('unsubscribe' as const), id: fc.constantFrom('1', '2', 'zz') }),
  fc.record({ kind: fc.constant('send' as const), destination, body: recipe(fc.constantFrom(...TOPICS), 10), bare: fc.boolean() }),
  fc.record({ kind: fc.constant('answer' as const), command: fc.constantFrom('ACK' as const, 'NACK' as const), id: headerValue, status: fc.option(fc.constantFrom('200', '409', 'abc', '999'), { nil: undefined }) }),
  fc.record({ kind: fc.constant('other' as const), command: fc.constantFrom('BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT', 'FROB', 'MESSAGE', 'stomp') }),
  fc.record({ kind: fc.constant('garbage' as const), text: fc.oneof(nastyString, fc.string({ unit: 'binary', maxLength: 80 }), fc.constantFrom('\n', '\r\n', '\0', 'SEND\n', 'SEND\ncontent-length:99\n\nabc\0')) }),
);

const escape = (v: string) => v.replace(/[\\\r\n:]/g, (c) => (c === '\\' ? '\\\\' : c === '\r' ? '\\r' : c === '\n' ? '\\n' : '\\c'));

/** The wire text of an action; SENDs carry a receipt so their ERROR can be told apart. */
function render(a: Action, n: number, hub: Hub): { text: string; receipt?: string } {
  switch (a.kind) {
    case 'connect':
      return { text: `CONNECT\naccept-version:${a.version}\n${a.heartBeat === undefined ? '' : `heart-beat:${a.heartBeat}\n`}\n\0` };
    case 'subscribe':
      return { text: `SUBSCRIBE\n${a.id === undefined ? '' : `id:${a.id}\n`}destination:${escape(a.destination)}\n${a.ack === undefined ? '' : `ack:${a.ack}\n`}\n\0` };
    case 'unsubscribe':
      return { text: `UNSUBSCRIBE\nid:${a.id}\n\n\0` };
    case 'send': {
      const t = a.body.template;
      const json = JSON.parse(mutate(t.build(versionFor({ hub, versions: new Map() }, t)) as never, a.body.mutations).replace('will-be-replaced', `fz-${n}`) || 'null') as any;
      const body = a.bare && json && typeof json === 'object' && json.event && typeof json.event === 'object' ? json.event : json;
      const receipt = `send-${n}`;
      return { text: `SEND\ndestination:${escape(a.destination)}\nreceipt:${receipt}\n\n${JSON.stringify(body)}\0`, receipt };
    }
    case 'answer':
      return { text: `${a.command}\nid:${escape(a.id)}\n${a.status === undefined ? '' : `status:${a.status}\n`}\n\0` };
    case 'other':
      return { text: `${a.command}\nreceipt:other-${n}\ntransaction:tx\n\n\0` };
    case 'garbage':
      return { text: a.text };
  }
}

function contexts(hub: Hub): string {
  return JSON.stringify(TOPICS.map((t) => hub.getContext(t)));
}

describe('HUB-STOMP-12 the STOMP door under random frames', () => {
  it('HUB-STOMP-12 never throws, writes well-formed STOMP, closes only after ERROR or DISCONNECT, and a refused SEND changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 8 }), fc.boolean(), fc.boolean(), async (actions, startConnected, batch) => {
        const { wire, hub } = await makeWire();
        const socket = new Recorder();
        const handle = wire.acceptSocket(STOMP_URL, { send: (t) => socket.send(t), close: () => socket.close() })!;
        if (startConnected) handle.receive('CONNECT\naccept-version:1.2\n\n\0');
        const rendered = actions.map((a, i) => render(a, i, hub));
        if (batch) {
          handle.receive(rendered.map((r) => r.text).join(''));
          await settle(5);
        } else {
          for (const r of rendered) {
            const before = contexts(hub);
            const framesBefore = socket.frames.length;
            expect(() => handle.receive(r.text)).not.toThrow();
            await settle(5);
            const written = socket.frames.slice(framesBefore);
            const refused = r.receipt !== undefined && written.some((f) => f.command === 'ERROR' && f.headers['receipt-id'] === r.receipt);
            if (refused) expect(contexts(hub), `a refused SEND changed a context: ${r.text.slice(0, 200)}`).toBe(before);
          }
        }
        expect(socket.writesAfterClose).toBe(0);
        if (socket.closedAfter !== undefined) {
          const last = socket.frames[socket.closedAfter - 1];
          expect(last && (last.command === 'ERROR' || last.command === 'RECEIPT'), `closed after ${JSON.stringify(last)}`).toBe(true);
        }
        for (const f of socket.frames) expect(['CONNECTED', 'MESSAGE', 'RECEIPT', 'ERROR']).toContain(f.command);
        for (const t of TOPICS) expectWellFormedContext(hub.getContext(t));
        // Whatever happened, the hub serves the next client, and nothing of the broken connection stays subscribed.
        const next = new Recorder();
        wire.acceptSocket(STOMP_URL, { send: (t) => next.send(t), close: () => next.close() })!.receive('CONNECT\naccept-version:1.2\n\n\0');
        expect(next.frames.map((f) => f.command)).toEqual(['CONNECTED']);
        if (socket.closedAfter !== undefined) expect(hub.inspect().topics.flatMap((t) => t.subscribers)).toHaveLength(0);
      }),
      runs(),
    );
  });
});
