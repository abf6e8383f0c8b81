// Issue 18: the bridge takes its clock and timers as inputs, so its tests run on a manual clock and
// never wait on real time. This test reads every file under test/unit/bridge for the ways a test
// could wait on (or hand the bridge) real time.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../../..', import.meta.url));
const self = fileURLToPath(import.meta.url);

/** Each way of waiting on real time, with the words that explain a hit. */
const REAL_TIME: ReadonlyArray<[RegExp, string]> = [
  [/(?<![\w.$])(?:globalThis\.|window\.)?set(?:Timeout|Interval)\s*\(/, 'a global timer'],
  [/\bglobalThis\.set(?:Timeout|Interval)\b/, 'a global timer handed on'],
  [/\bDate\.now\s*\(/, 'the wall clock'],
  [/\bperformance\.now\s*\(/, 'the wall clock'],
  [/\b(?:systemClock|systemTimers|timerDriver)\b/, 'the real clock or timers from src/adapters'],
  [/\buseRealTimers\b/, 'real timers'],
  [/['"]node:timers(?:\/promises)?['"]/, 'Node timers'],
  [/(?<![\w.$])sleep\s*\(/, 'a sleep'],
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/** `file:line: why` for every line of `text` that waits on real time; comments are skipped. */
function realTimeUses(name: string, text: string): string[] {
  const hits: string[] = [];
  text.split('\n').forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '').replace(/\/\*.*?\*\//g, '');
    for (const [pattern, why] of REAL_TIME) if (pattern.test(code)) hits.push(`${name}:${i + 1}: ${why}: ${line.trim()}`);
  });
  return hits;
}

describe('issue 18: no test under test/unit/bridge waits on real time', () => {
  it('no file there sets a global timer, reads the wall clock, sleeps or hands the bridge real timers', () => {
    const files = filesUnder(here).filter((f) => f !== self);
    expect(files.length).toBeGreaterThan(5);
    const hits = files.flatMap((f) => realTimeUses(relative(root, f), readFileSync(f, 'utf8')));
    expect(hits).toEqual([]);
  });

  it('the reader finds each kind of real-time wait it is meant to forbid', () => {
    const samples = [
      'await new Promise((r) => setTimeout(r, 5));',
      'const id = setInterval(poll, 10);',
      'startBridge(config, { timers: { set: globalThis.setTimeout, clear: clearTimeout } });',
      'const end = Date.now() + ms;',
      'const t0 = performance.now();',
      "import { systemTimers } from '../../../src/adapters/system-clock.js';",
      'vi.useRealTimers();',
      "import { setTimeout as wait } from 'node:timers/promises';",
      'await sleep(50);',
    ];
    for (const sample of samples) expect(realTimeUses('sample', sample), sample).toHaveLength(1);
    // Manual timers are fine: their methods share the global names.
    expect(realTimeUses('sample', 'const handle = timers.setTimeout(fire, 500); manual.clearTimeout(handle);')).toEqual([]);
    expect(realTimeUses('sample', '  setTimeout = (fn: () => void, ms: number): unknown => {')).toEqual([]);
  });
});
