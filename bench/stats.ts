/** Pure number crunching for the benchmark: percentiles, summaries and ratios. */

/** The p-th percentile (0..100) of values already sorted ascending, nearest-rank; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export interface LatencySummary {
  /** Requests answered 2xx/3xx (anything else is counted in errors). */
  count: number;
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Answered requests per second over the measured window. */
  rps: number;
}

export function summarize(latenciesMs: readonly number[], errors: number, durationMs: number): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    errors,
    p50Ms: round(percentile(sorted, 50), 3),
    p90Ms: round(percentile(sorted, 90), 3),
    p99Ms: round(percentile(sorted, 99), 3),
    rps: durationMs > 0 ? round((sorted.length * 1000) / durationMs, 1) : NaN,
  };
}

/** value / baseline, to two decimals; NaN when the baseline is 0 or missing. */
export function ratio(value: number, baseline: number): number {
  if (!Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return NaN;
  return round(value / baseline, 2);
}

export function round(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A "2.10×" label for a ratio, "n/a" when it is not a number. */
export function times(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a';
}
