import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECRClient } from '@aws-sdk/client-ecr';
import { STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';

export interface AwsClientOptions {
  region: string;
  profile?: string;
}

export interface AwsClients {
  region: string;
  cloudformation: CloudFormationClient;
  ecr: ECRClient;
  apiGateway: APIGatewayClient;
  logs: CloudWatchLogsClient;
  sts: STSClient;
}

/**
 * The one factory for AWS SDK clients. Credentials follow the SDK's usual chain (env, profile,
 * SSO, instance role); AWS_ENDPOINT_URL is honoured by the SDK itself, which is how tests point
 * every client at moto's server on loopback.
 */
export function createAwsClients(opts: AwsClientOptions): AwsClients {
  const common = {
    region: opts.region,
    credentials: fromNodeProviderChain(opts.profile ? { profile: opts.profile } : {}),
    maxAttempts: 5,
  };
  return {
    region: opts.region,
    cloudformation: new CloudFormationClient(common),
    ecr: new ECRClient(common),
    apiGateway: new APIGatewayClient(common),
    logs: new CloudWatchLogsClient(common),
    sts: new STSClient(common),
  };
}
