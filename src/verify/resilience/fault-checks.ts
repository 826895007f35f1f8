/**
 * Faults injected with the sidecar's own switch (POST /fault on its admin endpoint, applied on its
 * inbound listener like Istio's HTTPFaultInjection): a slow replica and a failing one.
 */
import type { Check, CheckResult } from '../checks.js';
import type { Fault } from './admin-client.js';
import type { ResilienceContext, ResilienceOptions } from './context.js';
import { counterDelta, describeCounters, endpointRequests, resilienceCounters, type Stats } from './counters.js';
import { describeAnswers, runOrderLoad, type OrderLoadOutcome } from './order-load.js';
import type { Replica } from './replicas.js';
import { backendsUnderTest, meshStats, orderLoadFor, policyOf, shopper, victim, type Phases } from './setup.js';

interface FaultRun {
  target: Replica;
  all: Replica[];
  load: OrderLoadOutcome;
  before: Stats;
  /** Read while the fault was still on (gauges such as ejections_active). */
  during: Stats;
}

/** Runs the order load with `fault` on one replica of `service`; the fault is cleared whatever happens. */
async function underFault(ctx: ResilienceContext, opts: ResilienceOptions, p: Phases, service: string, fault: Fault): Promise<FaultRun> {
  const s = await shopper(ctx, opts);
  const { victim: target, all } = await victim(ctx, service);
  const before = await meshStats(ctx);
  await ctx.admin.setFault(target.adminUrl, fault);
  try {
    const load = await runOrderLoad(orderLoadFor(ctx, s, p.faultSeconds, policyOf(ctx, service).timeoutMs + 5_000));
    return { target, all, load, before, during: await meshStats(ctx) };
  } finally {
    await ctx.admin.clearFault(target.adminUrl);
  }
}

/** The backend whose replicas an order calls last (products); the first for the other check (users). */
function pick(ctx: ResilienceContext, which: 'first' | 'last'): string {
  const b = backendsUnderTest(ctx);
  return which === 'first' ? b[0] : b[b.length - 1];
}

export function latencyCheck(opts: ResilienceOptions, p: Phases): Check<ResilienceContext> {
  return {
    id: 'resilience.latency',
    title: 'sends less traffic to a slow replica and keeps p99 within the timeout',
    timeoutMs: p.faultSeconds * 1000 + 60_000,
    run: async (ctx): Promise<CheckResult> => {
      const service = pick(ctx, 'last');
      const policy = policyOf(ctx, service);
      // Slow, not failing: well under the per-try timeout, so only the balancer can route around it.
      const delayMs = Math.max(50, Math.min(300, Math.floor(policy.retries.perTryTimeoutMs / 4)));
      const r = await underFault(ctx, opts, p, service, { delayMs, delayPercent: 100 });
      const origins = r.all.map((x) => x.inboundUrl);
      const before = endpointRequests(r.before, service, origins);
      const after = endpointRequests(r.during, service, origins);
      const got = Object.fromEntries(origins.map((o) => [o, after[o] - before[o]]));
      const total = Object.values(got).reduce((a, b) => a + b, 0);
      const share = total > 0 ? got[r.target.inboundUrl] / total : NaN;
      const fair = 1 / origins.length;
      // "Falls": clearly below an even split (a quarter less), not merely a hair under it.
      const shareFell = total > 0 && share <= fair * 0.75;
      const withinTimeout = r.load.p99Ms < policy.timeoutMs;
      const pct = (x: number) => `${Math.round(x * 100)} %`;
      return {
        ok: r.load.failed === 0 && shareFell && withinTimeout,
        detail: `${r.target.name} delayed ${delayMs} ms: it got ${total > 0 ? pct(share) : 'no counted'} of ${total} ${service} calls (even split ${pct(fair)}); ${r.load.offered} orders: ${describeAnswers(r.load)}, p99 ${r.load.p99Ms} ms (timeout ${policy.timeoutMs} ms)`,
        hint:
          total === 0
            ? `The sidecars report no cluster.${service}.endpoint.<origin>.rq_total counters: rebuild meshgw and restart the stack.`
            : !shareFell
              ? 'The callers keep sending an even share to the slow replica: their balancer must prefer the replica with fewer requests in flight (least-request).'
              : `Orders failed or were slower than services.${service}.trafficPolicy.timeoutMs allows.`,
        data: { replica: r.target.name, delayMs, requestsByReplica: got, share: total > 0 ? share : null, answers: { offered: r.load.offered, created201: r.load.created201, failures: r.load.failures, p99Ms: r.load.p99Ms }, perSecond: r.load.perSecond },
      };
    },
  };
}

export function errorCheck(opts: ResilienceOptions, p: Phases): Check<ResilienceContext> {
  return {
    id: 'resilience.errors',
    title: 'ejects a replica that answers 503, and clients still get 201',
    timeoutMs: p.faultSeconds * 1000 + 60_000,
    run: async (ctx): Promise<CheckResult> => {
      const service = pick(ctx, 'first');
      const r = await underFault(ctx, opts, p, service, { abortStatus: 503, abortPercent: 100 });
      const before = resilienceCounters(r.before, service);
      const during = resilienceCounters(r.during, service);
      const delta = counterDelta(before, during);
      const active = during[`cluster.${service}.outlier_detection.ejections_active`];
      const enforced = delta[`cluster.${service}.outlier_detection.ejections_enforced_total`];
      const ejected = active >= 1 && enforced >= 1;
      return {
        ok: r.load.failed === 0 && ejected,
        detail: `${r.target.name} answering 503 to every request: ${describeCounters(delta)}; ${r.load.offered} orders: ${describeAnswers(r.load)}, p99 ${r.load.p99Ms} ms`,
        hint: !ejected
          ? `No ejection was counted (cluster.${service}.outlier_detection.ejections_active ${active}): the callers must eject a replica after services.${service}.trafficPolicy.outlierDetection.consecutiveErrors 5xx answers.`
          : 'Orders failed although the failing replica was ejected: the calls that met it before the ejection must be retried on another replica.',
        data: { replica: r.target.name, counters: { before, during }, answers: { offered: r.load.offered, created201: r.load.created201, failures: r.load.failures, p99Ms: r.load.p99Ms }, perSecond: r.load.perSecond },
      };
    },
  };
}
