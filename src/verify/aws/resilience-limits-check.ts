/**
 * Circuit breaking on EKS. From outside the cluster the only caller this check can drive is the Istio ingress
 * gateway (GET <pathPrefix> through the invoke URL), whose pool to a backend the same DestinationRule limits
 * (tcp.maxConnections + http.http1MaxPendingRequests). Exceeding that takes more requests in flight than the
 * pool admits, and API Gateway's throttle lets through at most the burst of the key's plan at once: when the
 * pool is larger than that (meshgw's defaults: 1024 + 1024), the check says so and does not run. Otherwise
 * every pod of the backend is slowed (fault filter) so admitted requests hold their connections, and the
 * excess must come back at once as 503, nothing hanging.
 */
import { throttleLevelsFor } from '../../gateway/throttle-levels.js';
import type { Check, CheckResult } from '../checks.js';
import { bindingLimit } from '../throttle/phase.js';
import { withPodFault } from './pod-faults.js';
import type { AwsResilienceContext } from './resilience-context.js';
import { GATEWAY_NAME } from '../../k8s/labels.js';
import { backendsUnderTest, namespaceOf, policyOf, waitFaultInForce, type AwsShopper } from './resilience-setup.js';
import { meshResilienceCounters } from './resilience-stats.js';

/** Above this many requests in flight, the check would prove the load generator's limits, not the mesh's. */
const MAX_PUSH = 256;
const EXTRA = 10;
const HOLD_MS = 1_500;

export interface Answer {
  status: number;
  ms: number;
  reason: string;
}

/** One GET through the invoke URL (0: no answer within the timeout). */
export type GetFn = (url: string, apiKey: string, timeoutMs: number) => Promise<Answer>;

export const fetchGet: GetFn = async (url, apiKey, timeoutMs) => {
  const started = performance.now();
  try {
    const res = await fetch(url, { headers: { 'x-api-key': apiKey }, signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.text()).slice(0, 200);
    const flag = res.headers.get('x-envoy-overloaded') ? 'x-envoy-overloaded ' : '';
    return { status: res.status, ms: Math.round(performance.now() - started), reason: `${flag}${body}`.replace(/\s+/g, ' ') };
  } catch (err) {
    return { status: 0, ms: Math.round(performance.now() - started), reason: (err as Error).message };
  }
};

/** The caller here is the ingress gateway: its Envoy's counters (absent unless its stats matcher keeps them). */
async function ingressCounters(ctx: AwsResilienceContext, service: string): Promise<{ counters: Record<string, number>; present: boolean }> {
  const ns = namespaceOf(ctx);
  const pods = (await ctx.cluster.podsMatching(ns, `gateway.networking.k8s.io/gateway-name=${GATEWAY_NAME}`)).filter((p) => p.serving);
  return meshResilienceCounters(await Promise.all(pods.map((p) => ctx.cluster.proxyAdmin(ns, p.name, 'stats'))), service, ns);
}

export function awsLimitsCheck(shopper: (ctx: AwsResilienceContext) => Promise<AwsShopper>, get: GetFn = fetchGet): Check<AwsResilienceContext> {
  return {
    id: 'resilience.limits',
    title: 'answers load beyond the connection limits at once with 503, and no request hangs',
    timeoutMs: 120_000,
    run: async (ctx): Promise<CheckResult> => {
      const service = backendsUnderTest(ctx).at(-1)!;
      const pool = policyOf(ctx, service).connectionPool;
      const pods = (await ctx.cluster.podsOf(namespaceOf(ctx), service)).filter((p) => p.serving);
      const s = await shopper(ctx);
      const path = ctx.config.services[service].pathPrefix;
      const { burst } = bindingLimit(throttleLevelsFor(ctx.config.gateway, { method: 'GET', path, keyId: s.key.id, plan: s.key.plan }));
      // Whether Envoy applies the limit per caller pod or per replica, this many exceed it by EXTRA.
      const push = (pool.maxConnections + pool.maxPendingRequests) * Math.max(1, pods.length) + EXTRA;
      const canHold = Math.min(MAX_PUSH, burst);
      if (push > canHold) {
        return {
          ok: true,
          notRun: true,
          detail: `not run: services.${service}.trafficPolicy.connectionPool admits ${pool.maxConnections} connections and ${pool.maxPendingRequests} pending requests per caller; exceeding it takes ${push} requests in flight, more than the ${canHold} the client can hold through API Gateway (burst ${burst} of plan ${s.key.plan}, at most ${MAX_PUSH})`,
        };
      }
      const before = await ingressCounters(ctx, service);
      const url = `${ctx.endpoint.baseUrl}${path}`;
      const { result: answers, cleanupProblems } = await withPodFault(
        ctx.cluster,
        { namespace: namespaceOf(ctx), pods: pods.map((p) => p.name), runId: ctx.runId },
        { delayMs: HOLD_MS, percent: 100 },
        async () => {
          await waitFaultInForce(ctx, pods.map((p) => p.name));
          return Promise.all(Array.from({ length: push }, () => get(url, s.key.value, HOLD_MS * 4 + 5_000)));
        },
        ctx.signal,
      );
      const after = await ingressCounters(ctx, service);
      const overflowName = `cluster.${service}.upstream_rq_pending_overflow`;
      const overflow = after.counters[overflowName] - (before.counters[overflowName] ?? 0);
      const refused = answers.filter((a) => a.status === 503);
      const hung = answers.filter((a) => a.status === 0);
      const served = answers.filter((a) => a.status >= 200 && a.status < 300);
      const slow = refused.filter((a) => a.ms >= HOLD_MS / 2);
      // Envoy's overflow reply says why ("reset reason: overflow", x-envoy-overloaded); API Gateway passes it on.
      const reasoned = refused.filter((a) => /overflow|overload|circuit|pending/i.test(a.reason));
      const ok = hung.length === 0 && refused.length >= EXTRA && slow.length === 0 && reasoned.length === refused.length && (!after.present || overflow >= 1) && cleanupProblems.length === 0;
      const slowest503 = Math.max(0, ...refused.map((a) => a.ms));
      return {
        ok,
        detail: `${push} GET ${path} at once through the ingress (limits ${pool.maxConnections} connections + ${pool.maxPendingRequests} pending): ${served.length} served, ${refused.length} × 503 within ${slowest503} ms${refused[0] ? ` ("${refused[0].reason.slice(0, 80)}")` : ''}, ${hung.length} without an answer; ${after.present ? `upstream_rq_pending_overflow +${overflow}` : 'no overflow counter emitted'}${cleanupProblems.length ? `; CLEANUP FAILED: ${cleanupProblems.join('; ')}` : ''}`,
        hint: hung.length > 0 ? `${hung.length} requests got no answer: past its limits the ingress must answer 503 at once.` : 'The excess was not refused at once with 503 (Envoy counts upstream_rq_pending_overflow and sets x-envoy-overloaded).',
        data: { caller: 'ingress', service, pushed: push, served: served.length, refused503: refused.length, other: answers.filter((a) => a.status !== 0 && a.status !== 503 && !(a.status >= 200 && a.status < 300)).map((a) => a.status), hung: hung.length, slowest503Ms: slowest503, overflow },
      };
    },
  };
}
