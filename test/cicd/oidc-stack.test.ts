import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseGithubRepository } from '../../src/cicd/github-repository.js';
import { renderOidcStackRequest, type OidcStackOptions } from '../../src/cicd/oidc-stack.js';
import { MeshgwError } from '../../src/errors.js';

const templateDir = fileURLToPath(new URL('../../../templates/', import.meta.url));

async function refusal(opts: Partial<OidcStackOptions>): Promise<MeshgwError> {
  try {
    await renderOidcStackRequest({ repository: 'octo-org/meshgw', templateDir, ...opts });
  } catch (err) {
    assert.ok(err instanceof MeshgwError, `a MeshgwError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return err;
  }
  assert.fail('the options were accepted');
}

function param(req: { parameters: { ParameterKey: string; ParameterValue: string }[] }, key: string): string | undefined {
  return req.parameters.find((p) => p.ParameterKey === key)?.ParameterValue;
}

describe('renderOidcStackRequest', () => {
  it('renders the OIDC stack for a repository with the default names', async () => {
    const req = await renderOidcStackRequest({ repository: 'octo-org/meshgw', templateDir });
    assert.equal(req.stackName, 'github-oidc-meshgw');
    assert.equal(req.templateBody, await readFile(path.join(templateDir, 'github-oidc.yaml'), 'utf8'));
    assert.deepEqual(req.capabilities, ['CAPABILITY_IAM']);
    assert.deepEqual(req.parameters, [
      { ParameterKey: 'GitHubRepository', ParameterValue: 'octo-org/meshgw' },
      { ParameterKey: 'ExistingOidcProviderArn', ParameterValue: '' },
      { ParameterKey: 'MeshgwStackName', ParameterValue: 'meshgw' },
      { ParameterKey: 'EcrRepositoryPrefix', ParameterValue: 'meshgw' },
      { ParameterKey: 'ClusterName', ParameterValue: 'meshgw' },
    ]);
    assert.equal(req.trustedSubject, 'repo:octo-org/meshgw:environment:production');
  });

  it('passes exactly the parameters the template declares, each value within its AllowedPattern', async () => {
    const req = await renderOidcStackRequest({
      repository: 'Octo-Org@1234/meshgw.fork@98765',
      templateDir,
      stackName: 'ci-trust',
      existingProviderArn: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
      meshgwStackName: 'MeshGW-Prod',
      clusterName: 'mesh_prod',
    });
    const declared = (parse(req.templateBody) as { Parameters: Record<string, { AllowedPattern?: string }> }).Parameters;
    assert.deepEqual(req.parameters.map((p) => p.ParameterKey).sort(), Object.keys(declared).sort());
    for (const p of req.parameters) {
      const pattern = declared[p.ParameterKey].AllowedPattern;
      if (pattern) assert.match(p.ParameterValue, new RegExp(pattern), `${p.ParameterKey}=${p.ParameterValue}`);
    }
    assert.equal(param(req, 'EcrRepositoryPrefix'), 'meshgw-prod', 'ECR names are the stack name in lower case');
    assert.equal(req.trustedSubject, 'repo:Octo-Org@1234/meshgw.fork@98765:environment:production');
  });

  it('refuses a repository without an owner/name slash, naming the problem', async () => {
    const err = await refusal({ repository: 'meshgw' });
    assert.equal(err.code, 'USAGE');
    assert.equal(err.exitCode, 2);
    assert.equal(err.message, 'repository "meshgw": has no "/" between owner and name');
    assert.match(err.hint ?? '', /owner\/name/);
  });

  it('refuses a repository URL', async () => {
    assert.match((await refusal({ repository: 'https://github.com/octo-org/meshgw' })).message, /is a URL; expected owner\/name$/);
  });

  it('refuses an empty repository and one with extra path parts', async () => {
    assert.match((await refusal({ repository: '  ' })).message, /is empty$/);
    assert.match((await refusal({ repository: 'octo-org/meshgw/tree' })).message, /more than one "\/"/);
  });

  it('refuses an owner GitHub would not allow', async () => {
    assert.match((await refusal({ repository: '-octo/meshgw' })).message, /owner "-octo" is not a GitHub account name/);
    assert.match((await refusal({ repository: 'octo--org/meshgw' })).message, /owner "octo--org"/);
    assert.match((await refusal({ repository: 'octo_org/meshgw' })).message, /owner "octo_org"/);
  });

  it('refuses a repository name GitHub would not allow', async () => {
    assert.match((await refusal({ repository: 'octo-org/..' })).message, /name "\.\." is not a GitHub repository name/);
    assert.match((await refusal({ repository: 'octo-org/mesh gw' })).message, /name "mesh gw"/);
  });

  it('refuses an immutable id on only one side, or one that is not a number', async () => {
    assert.match((await refusal({ repository: 'octo-org@12/meshgw' })).message, /immutable id for only one of owner and name/);
    assert.match((await refusal({ repository: 'octo-org@x/meshgw@9' })).message, /owner id "x" is not a number/);
  });

  it('refuses a provider ARN that is not GitHub’s OIDC provider', async () => {
    const err = await refusal({ existingProviderArn: 'arn:aws:iam::123456789012:oidc-provider/accounts.google.com' });
    assert.equal(err.code, 'USAGE');
    assert.match(err.message, /is not an IAM OIDC provider for token\.actions\.githubusercontent\.com$/);
    assert.match(err.hint ?? '', /list-open-id-connect-providers/);
  });

  it('refuses the meshgw stack’s own name for the OIDC stack', async () => {
    assert.match((await refusal({ stackName: 'meshgw' })).message, /is the meshgw stack's own name$/);
  });

  it('refuses stack and cluster names CloudFormation and EKS would refuse', async () => {
    assert.match((await refusal({ stackName: '1-oidc' })).message, /^stack name "1-oidc" is not a CloudFormation stack name/);
    assert.match((await refusal({ meshgwStackName: 'mesh_gw' })).message, /^meshgw stack name "mesh_gw"/);
    assert.match((await refusal({ clusterName: '-x' })).message, /^cluster name "-x" is not an EKS cluster name/);
  });

  it('names the missing template file when the folder has none', async () => {
    const err = await refusal({ templateDir: path.join(templateDir, 'nope') });
    assert.equal(err.code, 'CONFIG_NOT_FOUND');
    assert.match(err.message, /github-oidc\.yaml: cannot be read \(ENOENT\)$/);
  });
});

describe('parseGithubRepository', () => {
  it('splits owner, name and immutable ids', () => {
    assert.deepEqual(parseGithubRepository('octo-org/meshgw'), { owner: 'octo-org', name: 'meshgw', ownerId: undefined, repositoryId: undefined, subject: 'octo-org/meshgw' });
    assert.deepEqual(parseGithubRepository('octo@1/mesh_gw.js@22'), { owner: 'octo', name: 'mesh_gw.js', ownerId: '1', repositoryId: '22', subject: 'octo@1/mesh_gw.js@22' });
  });
});
