/**
 * Request bodies: which media types the hub reads, and reading a body under the size limit
 * (HUB-CHANGE-06/07, HUB-SEC-08, HUB-TOLERANT-03).
 */
import { badRequest, MAX_JSON_DEPTH, tooLarge, unsupportedMediaType } from '../protocol/index.js';

/** How a body is encoded, from its Content-Type. */
export type BodyKind = 'json' | 'form';

const MEDIA_TYPES: Readonly<Record<string, BodyKind>> = {
  'application/json': 'json',
  'application/fhir+json': 'json',
  'application/x-www-form-urlencoded': 'form',
};

/** The body kind named by a Content-Type (parameters such as charset ignored), or a 415 HubError. */
export function bodyKind(contentType: string | null): BodyKind {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  // Own entries only: `constructor` or `__proto__` name no media type.
  const kind = Object.hasOwn(MEDIA_TYPES, media) ? MEDIA_TYPES[media] : undefined;
  if (!kind) {
    const named = media === '' ? 'no Content-Type' : `Content-Type ${media}`;
    throw unsupportedMediaType(`${named} is not supported: send application/json, application/fhir+json or application/x-www-form-urlencoded`);
  }
  return kind;
}

/**
 * Reads a body as UTF-8 text, counting bytes as they arrive: Content-Length may be absent or
 * false, so it only serves to refuse early. Throws 413 over `limit`, 400 for text that is not UTF-8.
 */
export async function readBodyText(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    // Cancelling tells the door to discard the rest, so the client can finish sending and read the 413.
    await request.body?.cancel().catch(() => undefined);
    throw overLimit(limit);
  }
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      // Stop pulling: the rest of an oversized body is never buffered.
      await reader.cancel().catch(() => undefined);
      throw overLimit(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badRequest('request body is not valid UTF-8 text', 'structure');
  }
}

/**
 * Parses JSON text, or throws a 400 that says so (HUB-CHANGE-06, HUB-SEC-09). Text nested deeper
 * than the engine accepts (MAX_JSON_DEPTH) is refused before it is parsed: a few thousand levels
 * parse fine but can never be serialised again (JSON.stringify and structured clone recurse).
 */
export function parseJson(text: string): unknown {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw badRequest(`request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`, 'structure');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('request body is not valid JSON', 'structure');
  }
}

/** True when `[` and `{` outside strings nest more than `max` levels deep. */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

function overLimit(limit: number) {
  return tooLarge(`request body is larger than the hub's limit of ${limit} bytes`);
}
