/**
 * fast-check arbitraries for what clients send a FHIRcast hub: context change requests built from
 * valid templates and then damaged by mutations, raw JSON and text, subscription parameters,
 * frames and close codes. Values come from small pools on purpose, so that ids, topics and
 * anchors collide and requests interact (re-opens, closes of what is open, resends).
 */
import fc from 'fast-check';

/** Strings a hostile or careless client may send: ASCII, any code point, lone surrogates, controls. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 3 }),
  fc.constantFrom('', ' ', '\u0000', '\n', '\u202e', '🩻', 'é\u0301', '__proto__', 'constructor', 'toString', '%00', '../..', '*', 'Patient/', '/', '\\'),
);

const PATIENTS = ['pt-1', 'pt-2', 'pt-3'];
const ENCOUNTERS = ['enc-1', 'enc-2'];
const STUDIES = ['st-1', 'st-2', 'st-3'];
const REPORTS = ['dr-1', 'dr-2'];
const OBSERVATIONS = ['obs-1', 'obs-2', 'obs-3'];

/** Topics of the engine properties: two with subscribers, one without. */
export const TOPICS = ['topic-a', 'topic-b', 'topic-quiet'] as const;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const patient = (id: string): Json => ({ resourceType: 'Patient', id, name: [{ family: 'Nakamura', given: ['Aiko'] }] });
const encounter = (id: string, pid: string): Json => ({ resourceType: 'Encounter', id, status: 'in-progress', subject: { reference: `Patient/${pid}` } });
const study = (id: string): Json => ({ resourceType: 'ImagingStudy', id, status: 'available' });
const report = (id: string, pid: string): Json => ({ resourceType: 'DiagnosticReport', id, status: 'preliminary', subject: { reference: `Patient/${pid}` } });
const observation = (id: string, mm: number): Json => ({ resourceType: 'Observation', id, status: 'preliminary', valueQuantity: { value: mm, unit: 'mm' } });
const parameters: Json = { resourceType: 'Parameters', parameter: [{ name: 'code', valueCoding: { code: 'user-initiated' } }] };
const outcome: Json = { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'processing', diagnostics: 'viewer could not follow' }] };

/** One entry of a content-sharing Bundle, sometimes invalid. */
const bundleEntry: fc.Arbitrary<Json> = fc.oneof(
  fc.tuple(fc.constantFrom(...OBSERVATIONS), fc.integer({ min: 1, max: 90 })).map(([id, mm]) => ({ request: { method: 'PUT', url: `Observation/${id}` }, resource: observation(id, mm) })),
  fc.constantFrom(...OBSERVATIONS).map((id) => ({ fullUrl: `Observation/${id}`, request: { method: 'DELETE', url: `Observation/${id}` } })),
  fc.constantFrom(...OBSERVATIONS).map((id) => ({ request: { method: 'POST', url: 'Observation' }, resource: observation(id, 1) })),
  fc.constant({ request: { method: 'PUT' }, resource: { resourceType: 'Observation' } }),
  fc.constant({ request: { method: 'DELETE' } }),
  fc.constant({ request: { method: 'PUT', url: 'Observation/x' }, resource: observation('x', 2), search: { mode: 'match' } }),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

/** A valid-looking request before mutation; `version` is resolved against the hub when the request is sent. */
export interface Template {
  name: string;
  topic: string;
  /** For updates: use the anchor's current versionId, an old one, or a made-up one. */
  version?: 'current' | 'stale' | 'made-up' | 'missing';
  reportId?: string;
  build(versionId: string | undefined): Json;
}

const request = (topic: string, name: string, context: Json[], extra: Record<string, Json> = {}): Json => ({
  timestamp: '2026-03-02T09:15:00.000Z',
  id: 'will-be-replaced',
  event: { 'hub.topic': topic, 'hub.event': name, context, ...extra },
});

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);

