/**
 * meshgw verify resilience on EKS: the same checks as locally (same ids, titles and data shape), with pod
 * deletion (grace 0) for the kill and Envoy's fault filter in one pod (pod-faults.ts) for the faults.
 */
import type { Check } from '../checks.js';
import type { ResilienceOptions } from '../resilience/context.js';
import { describeAnswers } from '../resilience/order-load.js';
import { phases } from '../resilience/setup.js';
import { podKillCheck } from './pod-kill-check.js';
import type { AwsResilienceContext } from './resilience-context.js';
import { awsErrorCheck, awsLatencyCheck } from './resilience-fault-checks.js';
import { awsLimitsCheck, type GetFn } from './resilience-limits-check.js';
import { backendsUnderTest, loadInput, namespaceOf, type AwsShopper } from './resilience-setup.js';

export interface AwsResilienceDeps {
  /** Logs a fresh user in through the invoke URL once per run (ShopClient in the session, a fake in tests). */
  shopper(ctx: AwsResilienceContext): Promise<AwsShopper>;
  get?: GetFn;
}

export function awsResilienceChecks(opts: ResilienceOptions, deps: AwsResilienceDeps): Check<AwsResilienceContext>[] {
  const p = phases(opts);
  const cache = new WeakMap<AwsResilienceContext, Promise<AwsShopper>>();
  const shopper = (ctx: AwsResilienceContext) => {
    let s = cache.get(ctx);
    if (!s) {
      s = deps.shopper(ctx);
      cache.set(ctx, s);
      s.catch(() => cache.delete(ctx));
    }
    return s;
  };
  return [
    {
      id: 'resilience.replicas',
      title: 'runs every backend of an order as two or more ready pods',
      fatal: true,
      run: async (ctx) => {
        const ns = namespaceOf(ctx);
        const counts = await Promise.all(backendsUnderTest(ctx).map(async (b) => ({ service: b, replicas: (await ctx.cluster.podsOf(ns, b)).filter((x) => x.serving).length, wanted: (await ctx.cluster.deployment(ns, b))?.replicas ?? 0 })));
        const listed = counts.map((c) => `${c.service} ×${c.replicas}`).join(', ');
        const short = counts.filter((c) => c.replicas < 2);
        if (short.length > 0) {
          const configured = short.filter((c) => c.wanted >= 2);
          return {
            ok: false,
            detail: `${listed} serving: a single pod cannot be deleted without losing requests`,
            hint: configured.length === short.length ? `The Deployments want ${short.map((c) => `${c.service} ×${c.wanted}`).join(', ')}: wait for the pods (kubectl -n ${ns} get pods).` : `Set ${short.map((c) => `services.${c.service}.replicas: 2`).join(' and ')} in meshgw.yaml and run \`meshgw deploy\`.`,
          };
        }
        const s = await shopper(ctx);
        const warm = await ctx.load(loadInput(s, ctx.endpoint.baseUrl, p.warmupSeconds, 15_000));
        return {
          ok: true,
          detail: `${listed} serving; ordering ${s.productId} at ${s.rate} rps with key ${s.key.name} through ${ctx.endpoint.baseUrl}; warm-up (not judged): ${describeAnswers(warm)}, p99 ${warm.p99Ms} ms`,
          data: { replicas: counts.map(({ service, replicas }) => ({ service, replicas })), rate: s.rate, warmup: { offered: warm.offered, created201: warm.created201, failures: warm.failures, p99Ms: warm.p99Ms } },
        };
      },
    },
    // Faults before the kill, as locally: an ejection lasts baseEjectionTime and a pod ejected by the kill's
    // aftermath could not be ejected again for the error check.
    awsLatencyCheck(shopper, p),
    awsErrorCheck(shopper, p),
    podKillCheck(shopper, p),
    awsLimitsCheck(shopper, deps.get),
  ];
}
