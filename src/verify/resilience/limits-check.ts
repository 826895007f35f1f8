/**
 * Circuit breaking: one caller (the first service that calls the backend) gets more requests in
 * flight than its connection pool to the backend allows (maxConnections + maxPendingRequests);
 * every replica of the backend is slowed meanwhile, so that the admitted requests hold their
 * connections. The excess must be answered at once with 503 and a reason, and nothing may hang.
 */
import type { Check, CheckResult } from '../checks.js';
import type { ResilienceContext } from './context.js';
import type { EgressAnswer } from './egress-client.js';
import { replicasOf } from './replicas.js';
import { backendsUnderTest, meshStats, policyOf } from './setup.js';

/** Above this many requests in flight, the check would load the machine more than it proves. */
const MAX_PUSH = 256;
const EXTRA = 10;
const HOLD_MS = 1_500;

export function limitsCheck(): Check<ResilienceContext> {
  return {
    id: 'resilience.limits',
    title: 'answers load beyond the connection limits at once with 503, and no request hangs',
    timeoutMs: 60_000,
    run: async (ctx): Promise<CheckResult> => {
      const service = backendsUnderTest(ctx).at(-1)!;
      const pool = policyOf(ctx, service).connectionPool;
      const run = await ctx.readRun();
      const replicas = replicasOf(run, service);
      const cap = pool.maxConnections + pool.maxPendingRequests;
      // Whether the limit is the caller's per backend or per replica, this many exceed it by EXTRA.
      const push = cap * replicas.length + EXTRA;
      if (push > MAX_PUSH) {
        return {
          ok: true,
          notRun: true,
          detail: `not run: services.${service}.trafficPolicy.connectionPool admits ${pool.maxConnections} connections and ${pool.maxPendingRequests} pending requests per caller; exceeding that takes ${push} requests in flight, more than the ${MAX_PUSH} this check drives (set small limits, e.g. { maxConnections: 4, maxPendingRequests: 4 }, to run it)`,
        };
      }
      const caller = run.workloads.find((w) => w.egress?.[service]);
      if (!caller) return { ok: true, notRun: true, detail: `not run: no service calls ${service}` };
      const socketPath = caller.egress![service].replace(/^unix:/, '');
      const before = await meshStats(ctx);
      await Promise.all(replicas.map((r) => ctx.admin.setFault(r.adminUrl, { delayMs: HOLD_MS, delayPercent: 100 })));
      let answers: EgressAnswer[];
      try {
        answers = await Promise.all(Array.from({ length: push }, () => ctx.egress.get(socketPath, service, `/${service}`, HOLD_MS * 4 + 5_000)));
      } finally {
        await Promise.all(replicas.map((r) => ctx.admin.clearFault(r.adminUrl)));
      }
      const after = await meshStats(ctx);
      const overflowName = `cluster.${service}.upstream_rq_pending_overflow`;
      const overflow = (after[overflowName] ?? 0) - (before[overflowName] ?? 0);
      const refused = answers.filter((a) => a.status === 503);
      const hung = answers.filter((a) => a.status === 0);
      const served = answers.filter((a) => a.status >= 200 && a.status < 300);
      const others = answers.filter((a) => a.status !== 0 && a.status !== 503 && !(a.status >= 200 && a.status < 300));
      const otherText = others.length ? `, ${others.length} other (${[...new Set(others.map((a) => a.status))].join(', ')})` : '';
      // "At once": before the slowed replicas could have answered anything.
      const slowRefusals = refused.filter((a) => a.ms >= HOLD_MS / 2);
      const reasoned = refused.filter((a) => /overflow|overload|circuit|pending|limit/i.test(a.reason));
      const ok = hung.length === 0 && refused.length >= EXTRA && slowRefusals.length === 0 && reasoned.length === refused.length && overflow >= 1;
      const slowest503 = Math.max(0, ...refused.map((a) => a.ms));
      return {
        ok,
        detail: `${push} requests at once from ${caller.name} to ${service} (limits ${pool.maxConnections} connections + ${pool.maxPendingRequests} pending): ${served.length} served, ${refused.length} × 503 within ${slowest503} ms${refused[0] ? ` ("${refused[0].reason.slice(0, 80)}")` : ''}${otherText}, ${hung.length} without an answer; ${overflowName.replace(/^cluster\./, '')} +${overflow}`,
        hint:
          hung.length > 0
            ? `${hung.length} requests got no answer (${hung[0].error}): a caller past its limits must answer 503 at once, not queue without bound.`
            : 'The excess was not refused at once with 503 and a reason (Envoy says x-envoy-overloaded and counts upstream_rq_pending_overflow).',
        data: { caller: caller.name, service, pushed: push, served: served.length, refused503: refused.length, other: others.map((a) => a.status), hung: hung.length, slowest503Ms: slowest503, overflow },
      };
    },
  };
}
