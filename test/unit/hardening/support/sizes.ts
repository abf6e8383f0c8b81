/**
 * How big the hardening runs are. The regular suite (`vitest run --project unit`) runs a reduced
 * size that finishes in well under a minute; `npm run test:stress` sets TABCAST_STRESS=1 for the
 * full size. Single knobs can be overridden, e.g. TABCAST_SOAK_MS=60000.
 */
import { appendFileSync } from 'node:fs';

/** True for the full-size run of scripts/stress.mjs. */
export const STRESS = process.env.TABCAST_STRESS === '1';

function knob(name: string, reduced: number, full: number): number {
  const raw = process.env[name];
  if (raw !== undefined && /^\d+$/.test(raw)) return Number(raw);
  return STRESS ? full : reduced;
}

/** Runs per fast-check property: multiplied per property by its own weight. */
export const RUNS = knob('TABCAST_STRESS_RUNS', 60, 2000);
/** Subscribers of the load test. */
export const LOAD_SUBSCRIBERS = knob('TABCAST_LOAD_SUBSCRIBERS', 10, 50);
/** Events of the load test. */
export const LOAD_EVENTS = knob('TABCAST_LOAD_EVENTS', 300, 10_000);
/** Length of the soak in ms. */
export const SOAK_MS = knob('TABCAST_SOAK_MS', 3000, 600_000);
/** Subscribers alive at once during the soak. */
export const SOAK_SUBSCRIBERS = knob('TABCAST_SOAK_SUBSCRIBERS', 8, 50);
/** Context changes posted during the SIGKILL burst. */
export const KILL_BURST = knob('TABCAST_KILL_BURST', 150, 2000);
/** Kill-and-restart rounds. */
export const KILL_ROUNDS = knob('TABCAST_KILL_ROUNDS', 1, 4);

/** A fixed seed when TABCAST_SEED is set (to replay a failure), else fast-check picks one and prints it on failure. */
export const SEED = process.env.TABCAST_SEED === undefined ? undefined : Number(process.env.TABCAST_SEED);

/** fast-check parameters for a property of relative weight `weight` (1 = the default count). */
export function runs(weight = 1): { numRuns: number; seed?: number } {
  const numRuns = Math.max(5, Math.round(RUNS * weight));
  return SEED === undefined ? { numRuns } : { numRuns, seed: SEED };
}

/**
 * Records what a test tried and saw, for docs/reliability.md. Written only when the stress
 * script asks for it (TABCAST_STATS_FILE), one JSON line per record.
 */
export function recordStats(area: string, what: string, figures: Record<string, number | string>): void {
  const file = process.env.TABCAST_STATS_FILE;
  if (!file) return;
  appendFileSync(file, `${JSON.stringify({ area, what, ...figures })}\n`);
}

/** Test timeout for a test expected to take about `ms` at the current size. */
export function budget(ms: number): number {
  return Math.max(60_000, Math.round(ms * 3)); // a floor for a shared 2-core machine busy with other runs
}
