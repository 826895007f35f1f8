/**
 * After the throttle phases: the 429s API Gateway wrote to its access log must match the 429s the
 * client saw. CloudWatch Logs is eventually consistent (lines arrive seconds to minutes later), so
 * the count is read until it stops changing and reaches the client's, or a deadline passes.
 */
import type { AccessLogSource } from '../../aws/access-log.js';
import type { Check, CheckResult } from '../checks.js';
import type { GatewayEndpoint } from '../target.js';
import { attributeAwsLines } from '../throttle/aws-attribution.js';
import { describeLayers } from '../throttle/attribution.js';
import type { ExpectedRefusals } from '../throttle/phase.js';

/** What the throttle phases saw, handed on from their results (see awsThrottleChecks). */
export interface ThrottleTally {
  startedAtMs?: number;
  endedAtMs?: number;
  client429: number;
  /** Where the model expected refusals, per key and second: the layer a THROTTLED line is inferred to be. */
  expectedLayers?: ExpectedRefusals[];
}

export interface AwsThrottleContext extends GatewayEndpoint {
  accessLog: AccessLogSource;
}

export interface AccessLogCheckOptions {
  tally: ThrottleTally;
  deadlineMs: number;
  pollMs: number;
  /** Allowed difference: max(absolute, fraction × client count). */
  tolerance?: { absolute: number; fraction: number };
  /** Log lines are stamped when API Gateway handled the request; allow for clock skew at both ends. */
  windowSlackMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Sums the 429s in a throttle check's data (its own stream, and the served key's in the isolation phase). */
export function client429s(data: Record<string, unknown> | undefined): number {
  if (!data) return 0;
  const own = typeof data.throttled429 === 'number' ? data.throttled429 : 0;
  const served = data.served as { throttled429?: unknown } | undefined;
  return own + (typeof served?.throttled429 === 'number' ? served.throttled429 : 0);
}

/** Wraps the throttle checks so their results feed the tally the access-log check compares with. */
export function tallyingChecks<C>(checks: Check<C>[], tally: ThrottleTally, now: () => number = Date.now): Check<C>[] {
  return checks.map((c) => ({
    ...c,
    async run(ctx: C): Promise<CheckResult> {
      tally.startedAtMs ??= now();
      try {
        const r = await c.run(ctx);
        tally.client429 += client429s(r.data);
        if (Array.isArray(r.data?.expectedLayers)) (tally.expectedLayers ??= []).push(...(r.data.expectedLayers as ExpectedRefusals[]));
        return r;
      } finally {
        tally.endedAtMs = now();
      }
    },
  }));
}

export function accessLogCheck(opts: AccessLogCheckOptions): Check<AwsThrottleContext> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const tol = opts.tolerance ?? { absolute: 2, fraction: 0.02 };
  const slack = opts.windowSlackMs ?? 60_000;
  return {
    id: 'throttle.access-log',
    title: "counts the same 429s in API Gateway's access log as the client saw",
    timeoutMs: opts.deadlineMs + 60_000,
    async run(ctx) {
      const { tally } = opts;
      if (tally.startedAtMs === undefined) return { ok: false, detail: 'no throttle phase ran before this check', hint: 'Run `meshgw verify throttle --target aws`.' };
      const start = tally.startedAtMs - slack;
      const end = (tally.endedAtMs ?? now()) + slack;
      const allowed = Math.max(tol.absolute, Math.round(tol.fraction * tally.client429));
      const deadline = now() + opts.deadlineMs;
      const reads: number[] = [];
      for (;;) {
        reads.push(await ctx.accessLog.countStatus(429, start, end));
        const last = reads.at(-1)!;
        const settled = reads.length >= 2 && reads.at(-2) === last;
        if ((settled && Math.abs(last - tally.client429) <= allowed) || now() >= deadline) break;
        await sleep(opts.pollMs);
      }
      const logged = reads.at(-1)!;
      const ok = Math.abs(logged - tally.client429) <= allowed;
      // responseType tells QUOTA_EXCEEDED from THROTTLED; which bucket was THROTTLED is the model's inference.
      const layers = ctx.accessLog.list429 ? attributeAwsLines(await ctx.accessLog.list429(start, end), tally.expectedLayers ?? []) : undefined;
      return {
        ok,
        detail: `access log 429 ${logged}, client 429 ${tally.client429} (±${allowed}), ${reads.length} reads${layers ? `; 429 by layer: ${describeLayers(layers.byLayer)} (${layers.inferred} inferred from the model)` : ''}`,
        hint: ok ? undefined : logged < tally.client429 ? 'Log delivery can lag by minutes: run the check again later, and check the stage access-log setting.' : 'The log holds more 429s than this run caused: another client may be using the same stage.',
        data: { logged, client: tally.client429, allowed, reads, ...(layers ? { byLayer: layers.byLayer, inferred: layers.inferred > 0, layersInferred: layers.inferred, unattributed: layers.unattributed } : {}) },
      };
    },
  };
}
