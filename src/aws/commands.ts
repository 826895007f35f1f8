import { rm } from 'node:fs/promises';
import type { CommandContext } from '../cli/context.js';
import type { ChangeSetOptions, DownOptions, StatusOptions } from '../cli/options.js';
import type { Step } from '../cli/reporter.js';
import { ExitCode, MeshgwError } from '../errors.js';
import type { StackEvent } from './cloudformation-api.js';
import { guardAwsErrors } from './aws-errors.js';
import { createAwsCommandDeps, type AwsCommandDeps } from './command-deps.js';
import { deleteStack } from './delete-stack.js';
import { deployStack, type DeployObserver } from './deploy-stack.js';
import { outputsFile, writeStackOutputs } from './outputs.js';
import type { FirstFailure } from './stack-events.js';
import { describeFailure, renderChangeSet, renderEvent, renderOutputs, renderStatus } from './stack-render.js';
import { readStackStatus } from './stack-status.js';
import type { RenderedTemplate } from './template.js';

const STATUS_EVENTS = 10;
const RESUME_HINT = 'The operation goes on in AWS; `meshgw status --target aws` shows where it is.';

/** `meshgw up --target aws`. */
export async function upAws(ctx: CommandContext, opts: ChangeSetOptions): Promise<number> {
  return guardAwsErrors(opts.aws, () => runUpAws(ctx, opts, createAwsCommandDeps(ctx, opts)));
}

/** `meshgw status --target aws`. */
export async function statusAws(ctx: CommandContext, opts: StatusOptions): Promise<number> {
  return guardAwsErrors(opts.aws, () => runStatusAws(ctx, opts, createAwsCommandDeps(ctx, { aws: opts.aws, yes: false })));
}

/** `meshgw down --target aws`. */
export async function downAws(ctx: CommandContext, opts: DownOptions): Promise<number> {
  return guardAwsErrors(opts.aws, () => runDownAws(ctx, createAwsCommandDeps(ctx, opts)));
}

export async function runUpAws(ctx: CommandContext, opts: Pick<ChangeSetOptions, 'dryRun'>, deps: AwsCommandDeps): Promise<number> {
  const { config } = ctx.loaded;
  const who = await deps.identity();
  ctx.reporter.info(`AWS account ${who.account} as ${who.arn}, region ${deps.region}, stack ${config.aws.stackName}`);
  return deployAndReport(ctx, opts, deps, config.aws.stackName, await deps.renderTemplate(config));
}

/**
 * Deploys one stack through a change set and reports it; shared by `up --target aws` and
 * `ci-role` (the GitHub OIDC deploy role's own small stack).
 */
export async function deployAndReport(ctx: CommandContext, opts: Pick<ChangeSetOptions, 'dryRun'>, deps: AwsCommandDeps, stackName: string, rendered: RenderedTemplate): Promise<number> {
  const { stateDir } = ctx.loaded;
  const progress = new Progress(ctx);
  const observer: DeployObserver = {
    phase: (text) => progress.phase(text),
    changeSet: (cs, operation) => {
      progress.done();
      ctx.reporter.info(renderChangeSet(cs, operation));
    },
    event: (e) => progress.event(e),
    notice: (text) => {
      progress.done();
      ctx.reporter.warn(text);
    },
  };
  const result = await progress.around(() =>
    deployStack(deps.cfn, { stackName, rendered, dryRun: opts.dryRun, confirm: deps.confirm, timing: deps.timing, signal: ctx.signal, observer }),
  );

  switch (result.type) {
    case 'deployed':
    case 'no-changes': {
      progress.done(result.type === 'deployed' ? `stack ${stackName} ${result.status}` : undefined);
      const file = await writeStackOutputs(stateDir, stackName, result.outputs);
      const headline = result.type === 'deployed' ? `Stack ${stackName}: ${result.status}.` : `Stack ${stackName}: no changes (${result.status}).`;
      ctx.reporter.result({ ...result, events: undefined, outputsFile: file }, () => `${headline}\n${renderOutputs(result.outputs)}\nSaved to ${file}`);
      return ExitCode.ok;
    }
    case 'dry-run':
      ctx.reporter.result(result, () => `Dry run: change set for ${stackName} computed and deleted; nothing was executed.`);
      return ExitCode.ok;
    case 'declined':
      ctx.reporter.result(result, () => `Nothing was changed on ${stackName}.`);
      return ExitCode.ok;
    case 'detached':
      return detached(progress, stackName, result.reason, result.status);
    case 'failed':
      progress.fail(`stack ${stackName} ${result.status}`);
      throw failedError(stackName, result.operation, result.status, result.failure, result.statusReason);
  }
}

