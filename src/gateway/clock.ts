/**
 * Time as the gateway sees it: a monotonic clock for token buckets and latencies, and the wall
 * clock for quota periods and log timestamps. Injected so tests can drive both.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale (performance.now()). */
  nowMs(): number;
  /** Milliseconds since the Unix epoch (Date.now()). */
  epochMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => performance.now(),
  epochMs: () => Date.now(),
};
