import type { CommandContext } from '../cli/context.js';
import type { MeshgwConfig } from '../config/schema.js';
import { MeshgwError } from '../errors.js';
import type { CleanupResult } from '../k8s/cleanup.js';
import { createAwsClients } from './clients.js';
import { createCloudFormationApi, type CloudFormationApi } from './cloudformation-api.js';
import { createConfirm } from './confirm.js';
import { resolveCallerIdentity, type CallerIdentity } from './credentials.js';
import type { Confirm } from './deploy-stack.js';
import { DEFAULT_TIMING, type PollTiming } from './polling.js';
import { loadBaseTemplate, renderTemplate, type RenderedTemplate } from './template.js';

/** Everything the aws commands touch outside themselves; tests replace any part. */
export interface AwsCommandDeps {
  region: string;
  cfn: CloudFormationApi;
  identity(): Promise<CallerIdentity>;
  confirm: Confirm;
  renderTemplate(cfg: MeshgwConfig): Promise<RenderedTemplate>;
  /** Kubernetes objects that own AWS resources (load balancers), removed before the stack. */
  removeDeployedObjects(): Promise<CleanupResult>;
  timing: PollTiming;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** The AWS options every aws command takes, checked once. */
export function awsOptions(ctx: CommandContext, opts: Record<string, unknown>): { region: string; profile?: string; yes: boolean } {
  const region = typeof opts.region === 'string' ? opts.region : ctx.loaded.config.aws.region;
  if (!REGION.test(region)) throw new MeshgwError('USAGE', `--region: expected an AWS region such as us-east-1, got "${region}"`);
  const profile = typeof opts.profile === 'string' ? opts.profile : undefined;
  return { region, profile, yes: opts.yes === true };
}

/** The real dependencies: SDK clients through createAwsClients, stdin for questions. */
export function createAwsCommandDeps(ctx: CommandContext, opts: Record<string, unknown>, overrides: Partial<AwsCommandDeps> = {}): AwsCommandDeps {
  const { region, profile, yes } = awsOptions(ctx, opts);
  const clients = createAwsClients({ region, profile });
  return {
    region,
    cfn: createCloudFormationApi(clients.cloudformation),
    identity: () => resolveCallerIdentity(clients.sts, { region, profile }),
    confirm: createConfirm({ yes, input: process.stdin, output: process.stderr }),
    renderTemplate: async (cfg) => renderTemplate(cfg, await loadBaseTemplate()),
    removeDeployedObjects: async () => (await import('../k8s/cleanup.js')).removeDeployedObjects(ctx, opts),
    timing: DEFAULT_TIMING,
    ...overrides,
  };
}
