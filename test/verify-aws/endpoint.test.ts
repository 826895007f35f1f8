import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { APIGatewayClient, CreateApiKeyCommand, CreateRestApiCommand, CreateUsagePlanCommand, CreateUsagePlanKeyCommand } from '@aws-sdk/client-api-gateway';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import { writeStackOutputs } from '../../src/aws/outputs.js';
import { createEcrApi } from '../../src/aws/ecr.js';
import { MeshgwError } from '../../src/errors.js';
import { resolveAwsEndpoint } from '../../src/verify/aws/endpoint.js';
import { startMoto, type MotoServer } from '../aws/moto-server.js';
import { repoConfig } from '../k8s/fixtures.js';

const root = path.resolve(new URL('../../..', import.meta.url).pathname);
const REGION = 'us-east-1';
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

let moto: MotoServer;
let stateDir: string;

before(async () => {
  moto = await startMoto(root);
  stateDir = await mkdtemp(path.join(tmpdir(), 'meshgw-verify-aws-'));
});
after(async () => {
  await moto?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

describe('the aws endpoint for verify (against moto)', () => {
  it('reads each API key value with GetApiKey includeValue and maps it to its usage plan', async () => {
    const apiGateway = new APIGatewayClient({ region: REGION, endpoint: moto.endpoint, credentials });
    const api = await apiGateway.send(new CreateRestApiCommand({ name: 'meshgw' }));
    const ids: Record<string, string> = {};
    const values: Record<string, string> = { 'demo-standard': 'standard-value-0123456789abcdefghij', 'demo-limited': 'limited-value-0123456789abcdefghijk' };
    for (const plan of repoConfig().gateway.usagePlans) {
      const up = await apiGateway.send(new CreateUsagePlanCommand({ name: plan.name, throttle: { rateLimit: plan.throttle.rate, burstLimit: plan.throttle.burst }, apiStages: [{ apiId: api.id, stage: 'prod' }] }));
      for (const keyName of plan.apiKeys) {
        const key = await apiGateway.send(new CreateApiKeyCommand({ name: keyName, enabled: true, value: values[keyName] }));
        await apiGateway.send(new CreateUsagePlanKeyCommand({ usagePlanId: up.id, keyId: key.id, keyType: 'API_KEY' }));
        ids[keyName] = key.id!;
      }
    }
    const invoke = `https://${api.id}.execute-api.${REGION}.amazonaws.com/prod/`;
    await writeStackOutputs(stateDir, 'meshgw', { InvokeUrl: invoke, RestApiId: api.id!, StageName: 'prod', ApiKeyIds: Object.entries(ids).map(([n, i]) => `${n}=${i}`).join(',') });
    const ep = await resolveAwsEndpoint({ loaded: { config: repoConfig(), stateDir } }, { apiGateway });
    assert.equal(ep.target, 'aws');
    assert.equal(ep.baseUrl, invoke.replace(/\/$/, ''));
    assert.deepEqual(
      ep.apiKeys.map((k) => ({ ...k })).sort((a, b) => a.name.localeCompare(b.name)),
      [
        { id: ids['demo-limited'], name: 'demo-limited', plan: 'limited', value: values['demo-limited'] },
        { id: ids['demo-standard'], name: 'demo-standard', plan: 'standard', value: values['demo-standard'] },
      ],
    );
  });

  it('says to run up first when the stack outputs are missing', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'meshgw-verify-aws-empty-'));
    try {
      const apiGateway = new APIGatewayClient({ region: REGION, endpoint: moto.endpoint, credentials });
      await assert.rejects(resolveAwsEndpoint({ loaded: { config: repoConfig(), stateDir: empty } }, { apiGateway }), (e: unknown) => e instanceof MeshgwError && e.code === 'STATE_MISSING' && /meshgw up --target aws/.test(e.hint ?? ''));
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("decodes moto's ECR authorization token into the AWS user and a password for docker's stdin", async () => {
    const client = new ECRClient({ region: REGION, endpoint: moto.endpoint, credentials });
    await client.send(new CreateRepositoryCommand({ repositoryName: 'meshgw-users', imageTagMutability: 'IMMUTABLE' }));
    const ecr = createEcrApi(client);
    const login = await ecr.login();
    assert.equal(login.username, 'AWS');
    assert.ok(login.password.length > 0);
    assert.match(login.registry, /^[\w.-]+(:\d+)?$/, `a host name, no scheme: ${login.registry}`);
    assert.equal(await ecr.digestOf('meshgw-users', 'not-pushed'), undefined, 'a tag ECR does not have');
  });
});
