import type { MeshgwConfig } from '../config/schema.js';

/** A parameter of the deployed stack as DescribeStacks returns it. */
export interface DeployedParameter {
  value: string;
  /** What an SSM-typed parameter resolved to at the stack's latest operation (ResolvedValue). */
  resolved?: string;
}

/** The stack parameters `meshgw up` decides from the deployed stack and the account, not from meshgw.yaml alone. */
export interface StackInputs {
  /** The worker AMI the stack pins; '' only on a first create without aws.nodeImageId. */
  nodeImageId: string;
  /** The account's API Gateway logging role to reuse; '' lets the stack create (and retain) one. */
  apiGatewayCloudWatchRoleArn: string;
}

/** Where those decisions come from: the real ones call DescribeStacks and API Gateway's GetAccount. */
export interface StackInputSources {
  /** undefined when the stack does not exist yet. */
  deployedParameters(): Promise<Record<string, DeployedParameter> | undefined>;
  /** The CloudWatch role API Gateway already uses in this account and region, if any. */
  accountCloudWatchRoleArn(): Promise<string | undefined>;
}

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

/** Inputs for a template that changes nothing the user did not change (see resolveStackInputs). */
export async function gatherStackInputs(cfg: MeshgwConfig, sources: StackInputSources): Promise<StackInputs> {
  const deployed = await sources.deployedParameters();
  const accountRole = deployed || cfg.aws.apiGatewayCloudWatchRoleArn ? undefined : await sources.accountCloudWatchRoleArn();
  return resolveStackInputs(cfg, deployed, accountRole);
}

/**
 * The AMI: meshgw.yaml's pin, else the AMI the deployed stack runs (its NodeImageId, or what the SSM
 * parameter resolved to when it was created or last updated), else '' and CloudFormation boots the
 * recommended AMI once. A new EKS AMI therefore never replaces the nodes unasked.
 * The logging role: meshgw.yaml's, else what the deployed stack was given, else (first create) the
 * role the account already uses, so that up/down cycles do not leave one retained role each.
 */
export function resolveStackInputs(cfg: MeshgwConfig, deployed: Record<string, DeployedParameter> | undefined, accountRoleArn: string | undefined): StackInputs {
  const candidates = [deployed?.NodeImageId?.value, deployed?.NodeImageId?.resolved, deployed?.RecommendedNodeImageId?.resolved];
  const nodeImageId = cfg.aws.nodeImageId ?? candidates.find((v): v is string => v !== undefined && AMI_ID.test(v)) ?? '';
  const apiGatewayCloudWatchRoleArn = cfg.aws.apiGatewayCloudWatchRoleArn ?? (deployed ? (deployed.ApiGatewayCloudWatchRoleArn?.value ?? '') : (accountRoleArn ?? ''));
  return { nodeImageId, apiGatewayCloudWatchRoleArn };
}
