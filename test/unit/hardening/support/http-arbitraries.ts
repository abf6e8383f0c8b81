/**
 * Arbitraries for whole HTTP requests to the wire: methods, paths below and beside hub.url,
 * Content-Types, and bodies (forms, context changes from the recipes, raw JSON, raw bytes).
 */
import fc from 'fast-check';
import { anyJsonText, mutate, nastyString, recipe, TOPICS, type Recipe } from './arbitraries.js';

export const HUB_PATH = '/fhircast/hub';

/** Methods a client may send; TRACE, TRACK and CONNECT are left to the server tests (fetch cannot carry them). */
export const method = fc.oneof(
  { arbitrary: fc.constantFrom('GET', 'POST'), weight: 6 },
  { arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'get', 'Post'), weight: 2 },
  { arbitrary: fc.stringMatching(/^[A-Z][A-Z-]{0,9}$/).filter((m) => !['CONNECT', 'TRACE', 'TRACK'].includes(m)), weight: 1 },
);

/** A path below or beside hub.url; `{endpoint}` is replaced with a live endpoint id at run time. */
export const path = fc.oneof(
  { arbitrary: fc.constantFrom(HUB_PATH, `${HUB_PATH}/`, `${HUB_PATH}//`), weight: 6 },
  { arbitrary: fc.constantFrom(...TOPICS.map((t) => `${HUB_PATH}/${t}`)), weight: 3 },
  { arbitrary: fc.constantFrom(`${HUB_PATH}/.well-known/fhircast-configuration`, `${HUB_PATH}/ws/{endpoint}`, `${HUB_PATH}/ws/`, `${HUB_PATH}/GetTopic?username=a&secret=b`, `${HUB_PATH}/authenticate`), weight: 2 },
  { arbitrary: nastyString.map((s) => `${HUB_PATH}/${encodeURIComponentLoose(s)}`), weight: 2 },
  { arbitrary: fc.constantFrom(`${HUB_PATH}/websocket`, `${HUB_PATH}/topic-a/context`, `${HUB_PATH}/topic-b/protocols`, `${HUB_PATH}/%ZZ/context`, `${HUB_PATH}/topic-a/context/x`, `${HUB_PATH}/ws/context`), weight: 1 },
  { arbitrary: fc.constantFrom('/', '/fhircast', '/fhircast/hubx', `${HUB_PATH}/a/b`, `${HUB_PATH}/%ZZ`, `${HUB_PATH}/%F0%9F`, `${HUB_PATH}/..%2F..`, `${HUB_PATH}/ws/a/b`, '/favicon.ico'), weight: 1 },
);

/** Percent-encodes what a URL cannot hold as is, leaving lone surrogates as invalid escapes. */
function encodeURIComponentLoose(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
}

/** Content-Types: the three the hub reads (any case, with parameters), others, and none. */
export const contentType = fc.oneof(
  { arbitrary: fc.constantFrom('application/json', 'application/fhir+json', 'application/x-www-form-urlencoded'), weight: 6 },
  { arbitrary: fc.constantFrom('Application/JSON; charset=utf-8', 'application/fhir+json;fhirVersion=4.0', ' application/x-www-form-urlencoded ; charset=UTF-8'), weight: 2 },
  { arbitrary: fc.constantFrom(undefined, '', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'constructor', '__proto__', 'toString', 'application/json+x', 'json'), weight: 2 },
  { arbitrary: fc.string({ maxLength: 30 }).filter((s) => !/[\r\n\0]/.test(s)), weight: 1 },
);

/** A subscription form a real client would send: subscribe, re-subscribe or unsubscribe. */
const validForm = fc
  .record({
    mode: fc.constantFrom('subscribe', 'subscribe', 'unsubscribe'),
    topic: fc.constantFrom(...TOPICS),
    events: fc.constantFrom('Patient-open', '*', 'Patient-open,Patient-close,SyncError', 'DiagnosticReport-*'),
    endpoint: fc.boolean(),
    lease: fc.option(fc.integer({ min: 1, max: 90_000 }), { nil: undefined }),
  })
  .map((f) => {
    const form = new URLSearchParams({ 'hub.channel.type': 'websocket', 'hub.mode': f.mode, 'hub.topic': f.topic });
    if (f.mode === 'subscribe') form.set('hub.events', f.events);
    if (f.lease !== undefined) form.set('hub.lease_seconds', String(f.lease));
    if (f.endpoint || f.mode === 'unsubscribe') form.set('hub.channel.endpoint', '{endpoint-url}');
    return form.toString();
  });

/** A subscription form, valid or damaged. */
const anyForm = fc
  .record(
    {
      'hub.channel.type': fc.constantFrom('websocket', 'WebSocket', 'webhook', ''),
      'hub.mode': fc.constantFrom('subscribe', 'unsubscribe', 'SUBSCRIBE', 'publish', ''),
      'hub.topic': fc.oneof(fc.constantFrom(...TOPICS), nastyString),
      'hub.events': fc.oneof(fc.constantFrom('Patient-open', '*', 'Patient-open,patient-open, SyncError', 'DiagnosticReport-*', 'Nope-open', ' , '), nastyString),
      'hub.lease_seconds': fc.oneof(fc.constantFrom('60', '86401', '0', '-1', '1.5', '1e3', ''), nastyString),
      'hub.channel.endpoint': fc.oneof(fc.constantFrom('{endpoint-url}', 'ws://elsewhere/fhircast/hub/ws/x'), nastyString),
      'subscriber.name': nastyString,
    },
    { requiredKeys: [] },
  )
  .chain((params) => fc.tuple(fc.constant(params), fc.boolean()))
  .map(([params, repeat]) => {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) form.append(k, v);
    if (repeat && params['hub.topic'] !== undefined) form.append('hub.topic', params['hub.topic']);
    return form.toString();
  });

export const formBody = fc.oneof(validForm, anyForm);

/** What goes into a request body. `recipe` bodies are resolved against the hub at run time. */
export type BodySpec = { kind: 'form'; text: string } | { kind: 'recipe'; recipe: Recipe } | { kind: 'text'; text: string } | { kind: 'bytes'; bytes: Uint8Array } | { kind: 'none' };

export const body: fc.Arbitrary<BodySpec> = fc.oneof(
  { arbitrary: formBody.map((text): BodySpec => ({ kind: 'form', text })), weight: 3 },
  { arbitrary: recipe(fc.oneof({ arbitrary: fc.constantFrom(...TOPICS), weight: 8 }, { arbitrary: nastyString, weight: 1 })).map((r): BodySpec => ({ kind: 'recipe', recipe: r })), weight: 4 },
  { arbitrary: anyJsonText.map((text): BodySpec => ({ kind: 'text', text })), weight: 2 },
  { arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): BodySpec => ({ kind: 'bytes', bytes })), weight: 1 },
  { arbitrary: fc.constant<BodySpec>({ kind: 'none' }), weight: 1 },
);

export { mutate };
