/**
 * Checks are data (after linkerd's healthcheck): each has an id, a title phrased as an assertion,
 * and a run() that returns its verdict. One runner times them; reporters render the result.
 */
export interface CheckResult {
  ok: boolean;
  /** One line: what was observed ("offered 500, 2xx 500, 429 0"). */
  detail: string;
  /** What to do about a failure. */
  hint?: string;
  /** Figures for --output json (counts, latencies, counters). */
  data?: Record<string, unknown>;
  /**
   * Passed, but crossed a policy threshold (a certificate close to expiry): shown as ⚠ and counted
   * apart, so the scenario still passes unless the run was asked to fail on warnings (--fail-on warn).
   */
  warn?: boolean;
  /**
   * Not run, for a reason the detail gives (a precondition of the stack the check cannot arrange,
   * such as connection limits too large to exceed): shown as –, and it does not fail the scenario.
   */
  notRun?: boolean;
}

export interface Check<Ctx> {
  id: string;
  /** Phrased as an assertion: "refuses a client without a certificate". */
  title: string;
  /** A failed fatal check skips the rest of its scenario. */
  fatal?: boolean;
  timeoutMs?: number;
  run(ctx: Ctx): Promise<CheckResult>;
}

/** 'warn' passed below a policy threshold; only --fail-on warn turns it into a failed run. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckOutcome {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  hint?: string;
  durationMs: number;
  data?: Record<string, unknown>;
}

export interface ScenarioReport {
  scenario: string;
  target: 'local' | 'aws';
  /** No check failed (warnings do not fail a scenario; see --fail-on). */
  ok: boolean;
  /** How many checks passed with a warning (runChecks always sets it). */
  warnings?: number;
  checks: CheckOutcome[];
}

export interface CheckEvents {
  onStart?(check: { id: string; title: string }): void;
  onDone?(outcome: CheckOutcome): void;
}

const DEFAULT_CHECK_TIMEOUT_MS = 120_000;

export async function runChecks<Ctx>(
  scenario: string,
  target: 'local' | 'aws',
  checks: Check<Ctx>[],
  ctx: Ctx,
  events: CheckEvents = {},
  now: () => number = () => performance.now(),
): Promise<ScenarioReport> {
  const outcomes: CheckOutcome[] = [];
  let skipRest = false;
  for (const check of checks) {
    if (skipRest) {
      const skipped: CheckOutcome = { id: check.id, title: check.title, status: 'skip', detail: 'skipped after a fatal failure', durationMs: 0 };
      outcomes.push(skipped);
      events.onDone?.(skipped);
      continue;
    }
    events.onStart?.(check);
    const started = now();
    let result: CheckResult;
    try {
      result = await withTimeout(check.run(ctx), check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS, check.id);
    } catch (err) {
      const e = err as { message?: string; hint?: string };
      result = { ok: false, detail: e.message ?? String(err), hint: e.hint };
    }
    const outcome: CheckOutcome = {
      id: check.id,
      title: check.title,
      status: !result.ok ? 'fail' : result.notRun ? 'skip' : result.warn ? 'warn' : 'pass',
      detail: result.detail,
      durationMs: Math.round(now() - started),
      ...(result.hint && (!result.ok || result.warn) ? { hint: result.hint } : {}),
      ...(result.data ? { data: result.data } : {}),
    };
    outcomes.push(outcome);
    events.onDone?.(outcome);
    if (!result.ok && check.fatal) skipRest = true;
  }
  // A skipped check fails nothing by itself: checks skipped after a fatal failure come with that failure.
  return { scenario, target, ok: outcomes.every((o) => o.status !== 'fail'), warnings: outcomes.filter((o) => o.status === 'warn').length, checks: outcomes };
}

async function withTimeout<T>(p: Promise<T>, ms: number, id: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`check ${id} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
