import type { AwsClients } from '../../aws/clients.js';
import { readApiKeyRecords } from '../../aws/api-keys.js';
import { readStackOutputs } from '../../aws/outputs.js';
import type { LoadedConfig } from '../../config/load.js';
import { MeshgwError } from '../../errors.js';
import type { GatewayEndpoint } from '../target.js';

/** The API Gateway invoke URL and every key with its value: what the throttle and auth checks drive on aws. */
export async function resolveAwsEndpoint(ctx: { loaded: Pick<LoadedConfig, 'config' | 'stateDir'> }, clients: Pick<AwsClients, 'apiGateway'>): Promise<GatewayEndpoint> {
  const { config, stateDir } = ctx.loaded;
  const outputs = await readStackOutputs(stateDir, config.aws.stackName);
  if (!outputs.InvokeUrl) throw new MeshgwError('STATE_MISSING', `the outputs of stack ${config.aws.stackName} have no InvokeUrl`, 'Run `meshgw up --target aws` again; it saves the outputs.');
  const apiKeys = await readApiKeyRecords(clients.apiGateway, config, outputs.ApiKeyIds ?? '');
  return { target: 'aws', config, baseUrl: outputs.InvokeUrl.replace(/\/+$/, ''), apiKeys };
}
