/** SIGKILL one replica of each backend under a steady order load: no order may fail. */
import type { Check } from '../checks.js';
import type { ResilienceContext, ResilienceOptions } from './context.js';
import { counterDelta, describeCounters, resilienceCounters } from './counters.js';
import { describeAnswers, describePerSecond, runOrderLoad } from './order-load.js';
import { waitWhole } from './replicas.js';
import { backendsUnderTest, meshStats, orderLoadFor, policyOf, shopper, victim, type Phases } from './setup.js';

export function killCheck(opts: ResilienceOptions, p: Phases): Check<ResilienceContext> {
  return {
    id: 'resilience.kill',
    title: 'loses no order when one replica of each backend is SIGKILLed under load',
    timeoutMs: p.killSeconds * 1000 + p.recoveryMs + 60_000,
    run: async (ctx) => {
      const s = await shopper(ctx, opts);
      const backends = backendsUnderTest(ctx);
      const targets = await Promise.all(backends.map(async (b) => ({ service: b, ...(await victim(ctx, b)) })));
      const before = await meshStats(ctx);
      const killed: { name: string; pid: number; atMs: number }[] = [];
      let killedAt = 0;
      const load = await runOrderLoad({
        ...orderLoadFor(ctx, s, p.killSeconds, Math.max(...backends.map((b) => policyOf(ctx, b).timeoutMs)) + 5_000),
        // A third of the way in: the load is steady before, and there is time after to see it absorbed.
        during: {
          atMs: (p.killSeconds * 1000) / 3,
          action: async () => {
            // The pids as recorded now: the supervisor may have restarted an app since the check began.
            const fresh = await Promise.all(targets.map((t) => victim(ctx, t.service)));
            killedAt = Date.now();
            for (const { victim: v } of fresh) {
              if (!v.appPid) throw new Error(`${v.name} has no running app to kill`);
              ctx.kill(v.appPid, 'SIGKILL');
              killed.push({ name: v.name, pid: v.appPid, atMs: Math.round((p.killSeconds * 1000) / 3) });
            }
          },
        },
      });
      const whole = await waitWhole(ctx.readRun, p.recoveryMs);
      const recoveryMs = Date.now() - killedAt;
      const after = await meshStats(ctx);
      const counters = Object.fromEntries(backends.map((b) => [b, { before: resilienceCounters(before, b), after: resilienceCounters(after, b) }]));
      const deltas = Object.assign({}, ...backends.map((b) => counterDelta(counters[b].before, counters[b].after))) as Record<string, number>;
      const recovery = whole.ok ? `back healthy ${(recoveryMs / 1000).toFixed(1)} s after the kill` : `still down after ${p.recoveryMs / 1000} s: ${whole.down.join(', ')}`;
      const ok = killed.length === targets.length && load.failed === 0 && whole.ok;
      return {
        ok,
        detail: `${load.offered} orders at ${s.rate} rps, killed ${killed.map((k) => `${k.name} (pid ${k.pid})`).join(' and ')} at ${(killed[0]?.atMs ?? 0) / 1000} s: ${describeAnswers(load)} (per second: ${describePerSecond(load)}); p99 ${load.p99Ms} ms; ${describeCounters(deltas)}; ${recovery}`,
        hint:
          load.failed > 0
            ? `Orders failed while a replica was down (${load.errors.join('; ') || 'see the per-second answers'}): the callers' sidecars must retry idempotent calls on another replica and eject the dead one (services.<name>.trafficPolicy).`
            : 'The supervisor did not bring the killed replicas back: see `meshgw status` and their logs.',
        data: { rate: s.rate, seconds: p.killSeconds, killed, answers: { offered: load.offered, created201: load.created201, failures: load.failures, p50Ms: load.p50Ms, p99Ms: load.p99Ms, maxMs: load.maxMs }, perSecond: load.perSecond, counters, recoveryMs: whole.ok ? recoveryMs : null },
      };
    },
  };
}
