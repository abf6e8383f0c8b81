/**
 * The bounds on state that grows with use (DESIGN.md "State at any size", HUB-BOUND-03..07). Each
 * has a constant default here, used by the worker, and a `tabcast serve` flag.
 */
import { HubError } from '../protocol/index.js';

/** Limits on what the engine keeps. */
export interface HubBounds {
  /** Open contexts per topic; the next open forgets the least recently opened one that is not current (HUB-BOUND-03). */
  maxOpenContexts: number;
  /** Shared content per open context, in bytes of JSON; an update past it gets 413 (HUB-BOUND-04). */
  maxContentBytes: number;
  /** Topics the hub holds; a request that would create one more gets 503 (HUB-BOUND-05). */
  maxTopics: number;
  /** A topic with no subscriber and no open context is forgotten after this long without activity (HUB-BOUND-05). */
  idleTopicMs: number;
  /** A subscription whose channel is not opened this long after its 202 ends (HUB-BOUND-06). */
  connectTimeoutMs: number;
}

/** The defaults of DESIGN.md. */
export const DEFAULT_BOUNDS: Readonly<HubBounds> = Object.freeze({
  maxOpenContexts: 100,
  maxContentBytes: 4 * 1024 * 1024,
  maxTopics: 10_000,
  idleTopicMs: 24 * 60 * 60 * 1000,
  connectTimeoutMs: 60_000,
});

/** The bounds in force: the defaults with what the door gave; each must be a positive integer. */
export function resolveBounds(given: Partial<HubBounds> | undefined): HubBounds {
  const bounds = { ...DEFAULT_BOUNDS, ...stripUndefined(given ?? {}) };
  for (const [name, value] of Object.entries(bounds)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`bound ${name} must be a positive whole number, got ${String(value)}`);
  }
  return bounds;
}

function stripUndefined(given: Partial<HubBounds>): Partial<HubBounds> {
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<HubBounds>;
}

/** 503: the hub is at a bound and cannot take what would grow it (HUB-BOUND-05). */
export const atCapacity = (diagnostics: string): HubError => new HubError(503, 'transient', diagnostics);

/** Bytes of `value` as UTF-8 JSON, without building the encoded bytes. */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value) ?? '';
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 2; // a surrogate pair: 2 UTF-16 units, 4 UTF-8 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}
