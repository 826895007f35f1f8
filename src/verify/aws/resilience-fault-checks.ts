/**
 * A slow replica and a failing replica on EKS, each made with Envoy's fault filter in that one pod's inbound
 * chain (pod-faults.ts). What is measured: per replica, the requests the callers' sidecars sent to it (the
 * host rq_total of `GET clusters`) and whether they hold it ejected (its health_flags); per service, the
 * outbound cluster's resilience counters (`GET stats`); per order, the client's own answers and latencies.
 */
import type { Check, CheckResult } from '../checks.js';
import { counterDelta, describeCounters } from '../resilience/counters.js';
import { describeAnswers, type OrderLoadOutcome } from '../resilience/order-load.js';
import type { Phases } from '../resilience/setup.js';
import { withPodFault, type PodFault } from './pod-faults.js';
import type { AwsResilienceContext, PodInfo } from './resilience-context.js';
import { backendsUnderTest, countersOf, loadInput, namespaceOf, policyOf, readCallers, victimPod, waitFaultInForce, type AwsShopper } from './resilience-setup.js';
import { ejectedBy, outboundCluster, requestsByIp } from './resilience-stats.js';

interface FaultRun {
  target: PodInfo;
  all: PodInfo[];
  load: OrderLoadOutcome;
  before: { counters: Record<string, number>; clusters: string[] };
  /** Read while the fault was still on (ejections are gauges and health flags). */
  during: { counters: Record<string, number>; present: boolean; clusters: string[] };
  cleanupProblems: string[];
}

async function underFault(ctx: AwsResilienceContext, s: AwsShopper, p: Phases, service: string, fault: PodFault): Promise<FaultRun> {
  const { victim: target, all } = await victimPod(ctx, service);
  const before = { counters: (await countersOf(ctx, service)).counters, clusters: await readCallers(ctx, service, 'clusters') };
  const { result, cleanupProblems } = await withPodFault(
    ctx.cluster,
    { namespace: namespaceOf(ctx), pods: [target.name], runId: ctx.runId },
    fault,
    async () => {
      await waitFaultInForce(ctx, [target.name]);
      const load = await ctx.load(loadInput(s, ctx.endpoint.baseUrl, p.faultSeconds, policyOf(ctx, service).timeoutMs + 5_000));
      const during = await countersOf(ctx, service);
      return { load, during: { ...during, clusters: await readCallers(ctx, service, 'clusters') } };
    },
    ctx.signal,
  );
  return { target, all, before, ...result, cleanupProblems };
}

const pct = (x: number) => `${Math.round(x * 100)} %`;
const answers = (l: OrderLoadOutcome) => ({ offered: l.offered, created201: l.created201, failures: l.failures, p99Ms: l.p99Ms });
const cleanupNote = (r: FaultRun) => (r.cleanupProblems.length ? `; CLEANUP FAILED: ${r.cleanupProblems.join('; ')}` : '');

