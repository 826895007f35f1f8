/**
 * meshgw verify resilience (local): the mesh's traffic policy under faults. Under a steady order
 * load one replica is slowed, one answers 503, and one replica of each backend is killed; then one
 * caller is pushed past its connection limits. The client must not notice any but the last (a fast 503).
 */
import type { Check } from '../checks.js';
import type { ResilienceContext, ResilienceOptions } from './context.js';
import { killCheck } from './kill-check.js';
import { errorCheck, latencyCheck } from './fault-checks.js';
import { limitsCheck } from './limits-check.js';
import { backendsUnderTest, orderLoadFor, phases, shopper } from './setup.js';
import { describeAnswers, runOrderLoad } from './order-load.js';
import { replicasOf, unhealthy } from './replicas.js';

export function resilienceChecks(opts: ResilienceOptions): Check<ResilienceContext>[] {
  const p = phases(opts);
  return [
    {
      id: 'resilience.replicas',
      title: 'runs every backend of an order as two or more healthy replicas',
      fatal: true,
      run: async (ctx) => {
        const run = await ctx.readRun();
        const backends = backendsUnderTest(ctx);
        const counts = backends.map((b) => ({ service: b, replicas: replicasOf(run, b).length }));
        const short = counts.filter((c) => c.replicas < 2);
        const down = unhealthy(run);
        const listed = counts.map((c) => `${c.service} ×${c.replicas}`).join(', ');
        if (short.length > 0) {
          return {
            ok: false,
            detail: `${listed}: a single replica cannot be killed without losing requests`,
            hint: `Set ${short.map((c) => `services.${c.service}.replicas: 2`).join(' and ')} in meshgw.yaml, then \`meshgw down && meshgw up\`.`,
          };
        }
        if (down.length > 0) return { ok: false, detail: `${listed}; not healthy: ${down.join(', ')}`, hint: 'Wait for the stack to be healthy (`meshgw status`), or restart it.' };
        const s = await shopper(ctx, opts);
        const warm = await runOrderLoad(orderLoadFor(ctx, s, p.warmupSeconds, 15_000));
        return {
          ok: true,
          detail: `${listed}, all healthy; ordering ${s.session.productId} at ${s.rate} rps with key ${s.key.name}; warm-up (not judged): ${describeAnswers(warm)}, p99 ${warm.p99Ms} ms`,
          data: { replicas: counts, rate: s.rate, warmup: { offered: warm.offered, created201: warm.created201, failures: warm.failures, p99Ms: warm.p99Ms } },
        };
      },
    },
    // Faults before the kill: an ejection lasts baseEjectionTimeMs (30 s by default) and at most
    // maxEjectionPercent of a service is ejected, so a replica ejected by the kill would take no
    // traffic for the latency check and could not be ejected again for the error check.
    latencyCheck(opts, p),
    errorCheck(opts, p),
    killCheck(opts, p),
    limitsCheck(),
  ];
}
