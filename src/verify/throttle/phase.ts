import type { GatewayConfig } from '../../config/schema.js';
import { throttleLevelsFor, type ThrottleLevel } from '../../gateway/throttle-levels.js';
import { predictAdmissions, type ModelArrival } from '../../gateway/token-bucket-model.js';
import { runOpenLoop, type LoadResult } from '../../loadgen/open-loop.js';
import { perSecond, summarize, type LoadSummary, type SecondBucket } from '../../loadgen/summary.js';
import type { ApiKeyRecord } from '../../gateway/spec.js';
import type { SentRequest } from './attribution.js';
import { predictLayers, type BucketLayer } from './layer-model.js';

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
  /** Every request sent, for the layer attribution (not part of the check's data: one entry per request). */
  sent: SentRequest[];
  /** Where the model expects this stream's refusals, per second of the wall clock: what the AWS access-log check infers THROTTLED lines from. */
  expectedLayers: ExpectedRefusals[];
}

/** The model's refusals of one key in one wall-clock second, by layer. */
export interface ExpectedRefusals {
  keyId: string;
  epochSecond: number;
  layer: BucketLayer;
  count: number;
}

/** The answer header both API Gateway and the local gateway carry the access log's requestId in. */
export const REQUEST_ID_HEADER = 'x-amzn-requestid';

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
        captureHeader: REQUEST_ID_HEADER,
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
  const layers = predictLayers(arrivals);
  const count = (i: number) => admitted.filter((ok, j) => ok && owner[j] === i).length;
  // performance.now() and the wall clock, tied once: AWS log lines carry epoch milliseconds.
  const epochOfMonotonic = Date.now() - performance.now();
  const sent: SentRequest[][] = streams.map(() => []);
  const expected = streams.map(() => new Map<string, ExpectedRefusals>());
  let j = 0;
  results.forEach((r, i) => {
    const key = streams[i].key;
    const quotaPossible = run.gateway.usagePlans.some((p) => p.name === key.plan && p.quota !== undefined);
    for (const smp of r.samples) {
      if (smp.sentMs < 0) continue;
      const predicted = layers[j++];
      sent[i].push({ key: key.name, second: smp.second, status: smp.status, requestId: smp.captured, expected: predicted.layer, quotaPossible });
      if (predicted.admitted) continue;
      const epochSecond = Math.floor((epochOfMonotonic + r.startMs + smp.sentMs) / 1000);
      const id = `${epochSecond}/${predicted.layer}`;
      const e = expected[i].get(id) ?? { keyId: key.id, epochSecond, layer: predicted.layer, count: 0 };
      e.count++;
      expected[i].set(id, e);
    }
  });
  return streams.map((s, i) => ({
    label: s.label,
    ...summarize(results[i].samples),
    predicted: count(i),
    perSecond: perSecond(results[i].samples),
    limit: bindingLimit(orderLevels(run.gateway, s.key)),
    skippedForInFlightBound: results[i].skippedForInFlightBound,
    sent: sent[i],
    expectedLayers: [...expected[i].values()],
  }));
}
