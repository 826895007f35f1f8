/**
 * Prometheus' rate()/increase() on float counters, as promql/functions.go `extrapolatedRate` computes
 * them (the branch without start timestamps, which is what a scrape of Envoy/Istio text gives):
 * the counter's rise over the samples inside the left-open window (at − range, at], corrected for
 * resets, then extrapolated towards the window's edges — all the way when the first/last sample is
 * within 1.1 × the average sample spacing of the edge, else by half a spacing, and never to before
 * the counter's extrapolated zero. Fewer than two samples: no result.
 */

export interface Point {
  /** Epoch milliseconds. */
  t: number;
  v: number;
}

/**
 * rate (per second) or increase over `points` (sorted by time, already restricted to the window
 * (rangeStart, rangeEnd]); undefined when Prometheus returns no sample.
 */
export function extrapolatedRate(points: Point[], rangeStart: number, rangeEnd: number, isRate: boolean): number | undefined {
  if (points.length < 2) return undefined;
  const first = points[0];
  const last = points[points.length - 1];
  let result = last.v - first.v;
  // A drop means the counter restarted from zero: the value before the drop was all gained.
  for (let i = 1; i < points.length; i++) {
    if (points[i].v < points[i - 1].v) result += points[i - 1].v;
  }

  let durationToStart = (first.t - rangeStart) / 1000;
  let durationToEnd = (rangeEnd - last.t) / 1000;
  const sampledInterval = (last.t - first.t) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (points.length - 1);
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;

  if (durationToStart >= extrapolationThreshold) durationToStart = averageDurationBetweenSamples / 2;
  // Counters cannot be negative: do not extrapolate to before the counter's zero point.
  if (result > 0 && first.v >= 0) {
    const durationToZero = sampledInterval * (first.v / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= extrapolationThreshold) durationToEnd = averageDurationBetweenSamples / 2;

  let factor = sampledInterval !== 0 ? (sampledInterval + durationToStart + durationToEnd) / sampledInterval : 1;
  if (isRate) factor /= (rangeEnd - rangeStart) / 1000;
  return result * factor;
}
