/** How hard and how long `verify throttle` drives the gateway. */
export interface ThrottleOptions {
  normalRps: number;
  normalSeconds: number;
  /** Requests sent at once in the burst phase; default 2 × the effective burst. */
  burstCount?: number;
  overRps: number;
  overSeconds: number;
  isolationSeconds: number;
  /** Allowed deviation from the model as a fraction of offered requests (at least 2 requests). */
  tolerance: number;
  /** Short phases (a few seconds each). */
  quick: boolean;
  /** Waiting for buckets to refill between phases; tests may inject one. */
  sleep?: (ms: number) => Promise<void>;
}

// The assignment's figures: 50 RPS normal, 150 RPS for 15 s over the limit.
export const DEFAULT_THROTTLE_OPTIONS: ThrottleOptions = {
  normalRps: 50,
  normalSeconds: 10,
  overRps: 150,
  overSeconds: 15,
  isolationSeconds: 10,
  tolerance: 0.02,
  quick: false,
};

const QUICK_SECONDS = { normalSeconds: 3, overSeconds: 4, isolationSeconds: 3 };

/** Fills defaults; --quick shortens the phases unless their lengths were given explicitly. */
export function resolveThrottleOptions(partial: Partial<ThrottleOptions> = {}): ThrottleOptions {
  const merged = { ...DEFAULT_THROTTLE_OPTIONS, ...stripUndefined(partial) };
  if (merged.quick) {
    for (const k of Object.keys(QUICK_SECONDS) as (keyof typeof QUICK_SECONDS)[]) if (partial[k] === undefined) merged[k] = QUICK_SECONDS[k];
  }
  return merged;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Allowed |admitted − predicted|: max(2, tolerance × offered). */
export function allowedDeviation(offered: number, tolerance: number): number {
  return Math.max(2, Math.ceil(tolerance * offered));
}
