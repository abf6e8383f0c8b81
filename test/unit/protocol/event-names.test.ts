/** Event-name recognition and hub.events filters (src/protocol/event-names.ts). */
import { describe, expect, it } from 'vitest';
import { filterText, matchEvent, parseEventFilter, resolveEventName, type EventFilter } from '../../../src/protocol/event-names.js';

describe('resolveEventName', () => {
  it('HUB-CHANGE-11 resolves catalog names in any case and with spaces around, to the catalog row', () => {
    const r = resolveEventName(' patient-OPEN ')!;
    expect(r.name).toBe('Patient-open');
    expect(r.definition.catalog).toBe(true);
    expect(r.legacy).toBeUndefined();
  });

  it('HUB-LEGACY-01 resolves a 2019 name to its STU3 event and says which name was used', () => {
    expect(resolveEventName('Switch-Imaging-Study')).toMatchObject({ name: 'ImagingStudy-open', legacy: 'switch-imaging-study', definition: { catalog: true } });
  });

  it('HUB-CHANGE-11 makes <Type>-<verb> rules for other resource types: select and update need a Reference, an open an optional resource', () => {
    const open = resolveEventName('observation-open')!;
    expect(open.name).toBe('Observation-open');
    expect(open.definition).toEqual({
      name: 'Observation-open',
      kind: 'open',
      anchorType: 'Observation',
      anchorKey: 'observation',
      keys: [{ key: 'observation', min: 0, max: 1, resourceType: 'Observation', shape: 'resource' }],
      catalog: false,
    });
    expect(resolveEventName('Observation-open')!.definition).toBe(open.definition); // made once
    expect(resolveEventName('Observation-select')!.definition.keys).toEqual([{ key: 'observation', min: 1, max: 1, resourceType: 'Observation', shape: 'reference' }]);
    expect(resolveEventName('Observation-update')!.definition.keys).toEqual([
      { key: 'observation', min: 1, max: 1, resourceType: 'Observation', shape: 'reference' },
      { key: 'updates', min: 1, max: 1, resourceType: 'Bundle', shape: 'resource' },
    ]);
    expect(resolveEventName('Observation-close')!.definition.kind).toBe('close');
  });

  it('HUB-CHANGE-11 spells a catalog resource event the catalog way however it is written', () => {
    expect(resolveEventName('imagingstudy-Open')).toMatchObject({ name: 'ImagingStudy-open', definition: { catalog: true } });
  });

  it('HUB-CHANGE-11 takes reverse-domain organisation events as given, with no context rules', () => {
    const r = resolveEventName('com.example.ping')!;
    expect(r).toEqual({ name: 'com.example.ping', definition: { name: 'com.example.ping', kind: 'custom', keys: [], catalog: false } });
    expect(resolveEventName('COM.example.PING')).toMatchObject({ name: 'COM.example.PING', definition: { kind: 'custom', keys: [] } });
  });

  it('HUB-CHANGE-11 knows nothing else', () => {
    for (const name of ['Unicorn-open', 'Patient-teleport', 'ping', '', 'heartbeat', 'a.']) expect(resolveEventName(name), name).toBeUndefined();
  });
});

describe('hub.events filters', () => {
  it('HUB-SUB-05 parses *, <Type>-*, heartbeat, legacy names and event names, and nothing unknown', () => {
    expect(parseEventFilter(' * ')).toEqual({ kind: 'all' });
    expect(parseEventFilter('imagingstudy-*')).toEqual({ kind: 'resource', type: 'imagingstudy', text: 'ImagingStudy-*' });
    expect(parseEventFilter('Unicorn-*')).toBeUndefined();
    expect(parseEventFilter('Heartbeat')).toEqual({ kind: 'name', lower: 'heartbeat', text: 'heartbeat' });
    expect(parseEventFilter('Open-Imaging-Study')).toEqual({ kind: 'legacy', lower: 'open-imaging-study', stu3Lower: 'imagingstudy-open' });
    expect(parseEventFilter('patient-open')).toEqual({ kind: 'name', lower: 'patient-open', text: 'Patient-open' });
    expect(parseEventFilter('nope')).toBeUndefined();
  });

  it('HUB-SUB-07 echoes each filter in the confirmation as the hub reads it', () => {
    const texts = ['*', 'ImagingStudy-*', 'heartbeat', 'open-imaging-study', 'Patient-open'].map((t) => filterText(parseEventFilter(t)!));
    expect(texts).toEqual(['*', 'ImagingStudy-*', 'heartbeat', 'open-imaging-study', 'Patient-open']);
  });

  it('HUB-NOTIFY-03 HUB-NOTIFY-04 HUB-NOTIFY-05 HUB-LEGACY-03 matches events and names the spelling to deliver them under', () => {
    const f = (...entries: string[]) => entries.map((e) => parseEventFilter(e)!) as EventFilter[];
    expect(matchEvent(f('*'), 'Patient-open', 'Patient-open')).toBe('Patient-open');
    expect(matchEvent(f('patient-open'), 'Patient-open', 'Patient-open')).toBe('Patient-open');
    expect(matchEvent(f('Patient-close'), 'Patient-open', 'Patient-open')).toBeUndefined();
    expect(matchEvent(f('Patient-*'), 'Patient-close', 'Patient-close')).toBe('Patient-close');
    expect(matchEvent(f('Encounter-*'), 'Patient-close', 'Patient-close')).toBeUndefined();
    expect(matchEvent(f('Patient-*'), 'syncerror', 'SyncError')).toBeUndefined();
    expect(matchEvent(f('switch-imaging-study'), 'ImagingStudy-open', 'ImagingStudy-open')).toBe('switch-imaging-study');
    expect(matchEvent(f('switch-imaging-study', 'open-imaging-study'), 'ImagingStudy-open', 'ImagingStudy-open')).toBe('open-imaging-study');
    expect(matchEvent(f('open-imaging-study', 'switch-imaging-study'), 'ImagingStudy-open', 'ImagingStudy-open')).toBe('open-imaging-study');
    expect(matchEvent(f('close-imaging-study'), 'ImagingStudy-open', 'ImagingStudy-open')).toBeUndefined();
    // a legacy filter does not stop a later exact one
    expect(matchEvent(f('switch-imaging-study', 'ImagingStudy-open'), 'ImagingStudy-open', 'ImagingStudy-open')).toBe('ImagingStudy-open');
  });
});
