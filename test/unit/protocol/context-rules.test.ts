/** Checking an event's context against its catalog row (src/protocol/context-rules.ts). */
import { describe, expect, it } from 'vitest';
import { entryIdentity, parseReference, validateContext } from '../../../src/protocol/context-rules.js';
import { resolveEventName } from '../../../src/protocol/event-names.js';
import { isHubError } from '../../../src/protocol/outcome.js';

const def = (name: string) => resolveEventName(name)!.definition;
const patient = (extra: Record<string, unknown> = {}) => ({ key: 'patient', resource: { resourceType: 'Patient', id: 'p1', ...extra } });

function refusal(name: string, context: unknown[], options?: { allowEmpty?: boolean }): { code: string; text: string } {
  try {
    validateContext(def(name), name, context, options);
  } catch (error) {
    if (!isHubError(error) || error.status !== 400) throw error;
    return { code: error.outcome.issue![0]!.code, text: error.message };
  }
  throw new Error('accepted');
}

describe('parseReference', () => {
  it('reads Type/id from relative and absolute references, ignoring _history and a query', () => {
    expect(parseReference('Patient/p1')).toEqual({ type: 'Patient', id: 'p1' });
    expect(parseReference('https://fhir.example.org/r4/ImagingStudy/s-9/_history/3')).toEqual({ type: 'ImagingStudy', id: 's-9' });
    expect(parseReference('Patient/p1?_format=json')).toEqual({ type: 'Patient', id: 'p1' });
    expect(parseReference('/Patient//p1/')).toEqual({ type: 'Patient', id: 'p1' });
  });

  it('reads nothing from what names no Type/id', () => {
    for (const r of ['p1', '', 'patient/p1', 'Patient/', '_history/2', 'Patient/_history/2', 'P4tient/x', 'P/p1', 'Patient-x/p1', 'aPatient/p1', '_history/1/Patient/p1']) expect(parseReference(r), r).toBeUndefined();
  });
});

describe('entryIdentity', () => {
  it('names a resource by type and id, else the Reference it holds, else nothing', () => {
    expect(entryIdentity(patient())).toEqual({ type: 'Patient', id: 'p1' });
    expect(entryIdentity({ key: 'patient', reference: { reference: 'Patient/p2' } })).toEqual({ type: 'Patient', id: 'p2' });
    expect(entryIdentity({ key: 'patient', resource: { resourceType: 'Patient', id: '' }, reference: { reference: 'Patient/p3' } })).toEqual({ type: 'Patient', id: 'p3' });
    expect(entryIdentity({ key: 'patient', resource: { resourceType: 'Patient' } })).toBeUndefined();
    expect(entryIdentity({ key: 'patient', reference: { reference: 7 } } as never)).toBeUndefined();
    expect(entryIdentity({ key: 'patient', reference: 'Patient/p4' } as never)).toBeUndefined();
    expect(entryIdentity({ key: 'patient', resource: { resourceType: 5, id: 'p5' } } as never)).toBeUndefined();
    expect(entryIdentity({ key: 'patient', resource: 'Patient/p6' } as never)).toBeUndefined();
    expect(entryIdentity(undefined)).toBeUndefined();
  });
});

describe('validateContext', () => {
  it('HUB-CHANGE-12 returns the entries of a valid event, unknown keys included', () => {
    const context = [patient(), { key: 'note', valueString: 'x' }];
    expect(validateContext(def('Patient-open'), 'Patient-open', context)).toBe(context);
  });

  it('HUB-CHANGE-11 does not check organisation events beyond their being a list', () => {
    const context = [1, 'x'];
    expect(validateContext(def('com.example.ping'), 'com.example.ping', context)).toBe(context);
  });

  it('HUB-CHANGE-13 refuses an entry that is not an object with a string key, naming its index', () => {
    for (const bad of [null, 'x', [], { key: 3 }]) {
      expect(refusal('Patient-open', [patient(), bad])).toEqual({ code: 'structure', text: 'Patient-open: context[1] must be an object with a string "key"' });
    }
  });

  it('HUB-CHANGE-09 refuses a missing required key, naming it and its type', () => {
    expect(refusal('Patient-open', [])).toEqual({ code: 'required', text: 'Patient-open: required context key "patient" (Patient) is missing' });
  });

  it('accepts an empty context where the caller allows it (a close of whatever is current)', () => {
    expect(validateContext(def('Patient-close'), 'Patient-close', [], { allowEmpty: true })).toEqual([]);
    expect(refusal('Patient-close', [{ key: 'patient' }], { allowEmpty: true }).code).toBe('structure');
  });

  it('HUB-CHANGE-09 refuses a key given more often than allowed', () => {
    expect(refusal('Patient-open', [patient(), patient()])).toEqual({ code: 'structure', text: 'Patient-open: context key "patient" appears 2 times but at most 1 is allowed' });
  });

  it('HUB-CHANGE-10 refuses a resource of the wrong type, or one without resourceType', () => {
    expect(refusal('Patient-open', [{ key: 'patient', resource: { resourceType: 'Encounter', id: 'e1' } }])).toEqual({ code: 'value', text: 'Patient-open: context key "patient" must hold a Patient, not a Encounter' });
    for (const resource of [{ id: 'p1' }, [], 'Patient']) {
      expect(refusal('Patient-open', [{ key: 'patient', resource }])).toEqual({ code: 'structure', text: 'Patient-open: context key "patient" must hold a FHIR resource in "resource" of type Patient' });
    }
  });

  it('refuses a resource without id in an open or a close (a close must name what it closes, HUB-CTX-05)', () => {
    expect(refusal('Patient-open', [patient({ id: '' })])).toEqual({ code: 'required', text: 'Patient-open: context key "patient": the Patient has no id (opens and closes must name resources by id)' });
    expect(refusal('Patient-close', [{ key: 'patient', resource: { resourceType: 'Patient' } }]).code).toBe('required');
  });

  it('HUB-CHANGE-10 takes a Reference where the rule allows one, and checks the type it names', () => {
    const ref = (reference: unknown) => ({ key: 'report', reference: { reference } });
    const select = (entries: unknown[]) => validateContext(def('DiagnosticReport-select'), 'DiagnosticReport-select', entries);
    expect(() => select([ref('DiagnosticReport/r1'), { key: 'select', reference: { reference: 'Observation/o1' } }])).not.toThrow();
    expect(refusal('DiagnosticReport-select', [ref('Patient/p1')])).toEqual({ code: 'value', text: 'DiagnosticReport-select: context key "report" must reference a DiagnosticReport (got "Patient/p1")' });
    expect(refusal('DiagnosticReport-select', [ref('nonsense')]).code).toBe('value');
    expect(refusal('DiagnosticReport-select', [ref(5)])).toEqual({ code: 'structure', text: 'DiagnosticReport-select: context key "report" must hold a Reference ("reference": {"reference": "Type/id"}) or a resource' });
    expect(refusal('DiagnosticReport-select', [{ key: 'report' }]).code).toBe('structure');
    expect(refusal('DiagnosticReport-select', [{ key: 'report', reference: null }]).code).toBe('structure');
  });

  it('checks the anchor of a generated open by id, though generated rows are not checked for ids otherwise', () => {
    expect(() => validateContext(def('Observation-open'), 'Observation-open', [{ key: 'observation', resource: { resourceType: 'Observation', id: 'o1' } }])).not.toThrow();
    expect(refusal('Observation-open', [{ key: 'observation', resource: { resourceType: 'Observation' } }]).code).toBe('required');
  });
});
