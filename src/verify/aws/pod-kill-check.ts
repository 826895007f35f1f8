/** Under a steady order load, one pod of each backend is deleted with gracePeriodSeconds 0: no order may fail. */
import type { Check } from '../checks.js';
import { counterDelta, describeCounters } from '../resilience/counters.js';
import { describeAnswers, describePerSecond } from '../resilience/order-load.js';
import type { Phases } from '../resilience/setup.js';
import type { AwsResilienceContext } from './resilience-context.js';
import { backendsUnderTest, countersOf, loadInput, policyOf, victimPod, waitDeploymentsWhole, type AwsShopper } from './resilience-setup.js';

/** A replacement pod on EKS is scheduled, pulls (cached) images and starts app + sidecar: minutes, not seconds. */
export const AWS_RECOVERY_MS = 180_000;

export function podKillCheck(shopper: (ctx: AwsResilienceContext) => Promise<AwsShopper>, p: Phases): Check<AwsResilienceContext> {
  return {
    id: 'resilience.kill',
    title: 'loses no order when one pod of each backend is deleted with grace 0 under load',
    timeoutMs: p.killSeconds * 1000 + AWS_RECOVERY_MS + 120_000,
    run: async (ctx) => {
      const s = await shopper(ctx);
      const backends = backendsUnderTest(ctx);
      const before = Object.fromEntries(await Promise.all(backends.map(async (b) => [b, (await countersOf(ctx, b)).counters] as const)));
      const killed: { name: string; pod: string; atMs: number }[] = [];
      const atMs = Math.round((p.killSeconds * 1000) / 3);
      let killedAt = 0;
      const load = await ctx.load({
        ...loadInput(s, ctx.endpoint.baseUrl, p.killSeconds, Math.max(...backends.map((b) => policyOf(ctx, b).timeoutMs)) + 5_000),
        // A third of the way in: steady before, and time after to see the loss absorbed.
        during: {
          atMs,
          action: async () => {
            const victims = await Promise.all(backends.map(async (b) => ({ service: b, pod: (await victimPod(ctx, b)).victim.name })));
            killedAt = Date.now();
            await Promise.all(victims.map((v) => ctx.cluster.deletePodNow(ctx.config.mesh.namespace, v.pod)));
            for (const v of victims) killed.push({ name: v.service, pod: v.pod, atMs });
          },
        },
      });
      const whole = await waitDeploymentsWhole(ctx, backends, AWS_RECOVERY_MS);
      const recoveryMs = Date.now() - killedAt;
      const afterRead = await Promise.all(backends.map(async (b) => [b, await countersOf(ctx, b)] as const));
      const counters = Object.fromEntries(afterRead.map(([b, a]) => [b, { before: before[b], after: a.counters }]));
      const present = afterRead.every(([, a]) => a.present);
      const deltas = Object.assign({}, ...backends.map((b) => counterDelta(counters[b].before, counters[b].after))) as Record<string, number>;
      const recovery = whole.ok ? `Deployments whole again ${(recoveryMs / 1000).toFixed(1)} s after the delete` : `not whole after ${AWS_RECOVERY_MS / 1000} s: ${whole.short.join(', ')}`;
      const ok = killed.length === backends.length && load.failed === 0 && whole.ok;
      return {
        ok,
        detail: `${load.offered} orders at ${s.rate} rps, deleted ${killed.map((k) => k.pod).join(' and ')} (grace 0) at ${atMs / 1000} s: ${describeAnswers(load)} (per second: ${describePerSecond(load)}); p99 ${load.p99Ms} ms; ${present ? describeCounters(deltas) : 'the sidecars emit no resilience counters (proxyStatsMatcher)'}; ${recovery}`,
        hint:
          load.failed > 0
            ? `Orders failed while a pod was gone (${load.errors.join('; ') || 'see the per-second answers'}): the callers' VirtualService retries (services.<name>.trafficPolicy.retries) and outlier detection must absorb it.`
            : `The Deployments did not come back: kubectl -n ${ctx.config.mesh.namespace} get pods,deploy; kubectl describe the pending pod.`,
        data: { rate: s.rate, seconds: p.killSeconds, killed, answers: { offered: load.offered, created201: load.created201, failures: load.failures, p50Ms: load.p50Ms, p99Ms: load.p99Ms, maxMs: load.maxMs }, perSecond: load.perSecond, counters, countersPresent: present, recoveryMs: whole.ok ? recoveryMs : null },
      };
    },
  };
}
