import path from 'node:path';
import type { CommandContext } from '../cli/context.js';
import type { DeployOptions } from '../cli/options.js';
import { ExitCode, MeshgwError } from '../errors.js';
import { guardAwsErrors } from '../aws/aws-errors.js';
import { readStackOutputs } from '../aws/outputs.js';
import { imageRef, readImagesRecord } from '../aws/push-record.js';
import { createExecaRunner } from '../aws/push-runner.js';
import { readMeshCa } from '../pki/store.js';
import { deployMesh, renderForDeploy, type DeployResult } from './deploy.js';
import { manifestsToYaml } from './manifests/index.js';
import { TABLE_OUTPUTS } from './manifests/workloads.js';
import { describeProblem } from './rollout.js';

const DEFAULT_ROLLOUT_DEADLINE_MS = 10 * 60_000;
const DEFAULT_POLL_MS = 3_000;

/** `meshgw deploy`: thin wiring around deployMesh; `--dry-run` prints the manifests. */
async function downloadText(url: string): Promise<string> {
  const res = await fetch(url, { redirect: 'follow' });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return res.text();
}

/** Images by digest from the last push; for --dry-run before any push, placeholders that say so. */
async function imagesFor(ctx: CommandContext, dryRun: boolean): Promise<Record<string, string>> {
  const { config, stateDir } = ctx.loaded;
  let images: Record<string, string> = {};
  try {
    const record = await readImagesRecord(stateDir);
    images = Object.fromEntries(record.images.map((i) => [i.service, imageRef(i)]));
  } catch (err) {
    if (!dryRun) throw err;
  }
  const missing = Object.keys(config.services).filter((s) => !images[s]);
  if (missing.length && !dryRun) throw new MeshgwError('STATE_MISSING', `no pushed image for ${missing.join(', ')}`, 'Run `meshgw push` again: the config has services the last push did not build.');
  if (missing.length) ctx.reporter.warn(`no pushed image for ${missing.join(', ')}: the dry run shows placeholders (run \`meshgw push\` first)`);
  for (const s of missing) images[s] = `meshgw-${s}:not-pushed-yet`;
  return images;
}

/** users' and orders' DynamoDB tables from the stack outputs; undefined when the stack predates them. */
function dataTablesFrom(outputs: Record<string, string> | undefined): Record<string, string> | undefined {
  const tables: Record<string, string> = {};
  for (const [service, output] of Object.entries(TABLE_OUTPUTS)) {
    const table = outputs?.[output];
    if (!table) return undefined;
    tables[service] = table;
  }
  return tables;
}

/** `meshgw deploy`: thin wiring around deployMesh; `--dry-run` prints the manifests. */
export async function deployToCluster(ctx: CommandContext, opts: DeployOptions): Promise<number> {
  const { config, stateDir } = ctx.loaded;
  const dryRun = opts.dryRun;
  const outputs = await readStackOutputs(stateDir, config.aws.stackName).catch((err: unknown) => {
    if (dryRun) return undefined;
    throw err;
  });
  const images = await imagesFor(ctx, dryRun);
  const ingressNodePort = Number(outputs?.IngressNodePort || config.aws.ingressNodePort);
  if (dryRun) {
    // Secret values are masked in the printout, so no real token secret is needed (or created) for it.
    const objects = renderForDeploy({ config, images, ingressNodePort, tokenSecret: 'dry-run', dataTables: dataTablesFrom(outputs) });
    ctx.reporter.result({ type: 'dry-run', objects: objects.length }, () => manifestsToYaml(objects));
    return ExitCode.ok;
  }
  const dataTables = dataTablesFrom(outputs);
  // Without them users and orders would refuse to start in their pods: stop before touching the cluster.
  if (!dataTables) {
    throw new MeshgwError(
      'STATE_MISSING',
      `stack ${config.aws.stackName} has no ${Object.values(TABLE_OUTPUTS).join(' / ')} outputs (the users and orders DynamoDB tables)`,
      'Run `meshgw up --target aws` again: it adds the tables to the stack and saves their names.',
    );
  }
  const [{ createClusterApi }, { createAwsClients }, { connectStackCluster, stackClusterDeps, stackClusterName }] = await Promise.all([
    import('./client.js'),
    import('../aws/clients.js'),
    import('./stack-cluster.js'),
  ]);
  // The stack's own cluster, found through EKS: never whatever the kubeconfig's current context is.
  const target = { clusterName: stackClusterName(outputs, config.aws.clusterName), region: opts.aws.region };
  const connection = await guardAwsErrors(opts.aws, () => connectStackCluster(target, opts.cluster, stackClusterDeps(createAwsClients(opts.aws))));
  ctx.reporter.info(`cluster ${connection.clusterName} at ${connection.server} (${connection.via === 'eks-token' ? 'EKS token' : 'kubeconfig'})`);
  const api = createClusterApi(connection.kubeConfig);
  // The CA and token secret come from the cluster (or the root store), never from whatever this machine has: a CI runner has nothing.
  const { prepareClusterSecrets, describeClusterSecrets } = await import('./cluster-secrets.js');
  const { createMeshRootStore } = await import('./mesh-root-store.js');
  const roots = createMeshRootStore(config.aws.stackName, opts.aws);
  const legacyRoot = await readMeshCa(path.join(stateDir, 'pki'));
  const secrets = await guardAwsErrors(opts.aws, () => prepareClusterSecrets({ api, roots }, { config, stateDir, legacyRoot }));
  ctx.reporter.info(describeClusterSecrets(secrets.summary));
  const tokenSecret = secrets.tokenSecret;
  const step = ctx.reporter.step(`deploying to ${config.mesh.namespace}`);
  let result: DeployResult;
  try {
    result = await deployMesh(
      { config, images, ingressNodePort, tokenSecret, dataTables, awsRegion: opts.aws.region, cacerts: { mode: secrets.summary.ca.type }, rollout: { deadlineMs: DEFAULT_ROLLOUT_DEADLINE_MS, pollMs: DEFAULT_POLL_MS, signal: ctx.signal } },
      { api, run: createExecaRunner(ctx.signal), fetchText: downloadText },
      { onStep: (t) => step.update(t), onRollout: (p) => step.update(`rollout: ${p.map((d) => `${d.name} ${d.available}/${d.replicas}`).join(', ')}`) },
    );
  } catch (err) {
    step.fail('deploy failed');
    throw err;
  }
  if (result.type === 'failed') {
    step.fail('rollout did not finish');
    ctx.reporter.result(result, () => result.problems.map(describeProblem).join('\n'));
    return ExitCode.checkFailed;
  }
  step.succeed(`deployed: ${result.applied.length} objects applied, ${result.pruned.length} pruned`);
  ctx.reporter.result(result, () => [`Istio: ${result.istio}${result.tool ? ` (${result.tool})` : ''}; Gateway API: ${result.gatewayApi}; mesh CA: ${result.caMode}`, ...result.deployments.map((d) => `${d.name.padEnd(10)} ${d.available}/${d.replicas} available`)].join('\n'));
  return ExitCode.ok;
}
