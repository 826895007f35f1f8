import { GetAccountCommand } from '@aws-sdk/client-api-gateway';
import type { CommandContext } from '../cli/context.js';
import type { AwsTargetOptions, ClusterOverride } from '../cli/options.js';
import type { MeshgwConfig } from '../config/schema.js';
import type { CleanupResult } from '../k8s/cleanup.js';
import { createAwsClients } from './clients.js';
import { createCloudFormationApi, type CloudFormationApi } from './cloudformation-api.js';
import { createConfirm } from './confirm.js';
import { resolveCallerIdentity, type CallerIdentity } from './credentials.js';
import type { Confirm } from './deploy-stack.js';
import { DEFAULT_TIMING, type PollTiming } from './polling.js';
import { gatherStackInputs } from './stack-inputs.js';
import { loadBaseTemplate, renderTemplate, type RenderedTemplate } from './template.js';

/** Everything the aws commands touch outside themselves; tests replace any part. */
export interface AwsCommandDeps {
  region: string;
  cfn: CloudFormationApi;
  identity(): Promise<CallerIdentity>;
  confirm: Confirm;
  renderTemplate(cfg: MeshgwConfig): Promise<RenderedTemplate>;
  /** Kubernetes objects that own AWS resources (load balancers), removed from the stack's cluster before the stack. */
  removeDeployedObjects(clusterName: string): Promise<CleanupResult>;
  timing: PollTiming;
}

/** What the aws commands' dependencies depend on: where, as whom, whether to ask, and any kubeconfig override (down). */
export interface AwsDepsOptions {
  aws: AwsTargetOptions;
  yes: boolean;
  cluster?: ClusterOverride;
}

/** The real dependencies: SDK clients through createAwsClients, stdin for questions. */
export function createAwsCommandDeps(ctx: CommandContext, opts: AwsDepsOptions, overrides: Partial<AwsCommandDeps> = {}): AwsCommandDeps {
  const { region, profile } = opts.aws;
  const yes = opts.yes;
  const clients = createAwsClients({ region, profile });
  const cfn = createCloudFormationApi(clients.cloudformation);
  return {
    region,
    cfn,
    identity: () => resolveCallerIdentity(clients.sts, { region, profile }),
    confirm: createConfirm({ yes, input: process.stdin, output: process.stderr }),
    renderTemplate: async (cfg) => {
      const inputs = await gatherStackInputs(cfg, {
        deployedParameters: async () => (await cfn.describeStack(cfg.aws.stackName))?.parameters,
        accountCloudWatchRoleArn: async () => (await clients.apiGateway.send(new GetAccountCommand({}))).cloudwatchRoleArn,
      });
      return renderTemplate(cfg, await loadBaseTemplate(), inputs);
    },
    removeDeployedObjects: async (clusterName) => {
      const [{ removeDeployedObjects }, { connectStackCluster, stackClusterDeps }] = await Promise.all([import('../k8s/cleanup.js'), import('../k8s/stack-cluster.js')]);
      return removeDeployedObjects(ctx, () => connectStackCluster({ clusterName, region }, opts.cluster ?? {}, stackClusterDeps(clients)));
    },
    timing: DEFAULT_TIMING,
    ...overrides,
  };
}