/** Templates for every kind of event the catalog knows, plus legacy, generated and organisation events. */
export function template(topic: fc.Arbitrary<string>): fc.Arbitrary<Template> {
  return fc.tuple(
    topic,
    fc.oneof(
      fc.tuple(pick(['Patient-open', 'Patient-close', 'patient-OPEN']), pick(PATIENTS)).map(([n, p]) => ({ name: n, context: (): Json[] => [{ key: 'patient', resource: patient(p) }] })),
      fc.tuple(pick(['Encounter-open', 'Encounter-close']), pick(ENCOUNTERS), pick(PATIENTS)).map(([n, e, p]) => ({
        name: n,
        context: (): Json[] => [{ key: 'encounter', resource: encounter(e, p) }, { key: 'patient', resource: patient(p) }],
      })),
      fc.tuple(pick(['ImagingStudy-open', 'ImagingStudy-close', 'open-imaging-study', 'switch-imaging-study']), pick(STUDIES), fc.option(pick(PATIENTS), { nil: undefined })).map(([n, s, p]) => ({
        name: n,
        context: (): Json[] => [{ key: 'study', resource: study(s) }, ...(p ? [{ key: 'patient', resource: patient(p) }] : [])],
      })),
      fc.tuple(pick(['DiagnosticReport-open', 'DiagnosticReport-close']), pick(REPORTS), pick(PATIENTS), fc.subarray(STUDIES, { maxLength: 2 }), fc.option(pick(ENCOUNTERS), { nil: undefined })).map(([n, r, p, ss, e]) => ({
        name: n,
        context: (): Json[] => [
          { key: 'report', resource: report(r, p) },
          { key: 'patient', resource: patient(p) },
          ...(e ? [{ key: 'encounter', resource: encounter(e, p) }] : []),
          ...ss.map((s): Json => ({ key: 'study', resource: study(s) })),
        ],
      })),
      fc.tuple(pick(['DiagnosticReport-select']), pick(REPORTS), fc.subarray(OBSERVATIONS)).map(([n, r, sel]) => ({
        name: n,
        context: (): Json[] => [{ key: 'report', reference: { reference: `DiagnosticReport/${r}` } }, ...sel.map((o): Json => ({ key: 'select', reference: { reference: `Observation/${o}` } }))],
      })),
      fc.tuple(pick(['userLogout', 'userHibernate']), fc.constant(0)).map(([n]) => ({ name: n, context: (): Json[] => [{ key: 'parameters', resource: parameters }] })),
      fc.constantFrom(
        { name: 'Home-open', context: (): Json[] => [] },
        { name: 'user-logout', context: (): Json[] => [] },
        { name: 'SyncError', context: (): Json[] => [{ key: 'operationoutcome', resource: outcome }] },
        { name: 'org.example.viewer.layout-changed', context: (): Json[] => [{ key: 'layout', valueString: '2x2' }] },
        { name: 'Observation-open', context: (): Json[] => [{ key: 'observation', resource: observation('obs-9', 3) }] },
        { name: 'Observation-close', context: (): Json[] => [{ key: 'observation', resource: observation('obs-9', 3) }] },
      ),
    ),
  )
    .map(([t, { name, context }]): Template => ({ name, topic: t, build: () => request(t, name, context()) }))
    .chain((base) =>
      base.name === 'DiagnosticReport-select'
        ? fc.constant(base)
        : fc.oneof(
            { arbitrary: fc.constant(base), weight: 4 },
            {
              arbitrary: fc
                .tuple(pick(REPORTS), pick(['current', 'stale', 'made-up', 'missing'] as const), fc.array(bundleEntry, { maxLength: 6 }), fc.option(pick(PATIENTS), { nil: undefined }))
                .map(([r, version, entries, p]): Template => ({
                  name: 'DiagnosticReport-update',
                  topic: base.topic,
                  version,
                  reportId: r,
                  build: (versionId) =>
                    request(
                      base.topic,
                      'DiagnosticReport-update',
                      [
                        { key: 'report', reference: { reference: `DiagnosticReport/${r}` } },
                        ...(p ? [{ key: 'patient', reference: { reference: `Patient/${p}` } } as Json] : []),
                        { key: 'updates', resource: { resourceType: 'Bundle', id: 'ub-1', type: 'transaction', entry: entries } },
                      ],
                      versionId === undefined ? {} : { 'context.versionId': versionId },
                    ),
                })),
              weight: 2,
            },
          ),
    );
}

