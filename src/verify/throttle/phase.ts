import type { GatewayConfig } from '../../config/schema.js';
import { throttleLevelsFor, type ThrottleLevel } from '../../gateway/throttle-levels.js';
import { predictAdmissions, type ModelArrival } from '../../gateway/token-bucket-model.js';
import { runOpenLoop, type LoadResult } from '../../loadgen/open-loop.js';
import { perSecond, summarize, type LoadSummary, type SecondBucket } from '../../loadgen/summary.js';
import type { ApiKeyRecord } from '../../gateway/spec.js';

/** One client stream of a phase: a key driving POST /orders at a rate. */
export interface PhaseStream {
  label: string;
  key: ApiKeyRecord;
  /** Requests per second; Infinity sends them all at once. */
  rate: number;
  count: number;
}

export interface StreamOutcome extends LoadSummary {
  label: string;
  /** The token-bucket model fed the send times. */
  predicted: number;
  perSecond: SecondBucket[];
  /** The limit that binds this stream: the smallest rate among its levels. */
  limit: { rate: number; burst: number };
  skippedForInFlightBound: number;
}

export interface PhaseRun {
  token: string;
  productId: string;
  baseUrl: string;
  gateway: GatewayConfig;
  /** A path outside every route, answered by the gateway without touching a bucket. */
  warmupPath: string;
}

const ORDERS_PATH = '/orders';

/** The levels a POST /orders with this key is subject to. */
export function orderLevels(gateway: GatewayConfig, key: ApiKeyRecord): ThrottleLevel[] {
  return throttleLevelsFor(gateway, { method: 'POST', path: ORDERS_PATH, keyId: key.id, plan: key.plan });
}

/** The effective limit of a set of levels: the lowest rate and the lowest burst. */
export function bindingLimit(levels: readonly ThrottleLevel[]): { rate: number; burst: number } {
  return { rate: Math.min(...levels.map((l) => l.rate)), burst: Math.min(...levels.map((l) => l.burst)) };
}

/** How long until every bucket these levels use is full again (plus a margin for clock differences). */
export function refillWaitMs(levels: readonly ThrottleLevel[]): number {
  return Math.ceil(Math.max(...levels.map((l) => (l.burst / l.rate) * 1000))) + 250;
}

/**
 * Runs the streams side by side and predicts each one's admissions by feeding every actual send
 * time, on one time line, to the multi-level model (shared levels such as the method and account buckets
 * couple the streams).
 */
export async function runPhase(run: PhaseRun, streams: readonly PhaseStream[]): Promise<StreamOutcome[]> {
  const body = JSON.stringify({ productId: run.productId, quantity: 1 });
  const results: LoadResult[] = await Promise.all(
    streams.map((s) => {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${run.token}`, 'x-api-key': s.key.value };
      const finite = Number.isFinite(s.rate);
      return runOpenLoop({
        baseUrl: run.baseUrl,
        rate: s.rate,
        count: s.count,
        maxInFlight: finite ? Math.max(128, Math.ceil(2 * s.rate)) : s.count,
        maxDurationMs: finite ? (s.count / s.rate) * 1000 + 5_000 : 5_000,
        warmup: { path: run.warmupPath, connections: finite ? Math.min(16, s.count) : s.count },
        request: () => ({ method: 'POST', path: ORDERS_PATH, headers, body }),
      });
    }),
  );
  // The plain bucket over the arrival times: the gateway stamps each request with the moment its
  // event loop picked it up (see gateway/clock.ts), which is the send time plus the network.
  const arrivals: ModelArrival[] = [];
  const owner: number[] = [];
  results.forEach((r, i) => {
    const levels = orderLevels(run.gateway, streams[i].key);
    for (const s of r.samples) {
      if (s.sentMs < 0) continue;
      arrivals.push({ tMs: r.startMs + s.sentMs, levels });
      owner.push(i);
    }
  });
  const { admitted } = predictAdmissions(arrivals);
  const count = (i: number) => admitted.filter((ok, j) => ok && owner[j] === i).length;
  return streams.map((s, i) => ({
    label: s.label,
    ...summarize(results[i].samples),
    predicted: count(i),
    perSecond: perSecond(results[i].samples),
    limit: bindingLimit(orderLevels(run.gateway, s.key)),
    skippedForInFlightBound: results[i].skippedForInFlightBound,
  }));
}
