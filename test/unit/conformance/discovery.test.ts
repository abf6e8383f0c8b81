import { describe, expect, it } from 'vitest';
import { makeHub } from '../support/harness.js';

const CATALOG_NAMES = [
  'Patient-open',
  'Patient-close',
  'Encounter-open',
  'Encounter-close',
  'ImagingStudy-open',
  'ImagingStudy-close',
  'DiagnosticReport-open',
  'DiagnosticReport-close',
  'DiagnosticReport-update',
  'DiagnosticReport-select',
  'SyncError',
  'userLogout',
  'userHibernate',
  'Home-open',
];

describe('HUB-DISC: discovery (.well-known)', () => {
  it('HUB-DISC-01 the configuration document is a plain JSON object (engine part; status and Content-Type are the wire suite\u2019s)', async () => {
    const { hub } = await makeHub();
    const doc = hub.wellKnown();
    expect(typeof doc).toBe('object');
    expect(Array.isArray(doc)).toBe(false);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('HUB-DISC-02 eventsSupported lists each of the 14 catalog events once, in catalog spelling', async () => {
    const { hub } = await makeHub();
    const { eventsSupported } = hub.wellKnown();
    expect(Array.isArray(eventsSupported)).toBe(true);
    for (const name of CATALOG_NAMES) expect(eventsSupported).toContain(name);
    for (const name of CATALOG_NAMES) expect(eventsSupported.filter((e) => e.toLowerCase() === name.toLowerCase())).toHaveLength(1);
  });

  it('HUB-DISC-02 every name in eventsSupported is one the hub accepts in hub.events', async () => {
    const { hub } = await makeHub();
    const topic = hub.createTopic();
    for (const name of hub.wellKnown().eventsSupported) {
      expect(() => hub.subscribe({ topic, events: [name] }), name).not.toThrow();
    }
  });

  it('HUB-DISC-03 websocketSupport is the boolean true', async () => {
    const { hub } = await makeHub();
    expect(hub.wellKnown().websocketSupport).toBe(true);
  });

  it('HUB-DISC-04 fhircastVersion is the IG version string 3.0.0', async () => {
    const { hub } = await makeHub();
    expect(hub.wellKnown().fhircastVersion).toBe('3.0.0');
  });

  it('HUB-DISC-05 getCurrentSupport and capabilities.supportsGetCurrentContext are both true', async () => {
    const { hub } = await makeHub();
    const doc = hub.wellKnown();
    expect(doc.getCurrentSupport).toBe(true);
    expect(doc.capabilities.supportsGetCurrentContext).toBe(true);
  });

  it('HUB-DISC-06 capabilities.supportsNonCurrentContextUpdates is true', async () => {
    const { hub } = await makeHub();
    expect(hub.wellKnown().capabilities.supportsNonCurrentContextUpdates).toBe(true);
  });
});
