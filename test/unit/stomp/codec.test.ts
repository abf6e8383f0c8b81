/**
 * HUB-STOMP-12: properties of the frame codec (fast-check): round trip, header escaping,
 * content-length bodies holding NUL, streaming in any split, and garbage rejected cleanly.
 * The encoder's output is also read by stompjs's own parser, so the two sides cannot agree on a mistake.
 */
import { Parser } from '@stomp/stompjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, escapeHeader, headerOf, StompProtocolError, unescapeHeader, type StompFrame } from '../../../src/stomp/frame.js';
import { StompParser } from '../../../src/stomp/parser.js';
import { negotiateHeartBeat, parseHeartBeat } from '../../../src/stomp/heart-beat.js';

const LIMIT = 64 * 1024;
const headerText = fc.string({ unit: 'grapheme', maxLength: 20 });
const headerName = headerText.filter((n) => n !== '' && n !== 'content-length');
/** Commands with escaped headers (all but CONNECT/CONNECTED). */
const command = fc.constantFrom('SEND', 'MESSAGE', 'SUBSCRIBE', 'ERROR', 'RECEIPT', 'ACK', 'NACK');
const body = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ maxLength: 10 }).map((s) => `${s}\u0000${s}\u0000`), fc.constant(''));
const frame: fc.Arbitrary<StompFrame> = fc.record({ command, headers: fc.array(fc.tuple(headerName, headerText), { maxLength: 5 }), body });

const utf8 = new TextEncoder();

function parseAll(chunks: Array<string | Uint8Array>, limit = LIMIT): StompFrame[] {
  const parser = new StompParser(limit);
  return chunks.flatMap((c) => parser.push(c).frames);
}

describe('HUB-STOMP-12 frame codec properties', () => {
  it('HUB-STOMP-12 round trip: any frame encodes and parses back to itself (headers in order, body with NUL)', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const [back] = parseAll([encodeFrame(f)]);
        expect(back).toEqual({ command: f.command, headers: [...f.headers, ...(f.body === '' ? [] : [['content-length', String(utf8.encode(f.body).byteLength)]])], body: f.body });
      }),
      { numRuns: 400 },
    );
  });

  it('HUB-STOMP-12 escaping: any header value survives, and an escaped value never holds CR, LF or a bare colon', () => {
    fc.assert(
      fc.property(headerText, (v) => {
        const escaped = escapeHeader(v);
        expect(escaped).not.toMatch(/[\r\n:]/);
        expect(unescapeHeader(escaped)).toBe(v);
      }),
      { numRuns: 500 },
    );
  });

  it('HUB-STOMP-12 stompjs reads what the encoder writes: command, unescaped headers and bodies with NUL', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const got: any[] = [];
        const parser = new Parser((raw) => got.push(raw), () => undefined);
        const bytes = utf8.encode(encodeFrame(f));
        parser.parseChunk(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
        expect(got).toHaveLength(1);
        expect(got[0].command).toBe(f.command);
        expect(new TextDecoder().decode(got[0].binaryBody)).toBe(f.body);
        const first = new Map<string, string>();
        for (const [k, v] of got[0].headers as Array<[string, string]>) if (!first.has(unescapeHeader(k))) first.set(unescapeHeader(k), unescapeHeader(v));
        for (const [k, v] of f.headers) if (headerOf(f, k) === v) expect(first.get(k)).toBe(v);
      }),
      { numRuns: 300 },
    );
  });

  it('HUB-STOMP-12 a stream of frames and heart-beats split anywhere parses to the same frames', () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 8 }), fc.constantFrom('\n', '\r\n', ''), (frames, cuts, beat) => {
        const bytes = utf8.encode(beat + frames.map((f) => encodeFrame(f) + beat).join(''));
        const chunks: Uint8Array[] = [];
        let at = 0;
        for (const cut of cuts) {
          if (at >= bytes.byteLength) break;
          chunks.push(bytes.subarray(at, at + cut));
          at += cut;
        }
        chunks.push(bytes.subarray(at));
        const parsed = parseAll(chunks);
        expect(parsed.map((f) => [f.command, f.body])).toEqual(frames.map((f) => [f.command, f.body]));
      }),
      { numRuns: 300 },
    );
  });

  it('HUB-STOMP-12 garbage never crashes the parser: it yields frames or a StompProtocolError, nothing else', () => {
    const garbage = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(frame, fc.string({ maxLength: 30 })).map(([f, noise]) => encodeFrame(f).replace(/\n/, noise)),
      fc.tuple(frame, fc.nat(40)).map(([f, n]) => encodeFrame(f).replace(/content-length:\d+/, `content-length:${n}`)),
      fc.constantFrom('CONNECT\nbad\\xheader:1\n\n\0', 'SEND\ndestination:a\\tb\n\n\0', 'SEND\ncontent-length:-1\n\n\0', 'SEND\ncontent-length:3\n\nabcd\0', '\0', 'lowercase\n\n\0', 'SEND\n\u0000\n\n'),
    );
    fc.assert(
      fc.property(fc.array(garbage, { minLength: 1, maxLength: 3 }), (chunks) => {
        const parser = new StompParser(1024);
        try {
          for (const c of chunks) for (const f of parser.push(c).frames) expect(typeof f.command).toBe('string');
        } catch (error) {
          expect(error).toBeInstanceOf(StompProtocolError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('HUB-STOMP-12 a frame or message over the limit is a too-large StompProtocolError, also when it arrives in pieces', () => {
    const big = `SEND\ndestination:/hub/fhircast/t/Patient-open\n\n${'x'.repeat(2000)}\0`;
    expect(() => new StompParser(1024).push(big)).toThrowError(expect.objectContaining({ tooLarge: true }));
    const parser = new StompParser(1024);
    expect(() => {
      for (let i = 0; i < big.length; i += 500) parser.push(big.slice(i, i + 500));
    }).toThrowError(expect.objectContaining({ tooLarge: true }));
    expect(() => new StompParser(1024).push('SEND\ncontent-length:5000\n\n')).toThrowError(expect.objectContaining({ tooLarge: true }));
  });

  it('HUB-STOMP-12 headers of CONNECT are not unescaped; an undefined escape elsewhere is an error; the first of repeated headers wins', () => {
    const [connect] = parseAll(['CONNECT\npasscode:a\\cb\n\n\0']);
    expect(headerOf(connect!, 'passcode')).toBe('a\\cb');
    expect(() => parseAll(['SEND\ndestination:a\\tb\n\n\0'])).toThrow(StompProtocolError);
    const [send] = parseAll(['SEND\nx:1\nx:2\n\n\0']);
    expect(headerOf(send!, 'x')).toBe('1');
  });
});

describe('HUB-STOMP-11 heart-beat negotiation', () => {
  it('HUB-STOMP-11 each direction is the larger of the two wishes, and off when either side says 0', () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.nat(100_000), fc.nat(100_000), fc.nat(100_000), (cx, cy, sx, sy) => {
        const plan = negotiateHeartBeat(parseHeartBeat(`${cx},${cy}`), { send: sx, receive: sy });
        expect(plan.sendEveryMs).toBe(sx === 0 || cy === 0 ? 0 : Math.max(sx, cy));
        expect(plan.expectEveryMs).toBe(cx === 0 || sy === 0 ? 0 : Math.max(cx, sy));
      }),
    );
    expect(parseHeartBeat(undefined)).toEqual({ send: 0, receive: 0 });
    expect(() => parseHeartBeat('10,x')).toThrow(StompProtocolError);
  });
});
