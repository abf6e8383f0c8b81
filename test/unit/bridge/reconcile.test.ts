/** Comparing and reconciling the two hubs' contexts (src/bridge/reconcile.ts). */
import { describe, expect, it } from 'vitest';
import { reconcileEvent, sameContext } from '../../../src/bridge/reconcile.js';

const pat = (id: string, extra = {}) => ({ key: 'patient', resource: { resourceType: 'Patient', id, ...extra } });

describe('reconciling', () => {
  it('counts contexts naming the same resources as equal, however each hub spells them', () => {
    const a = { type: 'Patient', entries: [pat('1', { name: [{ text: 'A' }] })] };
    const b = { type: 'patient', entries: [pat('1')] };
    expect(sameContext(a, b)).toBe(true);
    expect(sameContext(a, { type: 'Patient', entries: [pat('2')] })).toBe(false);
    expect(reconcileEvent(a, b)).toBeUndefined();
  });

  it('opens the remote context, or closes the local one when the remote has none', () => {
    expect(reconcileEvent({ type: 'Patient', entries: [pat('9')] }, { type: '', entries: [] })).toEqual({ name: 'Patient-open', context: [pat('9')] });
    expect(reconcileEvent({ type: '', entries: [] }, { type: 'Patient', entries: [pat('7')] })).toEqual({ name: 'Patient-close', context: [pat('7')] });
  });
});