export function awsLatencyCheck(shopper: (ctx: AwsResilienceContext) => Promise<AwsShopper>, p: Phases): Check<AwsResilienceContext> {
  return {
    id: 'resilience.latency',
    title: 'sends less traffic to a slow pod and keeps p99 within the timeout',
    timeoutMs: p.faultSeconds * 1000 + 120_000,
    run: async (ctx): Promise<CheckResult> => {
      const service = backendsUnderTest(ctx).at(-1)!;
      const policy = policyOf(ctx, service);
      // Slow, not failing: well under the per-try timeout, so only LEAST_REQUEST balancing can route around it.
      const delayMs = Math.max(50, Math.min(300, Math.floor(policy.retries.perTryTimeoutMs / 4)));
      const s = await shopper(ctx);
      const r = await underFault(ctx, s, p, service, { delayMs, percent: 100 });
      const cluster = outboundCluster(service, namespaceOf(ctx));
      const before = requestsByIp(r.before.clusters, cluster);
      const after = requestsByIp(r.during.clusters, cluster);
      const got = Object.fromEntries(r.all.map((pod) => [pod.name, (after[pod.ip] ?? 0) - (before[pod.ip] ?? 0)]));
      const total = Object.values(got).reduce((a, b) => a + b, 0);
      const share = total > 0 ? got[r.target.name] / total : NaN;
      const fair = 1 / r.all.length;
      const shareFell = total > 0 && share <= fair * 0.75;
      const withinTimeout = r.load.p99Ms < policy.timeoutMs;
      return {
        ok: r.load.failed === 0 && shareFell && withinTimeout && r.cleanupProblems.length === 0,
        detail: `${r.target.name} delayed ${delayMs} ms (EnvoyFilter fault in its inbound chain): it got ${total > 0 ? pct(share) : 'no counted'} of ${total} ${service} calls (even split ${pct(fair)}, from the callers' per-host rq_total); ${r.load.offered} orders: ${describeAnswers(r.load)}, p99 ${r.load.p99Ms} ms (timeout ${policy.timeoutMs} ms)${cleanupNote(r)}`,
        hint:
          total === 0
            ? `The callers' sidecars list no host of ${cluster} in \`pilot-agent request GET clusters\`: do they call ${service}?`
            : !shareFell
              ? `The callers keep an even share on the slow pod: the DestinationRule ${service} must set loadBalancer LEAST_REQUEST (meshgw deploy renders it).`
              : `Orders failed or p99 exceeded services.${service}.trafficPolicy.timeoutMs.`,
        data: { replica: r.target.name, delayMs, requestsByReplica: got, share: total > 0 ? share : null, answers: answers(r.load), perSecond: r.load.perSecond, counters: { before: r.before.counters, during: r.during.counters } },
      };
    },
  };
}

export function awsErrorCheck(shopper: (ctx: AwsResilienceContext) => Promise<AwsShopper>, p: Phases): Check<AwsResilienceContext> {
  return {
    id: 'resilience.errors',
    title: 'ejects a pod that answers 503, and clients still get 201',
    timeoutMs: p.faultSeconds * 1000 + 120_000,
    run: async (ctx): Promise<CheckResult> => {
      const service = backendsUnderTest(ctx)[0];
      const s = await shopper(ctx);
      const r = await underFault(ctx, s, p, service, { abortStatus: 503, percent: 100 });
      const delta = counterDelta(r.before.counters, r.during.counters);
      const active = r.during.counters[`cluster.${service}.outlier_detection.ejections_active`];
      const enforced = delta[`cluster.${service}.outlier_detection.ejections_enforced_total`];
      const flagged = ejectedBy(r.during.clusters, outboundCluster(service, namespaceOf(ctx)), r.target.ip);
      // The health flag names the pod; the counters (when the matcher keeps them) confirm Envoy counted it.
      const ejected = flagged && (!r.during.present || (active >= 1 && enforced >= 1));
      return {
        ok: r.load.failed === 0 && ejected && r.cleanupProblems.length === 0,
        detail: `${r.target.name} answering 503 to every request: ${flagged ? 'ejected (health_flags /failed_outlier_check)' : 'not ejected'} by its callers; ${r.during.present ? describeCounters(delta) : 'no resilience counters emitted (proxyStatsMatcher)'}; ${r.load.offered} orders: ${describeAnswers(r.load)}, p99 ${r.load.p99Ms} ms${cleanupNote(r)}`,
        hint: !ejected
          ? `The callers did not eject ${r.target.name}: the DestinationRule ${service} must set outlierDetection.consecutive5xxErrors (services.${service}.trafficPolicy.outlierDetection), and \`meshgw deploy\` must have run since.`
          : 'Orders failed although the pod was ejected: calls that met it before the ejection must be retried on another pod (VirtualService retries).',
        data: { replica: r.target.name, ejected: flagged, counters: { before: r.before.counters, during: r.during.counters }, countersPresent: r.during.present, answers: answers(r.load), perSecond: r.load.perSecond },
      };
    },
  };
}
