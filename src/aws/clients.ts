import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECRClient } from '@aws-sdk/client-ecr';
import { EKSClient } from '@aws-sdk/client-eks';
import { STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';

export interface AwsClientOptions {
  region: string;
  profile?: string;
}

/** What every client shares: the region, one credential chain (resolved once, cached), retries. */
export interface AwsClientConfig {
  region: string;
  credentials: ReturnType<typeof fromNodeProviderChain>;
  maxAttempts: number;
}

export interface AwsClients {
  region: string;
  /** The credential chain the clients sign with; the EKS token is signed with the same one. */
  credentials: AwsClientConfig['credentials'];
  cloudformation: CloudFormationClient;
  ecr: ECRClient;
  apiGateway: APIGatewayClient;
  logs: CloudWatchLogsClient;
  /** The stack's alarms, read back by `verify mtls`. */
  cloudwatch: CloudWatchClient;
  sts: STSClient;
  eks: EKSClient;
}

/**
 * Credentials follow the SDK's usual chain (env, profile, SSO, instance role) with --profile
 * honoured; AWS_ENDPOINT_URL is honoured by the SDK itself, which is how tests point every client
 * at moto's server on loopback. Other features (doctor) build their extra clients from this too.
 */
export function awsClientConfig(opts: AwsClientOptions): AwsClientConfig {
  return {
    region: opts.region,
    credentials: fromNodeProviderChain(opts.profile ? { profile: opts.profile } : {}),
    maxAttempts: 5,
  };
}

/** The one factory for the AWS SDK clients the aws commands use. */
export function createAwsClients(opts: AwsClientOptions): AwsClients {
  const common = awsClientConfig(opts);
  return {
    region: opts.region,
    credentials: common.credentials,
    cloudformation: new CloudFormationClient(common),
    ecr: new ECRClient(common),
    apiGateway: new APIGatewayClient(common),
    logs: new CloudWatchLogsClient(common),
    cloudwatch: new CloudWatchClient(common),
    sts: new STSClient(common),
    eks: new EKSClient(common),
  };
}