/** One way to damage a request. Paths are chosen at run time from `at` (an index into all paths). */
export type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; value: Json }
  | { kind: 'string'; at: number; value: string }
  | { kind: 'duplicate-entry'; at: number }
  | { kind: 'timestamp'; value: string }
  | { kind: 'id'; value: Json }
  | { kind: 'event-case'; upper: boolean }
  | { kind: 'nest'; at: number; depth: number }
  | { kind: 'big-string'; at: number; length: number }
  | { kind: 'proto-key'; at: number; key: '__proto__' | 'constructor' | 'prototype' };

/** ISO 8601 texts: valid ones in and out of order, and invalid ones. */
export const timestampText: fc.Arbitrary<string> = fc.oneof(
  fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2026-02-30T10:00:00Z', '2026-13-01T10:00:00Z', '2026-03-02T09:15:00+14:00', '2026-03-02 09:15:00', 'yesterday', '', '2026-03-02T24:00:00Z', '0000-01-01T00:00:00Z'),
  nastyString,
);

export function mutation(maxNest: number): fc.Arbitrary<Mutation> {
  const at = fc.nat({ max: 10_000 });
  return fc.oneof(
    fc.record({ kind: fc.constant('delete' as const), at }),
    fc.record({ kind: fc.constant('replace' as const), at, value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> }),
    fc.record({ kind: fc.constant('string' as const), at, value: nastyString }),
    fc.record({ kind: fc.constant('duplicate-entry' as const), at }),
    fc.record({ kind: fc.constant('timestamp' as const), value: timestampText }),
    fc.record({ kind: fc.constant('id' as const), value: fc.oneof(fc.constantFrom<Json>('ev-dup', '', 0, null, ['x'], { id: 'x' }), nastyString) }),
    fc.record({ kind: fc.constant('event-case' as const), upper: fc.boolean() }),
    fc.record({ kind: fc.constant('nest' as const), at, depth: fc.integer({ min: 1, max: maxNest }) }),
    fc.record({ kind: fc.constant('big-string' as const), at, length: fc.integer({ min: 1000, max: 20_000 }) }),
    fc.record({ kind: fc.constant('proto-key' as const), at, key: fc.constantFrom('__proto__' as const, 'constructor' as const, 'prototype' as const) }),
  );
}

type Container = Json[] | { [k: string]: Json };

/** Every (container, key) pair of a JSON tree, root first. */
function slots(root: Json): Array<{ parent: Container; key: string | number }> {
  const out: Array<{ parent: Container; key: string | number }> = [];
  const walk = (node: Json) => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        out.push({ parent: node, key: i });
        walk(child);
      });
    } else if (node !== null && typeof node === 'object') {
      for (const [k, child] of Object.entries(node)) {
        out.push({ parent: node, key: k });
        walk(child);
      }
    }
  };
  walk(root);
  return out;
}

function containers(root: Json): Container[] {
  const out: Container[] = [];
  const walk = (node: Json) => {
    if (node !== null && typeof node === 'object') {
      out.push(node);
      for (const child of Object.values(node)) walk(child);
    }
  };
  walk(root);
  return out;
}

/**
 * Applies mutations to a JSON value and returns the request as JSON text, the form every door
 * receives it in (`__proto__` members only exist in text, so they are spliced in as text).
 */
