/** `meshgw doctor`: is this machine and account ready for `meshgw up --target aws`? */
import path from 'node:path';
import type { CommandContext } from '../cli/context.js';
import type { DoctorOptions } from '../cli/options.js';
import { ExitCode, type ExitCodeValue } from '../errors.js';
import { createExecaRunner } from '../aws/push-runner.js';
import { MESHGW_ROOT } from '../local/plan.js';
import { runChecks, type CheckOutcome } from '../verify/checks.js';
import { createDoctorAwsApi, createDoctorClients } from './aws-api.js';
import { doctorChecks, isWarning, type DoctorCheck } from './checks.js';
import type { DoctorContext } from './context.js';
import { loadDeployRoleStatements } from './permissions.js';
import { renderDoctorReport } from './render.js';

export interface DoctorFinding extends CheckOutcome {
  category: DoctorCheck['category'];
  /** error: counts for the exit code; warning: doctor could not look, blocks nothing. */
  level: 'ok' | 'error' | 'warning' | 'skipped';
}

export interface DoctorReport {
  ok: boolean;
  exitCode: ExitCodeValue;
  region: string;
  findings: DoctorFinding[];
}

/** 3 when something is missing here (tool, credentials), else 1 when a finding blocks the first stack, else 0. */
export function doctorExitCode(checks: DoctorCheck[], findings: DoctorFinding[]): ExitCodeValue {
  const failed = findings.filter((f) => f.level === 'error').map((f) => checks.find((c) => c.id === f.id));
  if (failed.some((c) => c?.onFail === 'environment')) return ExitCode.environment;
  if (failed.length > 0) return ExitCode.checkFailed;
  return ExitCode.ok;
}

export async function runDoctor(ctx: DoctorContext, checks: DoctorCheck[] = doctorChecks(), events: Parameters<typeof runChecks>[4] = {}): Promise<DoctorReport> {
  const report = await runChecks('doctor', 'aws', checks, ctx, events);
  const findings: DoctorFinding[] = report.checks.map((o) => ({
    ...o,
    category: checks.find((c) => c.id === o.id)?.category ?? 'tools',
    level: o.status === 'pass' ? 'ok' : o.status === 'skip' ? 'skipped' : isWarning(o.data) ? 'warning' : 'error',
  }));
  const exitCode = doctorExitCode(checks, findings);
  return { ok: exitCode === ExitCode.ok, exitCode, region: ctx.region, findings };
}

export async function doctorCommand(ctx: CommandContext, opts: DoctorOptions): Promise<number> {
  const doctor: DoctorContext = {
    config: ctx.loaded.config,
    region: opts.aws.region,
    aws: createDoctorAwsApi(createDoctorClients(opts.aws)),
    run: createExecaRunner(ctx.signal),
    loadPermissionStatements: () => loadDeployRoleStatements(path.join(MESHGW_ROOT, 'templates')),
  };
  let step: ReturnType<typeof ctx.reporter.step> | undefined;
  const report = await runDoctor(doctor, doctorChecks(), {
    onStart: (c) => void (step = ctx.reporter.step(c.title)),
    onDone: (o) => {
      if (o.status === 'pass') step?.succeed(`${o.title}: ${o.detail}`);
      else step?.fail(`${o.title}: ${o.detail}`);
      step = undefined;
    },
  });
  ctx.reporter.result(report, () => renderDoctorReport(report));
  return report.exitCode;
}
