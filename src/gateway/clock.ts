/**
 * Time as the gateway sees it: a monotonic clock for token buckets and latencies, and the wall
 * clock for quota periods and log timestamps. Injected so tests can drive both.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale (performance.now()). */
  nowMs(): number;
  /** Milliseconds since the Unix epoch (Date.now()). */
  epochMs(): number;
  /**
   * When the request being handled arrived, on the nowMs() scale: the moment the event loop
   * picked up the I/O it came with. Clocks without a notion of loop turns return nowMs().
   */
  arrivalMs?(): number;
}

/**
 * The time the current event-loop turn picked up its I/O, as nginx's limit_req reads
 * ngx_current_msec: one reading per turn, cached until the turn's check phase. Requests that
 * were waiting in the kernel together are then stamped together, however long the turn spends
 * parsing and deciding them one after another (or the process waits for a CPU meanwhile). With
 * a fresh reading per request, a 40-request burst parsed over 20 ms on a busy two-core machine
 * found two tokens refilled at 100 rps (issue 13).
 */
function turnClock(now: () => number): () => number {
  let cached: number | undefined;
  const forget = () => {
    cached = undefined;
  };
  return () => {
    if (cached === undefined) {
      cached = now();
      // The check phase ends the turn that read the I/O. A reading taken in a check phase itself
      // (rare: a callback deferred by setImmediate) would survive into the next turn, so a timer
      // drops it too, at the latest one millisecond into the next turn, before its poll can idle.
      setImmediate(forget);
      setTimeout(forget, 0).unref();
    }
    return cached;
  };
}

const nowMs = () => performance.now();

export const systemClock: Clock = {
  nowMs,
  epochMs: () => Date.now(),
  arrivalMs: turnClock(nowMs),
};
