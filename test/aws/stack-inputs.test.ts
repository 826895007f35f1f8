// What `meshgw up` keeps from the deployed stack: the pinned worker AMI and the API Gateway logging role.
// The decision is fed DescribeStacks parameters in the shape AWS documents (an SSM-typed parameter has
// ParameterValue = the SSM path and ResolvedValue = the AMI id); the adapter that reads them is run
// against moto's real CloudFormation server on loopback (moto reports plain parameters as AWS does).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { createCloudFormationApi } from '../../src/aws/cloudformation-api.js';
import { gatherStackInputs, resolveStackInputs, type DeployedParameter } from '../../src/aws/stack-inputs.js';
import { stackParameters } from '../../src/aws/template.js';
import { parseConfigText } from '../../src/config/load.js';
import { startMoto, type MotoServer } from './moto-server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const SSM_PATH = '/aws/service/eks/optimized-ami/1.35/amazon-linux-2023/x86_64/standard/recommended/image_id';

function config(aws = '') {
  return parseConfigText(`version: 1\nservices:\n  users: { pathPrefix: /users, requireApiKey: false }\n${aws}`, 'meshgw.yaml');
}

/** DescribeStacks' Parameters of a stack created by this template from the recommended AMI. */
function createdFromRecommended(ami: string): Record<string, DeployedParameter> {
  return {
    NodeImageId: { value: '' },
    RecommendedNodeImageId: { value: SSM_PATH, resolved: ami },
    ApiGatewayCloudWatchRoleArn: { value: '' },
  };
}

describe('the pinned worker AMI', () => {
  it('is left empty on a first create, so CloudFormation boots the recommended AMI once', () => {
    assert.equal(resolveStackInputs(config(), undefined, undefined).nodeImageId, '');
  });

  it('stays the AMI the stack was created with, even when SSM now recommends a newer one', () => {
    // The first update after the create pins what the SSM path resolved to at creation.
    const deployed = createdFromRecommended('ami-0aaaaaaaaaaaaaaaa');
    assert.equal(resolveStackInputs(config(), deployed, undefined).nodeImageId, 'ami-0aaaaaaaaaaaaaaaa');
    // From then on the pin is NodeImageId itself, which wins over a newer AMI the SSM path resolves to.
    const later = { ...deployed, NodeImageId: { value: 'ami-0aaaaaaaaaaaaaaaa' }, RecommendedNodeImageId: { value: SSM_PATH, resolved: 'ami-0bbbbbbbbbbbbbbbb' } };
    assert.equal(resolveStackInputs(config(), later, undefined).nodeImageId, 'ami-0aaaaaaaaaaaaaaaa');
    const params = Object.fromEntries(stackParameters(config(), resolveStackInputs(config(), later, undefined)).map((p) => [p.ParameterKey, p.ParameterValue]));
    assert.equal(params.NodeImageId, 'ami-0aaaaaaaaaaaaaaaa');
  });

  it('keeps the AMI of a stack deployed by the earlier template, whose NodeImageId was the SSM parameter', () => {
    const previous = { NodeImageId: { value: SSM_PATH, resolved: 'ami-0cccccccccccccccc' } };
    assert.equal(resolveStackInputs(config(), previous, undefined).nodeImageId, 'ami-0cccccccccccccccc');
  });

  it('moves only when meshgw.yaml names another AMI', () => {
    const cfg = config('aws:\n  nodeImageId: ami-0dddddddddddddddd\n');
    assert.equal(resolveStackInputs(cfg, createdFromRecommended('ami-0aaaaaaaaaaaaaaaa'), undefined).nodeImageId, 'ami-0dddddddddddddddd');
  });
});

describe('the API Gateway logging role', () => {
  it('reuses the role the account already has on a first create, and does not ask again once deployed', async () => {
    const asked: string[] = [];
    const sources = (deployed: Record<string, DeployedParameter> | undefined) => ({
      deployedParameters: async () => deployed,
      accountCloudWatchRoleArn: async () => {
        asked.push('GetAccount');
        return 'arn:aws:iam::123456789012:role/meshgw-ApiGatewayCloudWatchRole-OLD';
      },
    });
    const first = await gatherStackInputs(config(), sources(undefined));
    assert.equal(first.apiGatewayCloudWatchRoleArn, 'arn:aws:iam::123456789012:role/meshgw-ApiGatewayCloudWatchRole-OLD');
    assert.deepEqual(asked, ['GetAccount']);
    // A deployed stack that created its own role keeps it (''), whatever the account points to now.
    const update = await gatherStackInputs(config(), sources(createdFromRecommended('ami-0aaaaaaaaaaaaaaaa')));
    assert.equal(update.apiGatewayCloudWatchRoleArn, '');
    assert.deepEqual(asked, ['GetAccount'], 'GetAccount is asked on a first create only');
  });

  it('creates one when the account has none', async () => {
    const inputs = await gatherStackInputs(config(), { deployedParameters: async () => undefined, accountCloudWatchRoleArn: async () => undefined });
    assert.equal(inputs.apiGatewayCloudWatchRoleArn, '');
  });
});

describe('DescribeStacks parameters through the CloudFormation adapter, against moto', { timeout: 60_000 }, () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto(root);
  });
  after(async () => {
    await moto?.stop();
  });

  it('reads back each deployed parameter by key', async () => {
    const client = new CloudFormationClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const body = await readFile(path.join(root, 'test/aws/fixtures/moto-stack.yaml'), 'utf8');
    await client.send(new CreateStackCommand({ StackName: 'meshgw-inputs', TemplateBody: body, Parameters: [{ ParameterKey: 'StageName', ParameterValue: 'blue' }] }));
    const described = await createCloudFormationApi(client).describeStack('meshgw-inputs');
    assert.deepEqual(described?.parameters?.StageName, { value: 'blue', resolved: undefined });
    assert.equal(described?.parameters?.LogRetentionDays?.value, '7');
    assert.equal(await createCloudFormationApi(client).describeStack('meshgw-absent'), undefined);
  });
});
