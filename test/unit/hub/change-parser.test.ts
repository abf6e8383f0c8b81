/**
 * src/hub/change-parser.ts and `HubOptions.changeParser: 'background'` (issue 17 item 3): the browser
 * worker starts without the context-change parser (zod, dist/tabcast-change.js). Changes that come
 * before it has loaded wait for it and are applied in order, none lost; a failed load answers each
 * waiting change with a 503 OperationOutcome naming the file, and the next change loads it again.
 * The parser module is mocked here so that the test decides when (and whether) it loads.
 */
import { describe, expect, it, vi } from 'vitest';
import { accept, issueOf, join, names, patient, patientContext, refuse, request, settle } from '../conformance/support.js';
import { makeHub } from '../support/harness.js';

const gate = vi.hoisted(() => {
  let open!: () => void;
  const state = { failNext: false, opened: new Promise<void>((resolve) => (open = resolve)), open: () => open() };
  return state;
});

vi.mock('../../../src/protocol/change-request.js', async (importOriginal) => {
  await gate.opened;
  if (gate.failNext) {
    gate.failNext = false;
    throw new Error('Failed to fetch dynamically imported module: tabcast-change.js');
  }
  return importOriginal();
});

describe('change parser loaded in the background (the worker’s first load leaves zod out)', () => {
  // One test: the module keeps the loaded parser, so the order of these steps matters.
  it('HUB-NOTIFY-09 HUB-CHANGE-13 changes made before the parser loads wait for it and go out in order; a failed load gives each a 503 OperationOutcome naming tabcast-change.js, and the next change loads it again', async () => {
    const { hub } = await makeHub({ changeParser: 'background' });
    const topic = hub.createTopic();
    const sub = join(hub, topic, ['*']);

    // The load fails: the waiting change gets a 503 that names the file, and nothing is applied.
    gate.failNext = true;
    const failed = refuse(hub, request(topic, 'Patient-open', patientContext(patient('p-0'))), 503);
    gate.open();
    const issue = issueOf(await failed);
    expect(issue.diagnostics).toContain('tabcast-change.js');
    expect(names(sub.channel)).toEqual([]);
    expect(hub.getContext(topic).context).toEqual([]);

    // Three changes in a row before the parser is there; the second is malformed.
    const first = accept(hub, request(topic, 'Patient-open', patientContext(patient('p-1'))));
    const malformed = refuse(hub, { id: '', event: { 'hub.event': 'Patient-open', 'hub.topic': topic, context: [] } }, 400);
    const third = accept(hub, request(topic, 'Patient-close', patientContext(patient('p-1'))));
    const fourth = accept(hub, request(topic, 'Patient-open', patientContext(patient('p-2'))));
    expect(names(sub.channel)).toEqual([]);
    await Promise.all([first, malformed, third, fourth]);
    expect(names(sub.channel)).toEqual(['Patient-open', 'Patient-close', 'Patient-open']);
    expect(sub.channel.events.map((f) => f.event.context[0].resource.id)).toEqual(['p-1', 'p-1', 'p-2']);
    expect(hub.getContext(topic).context[0]?.resource?.id).toBe('p-2');

    // Loaded: a change is applied synchronously again, as with a hub that waited for the parser.
    void hub.publish(request(topic, 'Patient-close', patientContext(patient('p-2'))));
    expect(names(sub.channel)).toHaveLength(4);
    await settle();
  });
});
