/**
 * 4. Limiter exactness: an open-loop load at 5× the stage limit through a real gateway, the
 * admitted count compared with the token-bucket model fed the actual send times; and the cost of
 * one throttle decision in-process.
 */
import type { GatewayConfig } from '../src/config/schema.js';
import { runOpenLoop } from '../src/loadgen/open-loop.js';
import { GatewayThrottle } from '../src/gateway/throttle.js';
import { admitAll, TokenBucket } from '../src/gateway/token-bucket.js';
import { predictAdmissions } from '../src/gateway/token-bucket-model.js';
import { passThroughSpec } from './gateway-overhead.js';
import { round } from './stats.js';
import { startGateway, startService } from './workloads.js';

export interface LimiterExactness {
  limit: { rate: number; burst: number };
  offeredRps: number;
  durationS: number;
  sent: number;
  /** Actual offered rate: sent requests / span of send times. */
  achievedOfferedRps: number;
  admitted: number;
  throttled: number;
  otherStatus: number;
  modelAdmitted: number;
  /** (admitted - model) / model. */
  relativeError: number;
  /** What a perfect limiter would admit over the span: burst + rate × span. */
  idealAdmitted: number;
  /** Admitted per whole second of send time, by the gateway and by the model. */
  perSecond: { second: number; admitted: number; model: number }[];
  /** The largest |admitted - model| over those seconds. */
  maxPerSecondDeviation: number;
}

export interface ThrottleCost {
  iterations: number;
  emptyCallNs: number;
  admitAllNs: number;
  gatewayThrottleAdmitNs: number;
  /** admitAll minus the empty call: the decision itself. */
  decisionNetNs: number;
}

export async function measureLimiterExactness(base: GatewayConfig, dir: string, opts: { rate: number; burst: number; factor: number; seconds: number }): Promise<LimiterExactness> {
  const app = await startService('products', dir);
  try {
    const gw = await startGateway(passThroughSpec(base, app.port, { rate: opts.rate, burst: opts.burst }), dir, 'gateway-limiter');
    try {
      const offered = opts.rate * opts.factor;
      const result = await runOpenLoop({
        baseUrl: `http://127.0.0.1:${gw.port}/${base.stage}`,
        rate: offered,
        count: offered * opts.seconds,
        maxDurationMs: opts.seconds * 1000 + 1000,
        maxInFlight: 256,
        request: () => ({ method: 'GET', path: '/products/p-100' }),
      });
      // The warm-up-free run starts with a full bucket, as the model does; nothing was sent before.
      const sent = result.samples.filter((s) => s.sentMs >= 0);
      const levels = [{ id: 'stage', rate: opts.rate, burst: opts.burst }];
      const model = predictAdmissions(sent.map((s) => ({ tMs: s.sentMs, levels })));
      const admitted = sent.filter((s) => s.status === 200).length;
      const throttled = sent.filter((s) => s.status === 429).length;
      const perSecond = admittedPerSecond(sent.map((s, i) => ({ second: s.second, admitted: s.status === 200, model: model.admitted[i] })));
      const spanMs = sent.length > 1 ? sent[sent.length - 1].sentMs - sent[0].sentMs : 0;
      return {
        limit: { rate: opts.rate, burst: opts.burst },
        offeredRps: offered,
        durationS: opts.seconds,
        sent: sent.length,
        achievedOfferedRps: spanMs > 0 ? round(((sent.length - 1) * 1000) / spanMs, 1) : NaN,
        admitted,
        throttled,
        otherStatus: sent.length - admitted - throttled,
        modelAdmitted: model.admittedCount,
        relativeError: model.admittedCount > 0 ? round((admitted - model.admittedCount) / model.admittedCount, 4) : NaN,
        idealAdmitted: Math.floor(opts.burst + (opts.rate * spanMs) / 1000),
        perSecond,
        maxPerSecondDeviation: Math.max(0, ...perSecond.map((p) => Math.abs(p.admitted - p.model))),
      };
    } finally {
      await gw.proc.stop();
    }
  } finally {
    await app.proc.stop();
  }
}

/** Groups verdicts by second: how many the gateway and the model admitted in each. */
export function admittedPerSecond(verdicts: readonly { second: number; admitted: boolean; model: boolean }[]): { second: number; admitted: number; model: number }[] {
  const bySecond = new Map<number, { second: number; admitted: number; model: number }>();
  for (const v of verdicts) {
    const row = bySecond.get(v.second) ?? { second: v.second, admitted: 0, model: 0 };
    if (v.admitted) row.admitted++;
    if (v.model) row.model++;
    bySecond.set(v.second, row);
  }
  return [...bySecond.values()].sort((a, b) => a.second - b.second);
}

function empty(_buckets: readonly TokenBucket[], nowMs: number): number {
  return nowMs > 0 ? -1 : 0;
}

/** ns per call of `fn` over `iterations` calls with a clock advancing 0.001 ms a call; best of `rounds`. */
function nsPerCall(iterations: number, rounds: number, fn: (i: number, nowMs: number) => number): number {
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink += fn(i, i * 0.001);
    const ns = Number(process.hrtime.bigint() - t0) / iterations;
    best = Math.min(best, ns);
  }
  // Using the sink keeps the loop from being optimised away.
  if (sink === Number.MIN_VALUE) best = -best;
  return round(best, 1);
}

export function measureThrottleCost(base: GatewayConfig, iterations = 2_000_000, rounds = 5): ThrottleCost {
  const buckets = [new TokenBucket(200, 20)];
  const throttle = new GatewayThrottle({ ...base, throttle: { rate: 200, burst: 20 } }, []);
  const emptyCallNs = nsPerCall(iterations, rounds, (_i, now) => empty(buckets, now));
  const admitAllNs = nsPerCall(iterations, rounds, (_i, now) => admitAll(buckets, now));
  const gatewayThrottleAdmitNs = nsPerCall(iterations, rounds, (_i, now) => (throttle.admit('GET', '/products', undefined, now, 1_700_000_000_000 + now) === 'admitted' ? 1 : 0));
  return { iterations, emptyCallNs, admitAllNs, gatewayThrottleAdmitNs, decisionNetNs: round(admitAllNs - emptyCallNs, 1) };
}
