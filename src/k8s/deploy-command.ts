import path from 'node:path';
import type { CommandContext } from '../cli/context.js';
import { ExitCode, MeshgwError } from '../errors.js';
import { readStackOutputs } from '../aws/outputs.js';
import { imageRef, readImagesRecord } from '../aws/push-record.js';
import { createExecaRunner } from '../aws/push-runner.js';
import { ensureMeshPki, readMeshCa } from '../pki/store.js';
import { deployMesh, renderForDeploy, type DeployResult } from './deploy.js';
import { manifestsToYaml } from './manifests/index.js';
import { describeProblem } from './rollout.js';
import { ensureTokenSecret } from './token-secret.js';

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

/** `meshgw deploy`: thin wiring around deployMesh; `--dry-run` prints the manifests. */
export async function deployToCluster(ctx: CommandContext, opts: Record<string, unknown>, _arg?: string): Promise<number> {
  const { config, stateDir } = ctx.loaded;
  const dryRun = Boolean(opts.dryRun);
  const outputs = await readStackOutputs(stateDir, config.aws.stackName).catch((err: unknown) => {
    if (dryRun) return undefined;
    throw err;
  });
  const images = await imagesFor(ctx, dryRun);
  const ingressNodePort = Number(outputs?.IngressNodePort || config.aws.ingressNodePort);
  if (dryRun) {
    // Secret values are masked in the printout, so no real token secret is needed (or created) for it.
    const objects = renderForDeploy({ config, images, ingressNodePort, tokenSecret: 'dry-run' });
    ctx.reporter.result({ type: 'dry-run', objects: objects.length }, () => manifestsToYaml(objects));
    return ExitCode.ok;
  }
  const tokenSecret = await ensureTokenSecret(stateDir);
  const pkiDir = path.join(stateDir, 'pki');
  await ensureMeshPki({ config, pkiDir });
  const meshCa = await readMeshCa(pkiDir);
  if (!meshCa) throw new MeshgwError('STATE_MISSING', `the mesh CA in ${pkiDir} is unreadable`, 'Run `meshgw certs` to recreate it.');
  const { loadKubeConfig, createClusterApi } = await import('./client.js');
  const api = createClusterApi(loadKubeConfig({ kubeconfig: opts.kubeconfig as string | undefined, context: opts.context as string | undefined }));
  const step = ctx.reporter.step(`deploying to ${config.mesh.namespace}`);
  let result: DeployResult;
  try {
    result = await deployMesh(
      { config, images, ingressNodePort, tokenSecret, meshCa, rollout: { deadlineMs: DEFAULT_ROLLOUT_DEADLINE_MS, pollMs: DEFAULT_POLL_MS, signal: ctx.signal } },
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
