import type { CommandContext } from '../cli/context.js';
import type { DemoOptions } from '../cli/options.js';
import { ExitCode } from '../errors.js';
import { renderVerifyRun, runScenarios, SCENARIOS, type VerifyRun } from '../verify/command.js';
import { openLocalVerifySession } from '../verify/session.js';

/**
 * local up → verify all → down. Quick phases by default (about a minute in all); --full runs the
 * assignment's durations (50 rps × 10 s, 150 rps × 15 s). A stack the user already had running is
 * used and left running; one started here is always stopped, pass or fail.
 */
export async function runDemo(ctx: CommandContext, opts: DemoOptions): Promise<number> {
  const full = opts.full;
  const started = Date.now();
  const session = await openLocalVerifySession(ctx, { quick: !full });
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
