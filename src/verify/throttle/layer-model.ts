/**
 * Which layer the token-bucket model says refuses (or nearly refuses) each request: the
 * expectation a 429's logged layer is checked against. The same GCRA as gateway/token-bucket-model.ts
 * (a bucket (rate r, burst b) admits at t when TAT - t <= (b - 1) / r; admitting moves TAT to
 * max(TAT, t) + 1 / r; a refused request changes no level), kept apart because that model answers
 * only admitted-or-not and this one must also name the level; a unit test holds the two to the same
 * admissions.
 */
import type { ThrottleLayer } from '../../metrics/contract.js';
import { throttleLayerOf } from '../../gateway/throttle-levels.js';
import type { ModelArrival } from '../../gateway/token-bucket-model.js';

/** A bucket's layer: every one but the quota, which is a counter, not a bucket. */
export type BucketLayer = Exclude<ThrottleLayer, 'quota'>;

export interface LayerPrediction {
  admitted: boolean;
  /**
   * Refused: the first level without room in API Gateway's order (usage plan, method, account), as
   * the gateway reports it. Admitted: the level with the fewest tokens left, the one that would
   * refuse a request sent a moment earlier (ties go to the earlier level, as in the gateway).
   */
  layer: BucketLayer;
}

// As in the gateway's model: an arrival exactly on a refill boundary is admitted.
const EPSILON_MS = 1e-6;

/** The model's verdict and binding layer for every arrival, every bucket starting full. */
export function predictLayers(arrivals: readonly ModelArrival[]): LayerPrediction[] {
  const tat = new Map<string, number>();
  const out: LayerPrediction[] = new Array(arrivals.length);
  const order = arrivals.map((_, i) => i).sort((a, b) => arrivals[a].tMs - arrivals[b].tMs || a - b);
  for (const i of order) {
    const { tMs, levels } = arrivals[i];
    let refusedBy: string | undefined;
    let tightest: string | undefined;
    let fewest = Infinity;
    for (const level of levels) {
      const interval = 1000 / level.rate;
      const backlog = Math.max(0, (tat.get(level.id) ?? -Infinity) - tMs);
      if (refusedBy === undefined && backlog > (level.burst - 1) * interval + EPSILON_MS) refusedBy = level.id;
      // Tokens left after this request, were it admitted: the tightest level binds.
      const left = level.burst - 1 - backlog / interval;
      if (left < fewest - 1e-9) {
        fewest = left;
        tightest = level.id;
      }
    }
    if (refusedBy !== undefined) {
      out[i] = { admitted: false, layer: throttleLayerOf(refusedBy) };
      continue;
    }
    out[i] = { admitted: true, layer: throttleLayerOf(tightest!) };
    for (const level of levels) tat.set(level.id, Math.max(tat.get(level.id) ?? -Infinity, tMs) + 1000 / level.rate);
  }
  return out;
}
