import type { ThrottleLevel } from './throttle-levels.js';

/** One request as the model sees it: when it arrived and which limits apply to it. */
export interface ModelArrival {
  /** Milliseconds on any monotonic scale. */
  tMs: number;
  levels: readonly ThrottleLevel[];
}

export interface ModelPrediction {
  admitted: boolean[];
  admittedCount: number;
}

// Floating-point slack so that an arrival exactly on a refill boundary is admitted, as the
// token count reaching exactly 1.0 is in the runtime bucket.
const EPSILON_MS = 1e-6;

/**
 * Predicts which requests a multi-level token bucket admits, every bucket starting full.
 *
 * Written as GCRA (the virtual-scheduling form of the same bucket, ITU-T I.371) rather than by
 * counting tokens, so that it is an independent statement of the semantics the gateway's
 * TokenBucket implements: a bucket (rate r, burst b) admits at t when TAT - t <= (b - 1) / r,
 * and admitting moves TAT to max(TAT, t) + 1 / r. A request is admitted only if every level
 * admits it; a rejected request changes no level.
 */
export function predictAdmissions(arrivals: readonly ModelArrival[]): ModelPrediction {
  const tat = new Map<string, number>();
  const admitted: boolean[] = new Array(arrivals.length);
  let admittedCount = 0;
  const order = arrivals.map((_, i) => i).sort((a, b) => arrivals[a].tMs - arrivals[b].tMs || a - b);
  for (const i of order) {
    const { tMs, levels } = arrivals[i];
    let conforms = true;
    for (const level of levels) {
      const interval = 1000 / level.rate;
      const current = tat.get(level.id) ?? -Infinity;
      if (current - tMs > (level.burst - 1) * interval + EPSILON_MS) {
        conforms = false;
        break;
      }
    }
    admitted[i] = conforms;
    if (!conforms) continue;
    admittedCount++;
    for (const level of levels) {
      const current = tat.get(level.id) ?? -Infinity;
      tat.set(level.id, Math.max(current, tMs) + 1000 / level.rate);
    }
  }
  return { admitted, admittedCount };
}
