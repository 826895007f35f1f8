import type { CommandContext } from '../cli/context.js';
import type { DemoOptions } from '../cli/options.js';
import { ExitCode } from '../errors.js';
import { renderVerifyRun, runScenarios, SCENARIOS, type VerifyRun } from '../verify/command.js';
import { openLocalVerifySession } from '../verify/session.js';

/** Replicas the demo gives each backend of an order when it starts the stack itself. */
export const DEMO_REPLICAS = 2;

/**
 * The demo's own stack runs every backend of an order (users, products) as two replicas, as
 * verify resilience needs to kill one without losing a request. meshgw.yaml keeps 1 by default
 * (a lighter laptop for `meshgw up`); two more app + sidecar pairs add about two seconds of
 * start-up. A stack the user already runs is used as it is, and resilience says if it is short.
 */
export function withResilienceReplicas(ctx: CommandContext): CommandContext {
  const { config } = ctx.loaded;
  const backends = new Set(Object.values(config.services).flatMap((s) => s.backends));
  const services = Object.fromEntries(
    Object.entries(config.services).map(([name, s]) => [name, backends.has(name) ? { ...s, replicas: Math.max(s.replicas ?? 1, DEMO_REPLICAS) } : s]),
  );
  return { ...ctx, loaded: { ...ctx.loaded, config: { ...config, services } } };
}

/**
 * local up → verify all → down. Quick phases by default (about a minute in all); --full runs the
 * assignment's durations (50 rps × 10 s, 150 rps × 15 s). A stack the user already had running is
 * used and left running; one started here is always stopped, pass or fail.
 */
export async function runDemo(ctx: CommandContext, opts: DemoOptions): Promise<number> {
  const full = opts.full;
  const started = Date.now();
  const session = await openLocalVerifySession(withResilienceReplicas(ctx), { quick: !full });
  let verify: VerifyRun;
  try {
    const scenarios = await runScenarios(session, [...SCENARIOS], ctx);
    verify = { ok: scenarios.every((s) => s.ok), target: 'local', startedStack: session.startedStack, scenarios };
  } finally {
    const step = session.startedStack ? ctx.reporter.step('stopping the local stack') : undefined;
    await session.close();
    step?.succeed('local stack stopped');
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const summary = verify.scenarios.map((s) => ({ scenario: s.scenario, ok: s.ok, passed: s.checks.filter((c) => c.status === 'pass').length, total: s.checks.length }));
  ctx.reporter.result({ ...verify, profile: full ? 'full' : 'quick', seconds, summary }, () =>
    [renderVerifyRun(verify), '', `demo (${full ? 'full' : 'quick'} profile, ${seconds} s): ${summary.map((s) => `${s.scenario} ${s.passed}/${s.total}`).join(' · ')}`].join('\n'),
  );
  return verify.ok ? ExitCode.ok : ExitCode.checkFailed;
}
