// Order statistics for the benchmark: percentiles of samples, and min/median/max across runs.

/** The q-quantile (0..1) of numbers, by linear interpolation between closest ranks. */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** Median, p95, p99, min, max and count of latency samples (ms). */
export function summarize(samples) {
  if (!samples?.length) return undefined;
  return {
    n: samples.length,
    median: quantile(samples, 0.5),
    p95: quantile(samples, 0.95),
    p99: quantile(samples, 0.99),
    min: Math.min(...samples),
    max: Math.max(...samples),
  };
}

/** min / median / max of one figure across runs. */
export function spread(values) {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { min: NaN, median: NaN, max: NaN, runs: 0 };
  return { min: Math.min(...v), median: quantile(v, 0.5), max: Math.max(...v), runs: v.length };
}

/** `a / b`, or NaN when either is missing. */
export function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN;
}