export async function runStatusAws(ctx: CommandContext, opts: Pick<StatusOptions, 'drift'>, deps: AwsCommandDeps): Promise<number> {
  const stackName = ctx.loaded.config.aws.stackName;
  await deps.identity();
  const drift = opts.drift;
  const step = drift ? ctx.reporter.step(`detecting drift on ${stackName}`) : undefined;
  let report;
  try {
    report = await readStackStatus(deps.cfn, { stackName, region: deps.region, eventCount: STATUS_EVENTS, drift, timing: deps.timing, signal: ctx.signal });
  } catch (err) {
    step?.fail();
    throw err;
  }
  step?.succeed(`drift: ${report.drift?.status ?? 'stack not deployed'}`);
  ctx.reporter.result(report, () => renderStatus(report));
  return ExitCode.ok;
}

export async function runDownAws(ctx: CommandContext, deps: AwsCommandDeps): Promise<number> {
  const { config, stateDir } = ctx.loaded;
  const stackName = config.aws.stackName;
  const who = await deps.identity();
  ctx.reporter.info(`AWS account ${who.account} as ${who.arn}, region ${deps.region}, stack ${stackName}`);
  const stack = await deps.cfn.describeStack(stackName);
  if (!stack) {
    await rm(outputsFile(stateDir, stackName), { force: true });
    ctx.reporter.result({ type: 'absent', stackName }, () => `Stack ${stackName} does not exist in ${deps.region}; nothing to delete.`);
    return ExitCode.ok;
  }
  if (!(await deps.confirm(`Delete stack ${stackName} (${stack.status}) in ${deps.region}, with its cluster, repositories and API?`))) {
    ctx.reporter.result({ type: 'declined', stackName }, () => `Nothing was deleted.`);
    return ExitCode.ok;
  }
  // Kubernetes objects that created AWS resources inside the VPC go first, or the VPC cannot be deleted.
  const cleanup = await deps.removeDeployedObjects(stack.outputs.ClusterName || config.aws.clusterName);
  ctx.reporter.info(cleanup.type === 'removed' ? `removed ${cleanup.objects} object(s) from the cluster` : `cluster cleanup skipped: ${cleanup.reason}`);

  const progress = new Progress(ctx);
  const result = await progress.around(() =>
    deleteStack(deps.cfn, {
      stackName,
      existing: stack,
      timing: deps.timing,
      signal: ctx.signal,
      observer: { phase: (t) => progress.phase(t), event: (e) => progress.event(e) },
    }),
  );
  switch (result.type) {
    case 'deleted':
    case 'absent':
      progress.done(`stack ${stackName} deleted`);
      await rm(outputsFile(stateDir, stackName), { force: true });
      ctx.reporter.result({ type: 'deleted', stackName, cleanup }, () => `Stack ${stackName} deleted; saved outputs removed.`);
      return ExitCode.ok;
    case 'detached':
      return detached(progress, stackName, result.reason, result.status);
    case 'failed':
      progress.fail(`stack ${stackName} ${result.status}`);
      throw failedError(stackName, 'DELETE', result.status, result.failure, result.statusReason);
  }
}

function failedError(stackName: string, operation: 'CREATE' | 'UPDATE' | 'DELETE', status: string, failure: FirstFailure | undefined, statusReason?: string): MeshgwError {
  const hint =
    operation === 'DELETE'
      ? `Remove or release what keeps ${failure?.logicalId ?? 'that resource'} from being deleted (often something created from the cluster: a load balancer, a network interface), then run \`meshgw down --target aws\` again.`
      : operation === 'CREATE'
        ? 'The stack rolled back and holds nothing. Fix the cause; `meshgw up --target aws` then offers to delete it and create it again.'
        : 'The stack rolled back to its previous state. Fix the cause and run `meshgw up --target aws` again.';
  return new MeshgwError('STACK_FAILED', describeFailure(stackName, status, failure, statusReason), hint);
}

function detached(progress: Progress, stackName: string, reason: 'interrupted' | 'timeout', status?: string): never {
  progress.fail(`stopped watching ${stackName}`);
  const why = reason === 'interrupted' ? 'interrupted' : 'timed out waiting';
  throw new MeshgwError('ABORTED', `${why}: stopped watching stack ${stackName}${status ? ` (last seen ${status})` : ''}`, RESUME_HINT);
}

/** One spinner per phase; each stack event updates it (on a non-terminal each becomes a line). */
class Progress {
  private step: Step | undefined;
  constructor(private readonly ctx: CommandContext) {}

  phase(text: string): void {
    this.done();
    this.step = this.ctx.reporter.step(text);
  }

  event(e: StackEvent): void {
    this.step ??= this.ctx.reporter.step('waiting for CloudFormation');
    this.step.update(renderEvent(e));
  }

  done(text?: string): void {
    this.step?.succeed(text);
    this.step = undefined;
  }

  fail(text?: string): void {
    this.step?.fail(text);
    this.step = undefined;
  }

  /** Runs an operation, marking the open step failed if it throws (a spinner must never outlive it). */
  async around<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      this.fail();
      throw err;
    }
  }
}
