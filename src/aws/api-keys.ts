/** The API keys of the stack, with their secret values, read through the API Gateway API. */
import { GetApiKeyCommand, type APIGatewayClient } from '@aws-sdk/client-api-gateway';
import type { MeshgwConfig } from '../config/schema.js';
import { MeshgwError } from '../errors.js';
import type { ApiKeyRecord } from '../gateway/spec.js';
import { parsePairs } from './outputs.js';

/** The usage plan a key belongs to, from meshgw.yaml (the plan that lists the key's name). */
export function planOfKey(config: MeshgwConfig, keyName: string): string | undefined {
  return config.gateway.usagePlans.find((p) => p.apiKeys.includes(keyName))?.name;
}

/** GetApiKey with includeValue for each "name=id" in ApiKeyIds. Values are secrets: callers never print them. */
export async function readApiKeyRecords(apiGateway: APIGatewayClient, config: MeshgwConfig, apiKeyIds: string): Promise<ApiKeyRecord[]> {
  const pairs = parsePairs(apiKeyIds);
  const records: ApiKeyRecord[] = [];
  for (const [name, id] of Object.entries(pairs)) {
    const key = await apiGateway.send(new GetApiKeyCommand({ apiKey: id, includeValue: true }));
    if (!key.value) throw new MeshgwError('CREDENTIALS_MISSING', `API key ${name} (${id}) came back without its value`, 'The caller needs apigateway:GET on /apikeys/*; check the AWS credentials.');
    const plan = planOfKey(config, name);
    if (!plan) throw new MeshgwError('CONFIG_INVALID', `API key ${name} in the stack is in no usage plan of meshgw.yaml`, 'Run `meshgw up --target aws` again so the stack matches the config.');
    records.push({ id, name, plan, value: key.value });
  }
  return records;
}
