/** `meshgw top`: the mesh's edges live (text), or one window as JSON. */
import type { CommandContext } from '../cli/context.js';
import type { AwsTargetOptions, ClusterOverride } from '../cli/options.js';
import { ExitCode } from '../errors.js';
import { loadShippedAlerts } from './alerts.js';
import { createLocalSource } from './local-source.js';
import type { TopOptions } from './options.js';
import { CLEAR_SCREEN, renderTop } from './render.js';
import { abortableSleep, measureTop, watchTop, type TopDeps } from './session.js';
import type { ScrapeSource } from './types.js';

async function localSource(ctx: CommandContext): Promise<ScrapeSource> {
  const [{ inspectLocalStack }, { readRunState }] = await Promise.all([import('../local/stack.js'), import('../local/state.js')]);
  const stateDir = ctx.loaded.stateDir;
  let checked = false;
  return createLocalSource(ctx.loaded, {
    // The first round checks the processes (a stale run.json is not a stack); later rounds only re-read the record.
    async readRun() {
      if (checked) return readRunState(stateDir);
      checked = true;
      const found = await inspectLocalStack(stateDir);
      return found.type === 'not-running' ? undefined : found.run;
    },
  });
}

async function awsSource(ctx: CommandContext, aws: AwsTargetOptions, cluster: ClusterOverride): Promise<ScrapeSource> {
  const [{ createAwsClients }, { guardAwsErrors }, { readStackOutputs }, { connectStackCluster, stackClusterDeps, stackClusterName }, { createPodMetricsApi }, { createEksSource }] = await Promise.all([
    import('../aws/clients.js'),
    import('../aws/aws-errors.js'),
    import('../aws/outputs.js'),
    import('../k8s/stack-cluster.js'),
    import('./pod-metrics-api.js'),
    import('./eks-source.js'),
  ]);
  const { config, stateDir } = ctx.loaded;
  // A CI runner has no saved outputs: the configured cluster name is the stack's unless `up` said otherwise.
  const outputs = await readStackOutputs(stateDir, config.aws.stackName).catch(() => undefined);
  const target = { clusterName: stackClusterName(outputs, config.aws.clusterName), region: aws.region };
  const connection = await guardAwsErrors(aws, () => connectStackCluster(target, cluster, stackClusterDeps(createAwsClients(aws))));
  return createEksSource(config, createPodMetricsApi(connection.kubeConfig));
}

export async function topCommand(ctx: CommandContext, opts: TopOptions, aws: AwsTargetOptions, cluster: ClusterOverride): Promise<number> {
  const source = ctx.target === 'aws' ? await awsSource(ctx, aws, cluster) : await localSource(ctx);
  const deps: TopDeps = { source, alerts: await loadShippedAlerts(), sleep: abortableSleep };
  const run = { intervalMs: opts.intervalSeconds * 1000, signal: ctx.signal };
  if (ctx.reporter.mode === 'json') {
    const snapshot = await measureTop(deps, run);
    ctx.reporter.result(snapshot, () => renderTop(snapshot, { live: false }));
    return ExitCode.ok;
  }
  const started = () => ctx.reporter.info(`scraping ${source.target === 'local' ? 'the local stack' : 'the cluster'} every ${opts.intervalSeconds} s; the first figures follow in ${opts.intervalSeconds} s`);
  const clear = process.stdout.isTTY ? CLEAR_SCREEN : '';
  await watchTop(deps, { ...run, onStarted: started }, (s) => ctx.reporter.result(s, () => clear + renderTop(s, { live: true })));
  return ExitCode.ok;
}
