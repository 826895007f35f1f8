import { writeFile } from 'node:fs/promises';
import type { CommandContext } from '../cli/context.js';
import type { VerifyOptions } from '../cli/options.js';
import { ExitCode } from '../errors.js';
import type { Check, ScenarioReport } from './checks.js';
import { runChecks } from './checks.js';
import { renderScenario } from './render.js';
import type { Scenario } from './scenarios.js';
import type { FailOn } from './policy-options.js';
import { openVerifySession, type VerifySession } from './session.js';

export { SCENARIOS } from './scenarios.js';
export type { Scenario };

export interface VerifyRun {
  ok: boolean;
  target: 'local' | 'aws';
  /** Whether verify started a local stack for this run (and stopped it after). */
  startedStack: boolean;
  scenarios: ScenarioReport[];
  report?: string;
  /** The evidence bundle's files (--evidence DIR). */
  evidence?: { report: string; json: string };
  /** Checks that passed with a warning, over all scenarios. */
  warnings?: number;
  /** 'warn' when warnings fail the run too (--fail-on warn). */
  failOn?: FailOn;
}

/** Runs the chosen scenarios and reports them; the session decides what they run against. */
export async function runScenarios(session: VerifySession, scenarios: Scenario[], ctx: CommandContext): Promise<ScenarioReport[]> {
  const reports: ScenarioReport[] = [];
  for (const scenario of scenarios) {
    const checks = (await session.checksFor(scenario)) as Check<unknown>[];
    const context = await session.contextFor(scenario);
    let step: ReturnType<typeof ctx.reporter.step> | undefined;
    const report = await runChecks(scenario, session.target, checks, context, {
      onStart: (c) => void (step = ctx.reporter.step(`${scenario}: ${c.title}`)),
      onDone: (o) => {
        const line = `${scenario}: ${o.title}  ${o.detail}`;
        if (o.status === 'pass') step?.succeed(line);
        else if (o.status === 'warn') (step?.warn ?? step?.succeed)?.(line + (o.hint ? `\n    hint: ${o.hint}` : ''));
        else if (o.status === 'fail') step?.fail(line + (o.hint ? `\n    hint: ${o.hint}` : ''));
        else ctx.reporter.info(`– ${line}`);
        step = undefined;
      },
    });
    reports.push(report);
  }
  return reports;
}

export async function verifyCommand(ctx: CommandContext, opts: VerifyOptions): Promise<number> {
  const reportFile = opts.report;
  // A bad --evidence folder is a usage error before anything runs, not after minutes of load.
  if (opts.evidence) await (await import('../evidence/index.js')).assertEvidenceDir(opts.evidence);
  const startedAt = new Date();
  const session = await openVerifySession(ctx, opts);
  let reports: ScenarioReport[];
  try {
    reports = await runScenarios(session, opts.scenarios, ctx);
  } finally {
    await session.close();
  }
  const endedAt = new Date();
  const run = verifyRun(reports, session, opts.failOn);
  if (opts.evidence) {
    const { produceEvidence, traceReader } = await import('../evidence/index.js');
    const { written } = await produceEvidence(ctx, { dir: opts.evidence, run, startedAt, endedAt, readTrace: traceReader(ctx, opts.aws) });
    run.evidence = { report: written.html, json: written.json };
  }
  if (reportFile) {
    const throttleReport = reports.find((r) => r.scenario === 'throttle');
    if (throttleReport) {
      const { renderThrottleReportHtml } = await import('./throttle/index.js');
      await writeFile(reportFile, renderThrottleReportHtml(throttleReport, ctx.loaded.config));
      run.report = reportFile;
    } else {
      ctx.reporter.warn('--report: the HTML report charts the throttle scenario, which did not run');
    }
  }
  ctx.reporter.result(run, () => renderVerifyRun(run));
  return run.ok ? ExitCode.ok : ExitCode.checkFailed;
}

/** The run's verdict: no failed check, and with --fail-on warn no warning either. */
export function verifyRun(reports: ScenarioReport[], session: Pick<VerifySession, 'target' | 'startedStack'>, failOn: FailOn): VerifyRun {
  const warnings = reports.reduce((n, r) => n + r.checks.filter((c) => c.status === 'warn').length, 0);
  const ok = reports.every((r) => r.ok) && !(failOn === 'warn' && warnings > 0);
  return { ok, target: session.target, startedStack: session.startedStack, scenarios: reports, warnings, failOn };
}

export function renderVerifyRun(run: VerifyRun): string {
  const parts = run.scenarios.map(renderScenario);
  if (run.report) parts.push(`report: ${run.report}`);
  if (run.evidence) parts.push(`evidence: ${run.evidence.report} and ${run.evidence.json}`);
  const warnings = run.warnings ? ` (${run.warnings} warning${run.warnings === 1 ? '' : 's'}${run.failOn === 'warn' ? ', failing the run: --fail-on warn' : ''})` : '';
  parts.push((run.ok ? 'verify: PASS' : 'verify: FAIL') + warnings);
  return parts.join('\n\n');
}