export function mutate(value: Json, mutations: readonly Mutation[]): string {
  const root = JSON.parse(JSON.stringify(value)) as Json;
  const protoKeys: Array<{ at: number; key: string }> = [];
  for (const m of mutations) {
    const all = slots(root);
    const slot = 'at' in m && all.length > 0 ? all[m.at % all.length]! : undefined;
    const set = (v: Json) => {
      if (!slot) return;
      (slot.parent as Record<string | number, Json>)[slot.key] = v;
    };
    switch (m.kind) {
      case 'delete':
        if (slot) {
          if (Array.isArray(slot.parent)) slot.parent.splice(Number(slot.key), 1);
          else delete slot.parent[slot.key as string];
        }
        break;
      case 'replace':
        set(m.value);
        break;
      case 'string':
        set(m.value);
        break;
      case 'duplicate-entry': {
        const arrays = containers(root).filter((c): c is Json[] => Array.isArray(c) && c.length > 0);
        const target = arrays[m.at % Math.max(1, arrays.length)];
        if (target) target.push(JSON.parse(JSON.stringify(target[m.at % target.length])) as Json);
        break;
      }
      case 'timestamp':
        if (root && typeof root === 'object' && !Array.isArray(root)) root.timestamp = m.value;
        break;
      case 'id':
        if (root && typeof root === 'object' && !Array.isArray(root)) root.id = m.value;
        break;
      case 'event-case': {
        const event = root && typeof root === 'object' && !Array.isArray(root) ? root.event : undefined;
        if (event && typeof event === 'object' && !Array.isArray(event) && typeof event['hub.event'] === 'string') {
          event['hub.event'] = m.upper ? event['hub.event'].toUpperCase() : event['hub.event'].toLowerCase();
        }
        break;
      }
      case 'nest': {
        let v: Json = slot ? ((slot.parent as Record<string | number, Json>)[slot.key] ?? null) : null;
        for (let i = 0; i < m.depth; i++) v = i % 2 === 0 ? [v] : { n: v };
        set(v);
        break;
      }
      case 'big-string':
        set('x'.repeat(m.length));
        break;
      case 'proto-key':
        protoKeys.push({ at: m.at, key: m.key });
        break;
    }
  }
  let text = JSON.stringify(root);
  for (const p of protoKeys) {
    const braces = structuralBraces(text);
    if (braces.length === 0) continue;
    const i = braces[p.at % braces.length]!;
    const closes = text[i + 1] === '}';
    text = `${text.slice(0, i + 1)}"${p.key}":{"polluted":true,"resourceType":"Patient"}${closes ? '' : ','}${text.slice(i + 1)}`;
  }
  return text;
}

/** Positions of the `{` that open objects (not those inside strings) in JSON text. */
function structuralBraces(text: string): number[] {
  const out: number[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{') {
      out.push(i);
    }
  }
  return out;
}

/** A recipe: a template plus the mutations to apply (none for about half the recipes). */
export interface Recipe {
  template: Template;
  mutations: Mutation[];
}

export function recipe(topic: fc.Arbitrary<string>, maxNest = 40): fc.Arbitrary<Recipe> {
  return fc.record({
    template: template(topic),
    mutations: fc.oneof({ arbitrary: fc.constant([] as Mutation[]), weight: 3 }, { arbitrary: fc.array(mutation(maxNest), { minLength: 1, maxLength: 3 }), weight: 4 }),
  });
}

/** Bodies that are not built from a template at all: any JSON value, or any text. */
export const anyJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('', '{', '[]', 'null', '"x"', '{"event":null}', '{"id":"a","event":{"hub.event":"Patient-open","context":{}}}', '\ufeff{}', '{"a":1,"a":2}'),
);

/** Close codes: the ones the spec names, the reserved ones, and any integer. */
export const closeCode: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(1000, 1001, 1005, 1006, 1008, 1009, 1011, 1015, 3000, 4000, 4999, 0, -1, 65_535),
  fc.integer({ min: -100_000, max: 100_000 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 1000.5),
);

/** Frames a subscriber may send: answers of every shape, junk, and JSON that is neither. */
export const anyFrame: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)), status: fc.oneof(fc.integer({ min: -1, max: 999 }), fc.constantFrom('200', ' 409 ', '2OO', '', 'OK'), fc.double()) }, { requiredKeys: [] }),
  fc.record({ timestamp: fc.string(), status: fc.constant('OK'), statusCode: fc.oneof(fc.constantFrom('200', '500'), fc.string()) }, { requiredKeys: [] }),
  fc.json({ maxDepth: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.anything({ maxDepth: 2, withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withDate: true }),
  fc.constantFrom('{"hub.channel.endpoint":"ws://x/y"}', '{"event":{"hub.event":"Patient-open"}}', '\u0000', 'null', '[]', '{"id":"__proto__","status":500}'),
);
