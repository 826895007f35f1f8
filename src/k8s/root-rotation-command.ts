/** `meshgw certs rotate-root [start|switch|finish|status] --target aws`: thin wiring around rotateRoot. */
import type { CommandContext } from '../cli/context.js';
import type { AwsClientOptions } from '../aws/clients.js';
import { ExitCode } from '../errors.js';
import { guardAwsErrors } from '../aws/aws-errors.js';
import { readStackOutputs } from '../aws/outputs.js';
import { describeProblem } from './rollout.js';
import type { RotationResult, RotationStatus, RotationStep } from './root-rotation.js';
import type { ClusterOverride } from './stack-cluster.js';

/** istiod is one small Deployment; a rollout longer than this is a problem worth reporting. */
const ISTIOD_ROLLOUT_DEADLINE_MS = 5 * 60_000;
const POLL_MS = 3_000;

export async function rotateRootCommand(ctx: CommandContext, opts: { step: RotationStep; aws: AwsClientOptions; cluster: ClusterOverride }): Promise<number> {
  const { config, stateDir } = ctx.loaded;
  const [{ createClusterApi }, { createAwsClients }, { connectStackCluster, stackClusterDeps, stackClusterName }, { createMeshRootStore }, { rotateRoot }] = await Promise.all([
    import('./client.js'),
    import('../aws/clients.js'),
    import('./stack-cluster.js'),
    import('./mesh-root-store.js'),
    import('./root-rotation.js'),
  ]);
  // A CI runner may have no saved outputs: the configured cluster name is then the stack's.
  const outputs = await readStackOutputs(stateDir, config.aws.stackName).catch(() => undefined);
  const target = { clusterName: stackClusterName(outputs, config.aws.clusterName), region: opts.aws.region };
  const connection = await guardAwsErrors(opts.aws, () => connectStackCluster(target, opts.cluster, stackClusterDeps(createAwsClients(opts.aws))));
  const api = createClusterApi(connection.kubeConfig);
  const roots = createMeshRootStore(config.aws.stackName, opts.aws);
  const step = ctx.reporter.step(opts.step === 'status' ? 'reading the mesh root rotation state' : `root rotation: ${opts.step}`);
  let result: RotationResult;
  try {
    result = await guardAwsErrors(opts.aws, () =>
      rotateRoot(opts.step, { api, roots, istiodRollout: { deadlineMs: ISTIOD_ROLLOUT_DEADLINE_MS, pollMs: POLL_MS, signal: ctx.signal } }, { namespace: config.mesh.namespace, rootLifetimeDays: config.mesh.caLifetimeDays, intermediateLifetimeDays: config.mesh.caLifetimeDays }),
    );
  } catch (err) {
    step.fail(`rotate-root ${opts.step} refused`);
    throw err;
  }
  if (result.type === 'failed') {
    step.fail('istiod did not roll out: workloads were not restarted');
    ctx.reporter.result(result, () => [...result.problems.map(describeProblem), '', `next: ${result.status.next}`].join('\n'));
    return ExitCode.checkFailed;
  }
  step.succeed(result.type === 'status' ? `phase: ${result.status.phase}` : `${result.type}: phase now ${result.status.phase}`);
  ctx.reporter.result(result, () => renderRotation(result.status, result.type === 'status' ? [] : result.restarted));
  return ExitCode.ok;
}

function renderRotation(status: RotationStatus, restarted: string[]): string {
  const lines = status.roots.map((r, i) => `root ${i + 1}  ${r.fingerprint.slice(0, 23)}…  ${r.subject}  until ${r.notAfter}${r.fingerprint === status.signer.chainsTo ? '  (istiod signs under this one)' : ''}`);
  if (restarted.length) lines.push(`restarted: ${restarted.join(', ')}`);
  lines.push(`next: ${status.next}`);
  return lines.join('\n');
}
