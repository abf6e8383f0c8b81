/**
 * The bridge's sequencing (src/bridge/bridge.ts): after each (re)connect it adopts the remote's
 * current context, against a scripted remote (mock-socket) on manual timers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupMocks, LOCAL, mockBridge, patient } from './support/mock-setup.js';
import { currentPatient, patientOpen } from './support/local.js';

afterEach(cleanupMocks);

describe('adopting the remote context after a (re)connect', () => {
  it('publishes the STU3 get-context answer locally as an open when it differs', async () => {
    const { hub, bridge } = await mockBridge({
      prepare: (r) => void (r.context = { 'context.type': 'Patient', 'context.versionId': 'v1', context: [patient('p9'), { key: 'content', resource: { resourceType: 'Bundle', type: 'collection' } }] }),
    });
    expect(currentPatient(hub, LOCAL)).toBe('p9');
    expect(bridge.status().eventsIn).toBe(1);
  });

  it('reads a bare context array (Medplum STU2, sandbox) and infers the anchor', async () => {
    const { hub, app } = await mockBridge({
      prepare: (r) => void (r.context = [{ key: 'encounter', resource: { resourceType: 'Encounter', id: 'e1' } }, patient('p8')]),
    });
    expect(currentPatient(hub, LOCAL)).toBe('p8');
    expect(app.events.at(-1).event['hub.event']).toBe('Encounter-open');
  });

  it("closes the local current context when the remote answers {} (sandbox after a close)", async () => {
    const { hub, app } = await mockBridge({
      prepare: async (r, h) => {
        r.context = {};
        await h.publish(patientOpen(LOCAL, 'p7', 'before'));
      },
    });
    expect(app.events.map((e) => e.event['hub.event'])).toEqual(['Patient-open', 'Patient-close']);
    expect(hub.getContext(LOCAL)['context.type']).toBe('');
  });

  it('publishes nothing when both hubs already have the same current context', async () => {
    const { app, bridge } = await mockBridge({
      prepare: async (r, h) => {
        r.context = { 'context.type': 'Patient', 'context.versionId': 'rv', context: [{ key: 'patient', resource: { id: 'p6', resourceType: 'Patient', extra: 'kept' } }] };
        await h.publish(patientOpen(LOCAL, 'p6', 'same'));
      },
    });
    expect(app.ids()).toEqual(['same']);
    expect(bridge.status().eventsIn).toBe(0);
  });

  it('connects anyway, saying why, when the remote has no get-context', async () => {
    const { bridge } = await mockBridge({ prepare: (r) => void (r.contextStatus = 404) });
    expect(bridge.status().lastError).toContain('current context could not be read');
  });
});
