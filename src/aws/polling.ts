/** How long-running AWS waits poll; tests set the interval to 0. */
export interface PollTiming {
  pollIntervalMs: number;
  /** Give up watching (not the operation) after this long. */
  timeoutMs: number;
  /** Upper bound on polls whatever the clock says. */
  maxPolls: number;
  now: () => number;
}

export const DEFAULT_TIMING: PollTiming = {
  pollIntervalMs: 5_000,
  // An EKS cluster alone takes 10-15 minutes; the whole first create about 25.
  timeoutMs: 60 * 60_000,
  maxPolls: 10_000,
  now: Date.now,
};

/** Waits ms, or less if the signal aborts (Ctrl-C); never rejects. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
