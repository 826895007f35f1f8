// `meshgw ci-role` against moto's real server: the OIDC template's stack goes through the same
// change-set flow as the main stack. moto's CloudFormation creates the IAM role and skips the
// OIDC provider and managed policies it does not model; their properties are cfn-lint's job
// (oidc-template.test.ts).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ciRoleCommand } from '../../src/cicd/ci-role-command.js';
import { parseCiRoleOptions } from '../../src/cli/options.js';
import { MeshgwError } from '../../src/errors.js';
import { scratchContext, type Scratch } from '../aws/helpers.js';
import { startMoto, type MotoServer } from '../aws/moto-server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const REGION = 'us-east-1';

describe('meshgw ci-role against moto', { timeout: 120_000 }, () => {
  let moto: MotoServer;
  let s: Scratch;
  let savedEnv: NodeJS.ProcessEnv;

  before(async () => {
    savedEnv = { ...process.env };
    moto = await startMoto(root);
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: REGION, AWS_EC2_METADATA_DISABLED: 'true' });
    s = await scratchContext('meshgw');
  });

  after(async () => {
    process.env = savedEnv;
    await moto?.stop();
    await s?.cleanup();
  });

  it('deploys the deploy-role stack trusting exactly the repository and environment given', async () => {
    const code = await ciRoleCommand(s.ctx, parseCiRoleOptions({ repository: 'octo-org/meshgw', yes: true }, s.ctx.loaded.config));
    assert.equal(code, 0);
    const cfn = new CloudFormationClient({ region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: 'github-oidc-meshgw' }));
    assert.equal(Stacks?.[0].StackStatus, 'CREATE_COMPLETE');
    const repoParam = Stacks?.[0].Parameters?.find((p) => p.ParameterValue === 'octo-org/meshgw');
    assert.ok(repoParam, `the repository is a stack parameter: ${JSON.stringify(Stacks?.[0].Parameters)}`);
    assert.match(s.reporter.text(), /trusted subject repo:octo-org\/meshgw:environment:production/);
  });

  it('refuses a call without --repository before touching AWS', async () => {
    assert.throws(() => parseCiRoleOptions({ yes: true }, s.ctx.loaded.config), (err: unknown) => err instanceof MeshgwError && err.code === 'USAGE' && /--repository is required/.test(err.message));
  });
});
