/** Wiring verify resilience on aws: the stack's cluster, the invoke URL's order load and shopper. */
import { randomBytes } from 'node:crypto';
import type { AwsClients } from '../../aws/clients.js';
import type { StackOutputs } from '../../aws/outputs.js';
import type { CommandContext } from '../../cli/context.js';
import type { VerifyOptions } from '../../cli/options.js';
import { MeshgwError } from '../../errors.js';
import type { Check } from '../checks.js';
import type { GatewayEndpoint } from '../target.js';
import type { AwsResilienceContext } from './resilience-context.js';
import type { AwsShopper } from './resilience-setup.js';

/** The shopper through the invoke URL: as locally, 100 rps or 90 % of the key's POST /orders limit. */
async function openAwsShopper(ctx: AwsResilienceContext, rate: number | undefined): Promise<AwsShopper> {
  const [{ standardKey, ShopClient }, { openSession }, { bindingLimit, orderLevels }] = await Promise.all([import('../auth/shop-client.js'), import('../auth/session.js'), import('../throttle/phase.js')]);
  const key = standardKey(ctx.endpoint);
  if (!key) throw new MeshgwError('CHECK_FAILED', 'no API key is configured', 'Add a usage plan with an API key to meshgw.yaml (gateway.usagePlans) and run `meshgw up --target aws`.');
  const client = new ShopClient(ctx.endpoint.baseUrl);
  try {
    const session = await openSession(client, key.value);
    const limit = bindingLimit(orderLevels(ctx.config.gateway, key)).rate;
    return { key, token: session.login.token, productId: session.productId, rate: Math.max(1, Math.min(rate ?? 100, Math.floor(limit * 0.9))) };
  } finally {
    await client.close();
  }
}

export async function awsResilienceChecksFor(opts: VerifyOptions): Promise<Check<AwsResilienceContext>[]> {
  const { awsResilienceChecks } = await import('./resilience-checks.js');
  return awsResilienceChecks({ quick: opts.throttle.quick }, { shopper: (ctx) => openAwsShopper(ctx, undefined) });
}

export async function buildAwsResilienceContext(ctx: CommandContext, opts: VerifyOptions, clients: AwsClients, outputs: StackOutputs, endpoint: GatewayEndpoint): Promise<AwsResilienceContext> {
  const { config } = ctx.loaded;
  const [{ createClusterApi }, { connectStackCluster, stackClusterDeps, stackClusterName }, { createExec }, { createResilienceCluster }, { runOrderLoad }] = await Promise.all([
    import('../../k8s/client.js'),
    import('../../k8s/stack-cluster.js'),
    import('./cluster-access.js'),
    import('./resilience-context.js'),
    import('../resilience/order-load.js'),
  ]);
  const { kubeConfig: kc } = await connectStackCluster({ clusterName: stackClusterName(outputs, config.aws.clusterName), region: opts.aws.region }, opts.cluster, stackClusterDeps(clients));
  return {
    config,
    endpoint,
    cluster: createResilienceCluster(createClusterApi(kc), kc, createExec(kc)),
    load: runOrderLoad,
    runId: randomBytes(3).toString('hex'),
    signal: ctx.signal,
    pollMs: 2_000,
  };
}
