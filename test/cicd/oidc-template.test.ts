// templates/github-oidc.yaml: cfn-lint finds nothing, the trust policy admits exactly one repository's
// production environment, and the role can do what the meshgw stack needs — no less, and nothing on "*"
// without a reason.
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { parse } from 'yaml';
import { loadBaseTemplate, renderTemplate } from '../../src/aws/template.js';
import { repositoryName } from '../../src/aws/template-repositories.js';
import { parseConfigText } from '../../src/config/load.js';
import { venvBin } from '../support/tools.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const templateFile = path.join(root, 'templates/github-oidc.yaml');
const cfnLint = venvBin('cfn-lint');

type Doc = Record<string, unknown>;
interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

async function template(): Promise<Doc> {
  return parse(await readFile(templateFile, 'utf8')) as Doc;
}

function resources(t: Doc): Record<string, { Type: string; Condition?: string; Properties: Doc }> {
  return t.Resources as Record<string, { Type: string; Condition?: string; Properties: Doc }>;
}

function roleStatements(t: Doc): Statement[] {
  const out: Statement[] = [];
  for (const r of Object.values(resources(t))) {
    if (r.Type !== 'AWS::IAM::ManagedPolicy') continue;
    assert.deepEqual(r.Properties.Roles, [{ Ref: 'DeployRole' }], 'every policy is the deploy role’s');
    out.push(...((r.Properties.PolicyDocument as { Statement: Statement[] }).Statement));
  }
  return out;
}

const list = (v: string | string[]) => [v].flat();

/** Stands in for Fn::Sub with plausible worst-case-length values, for size and ARN checks. */
function substitute(value: unknown, vars: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value && typeof value === 'object') {
    const o = value as Doc;
    if ('Fn::Sub' in o) return String(o['Fn::Sub']).replace(/\$\{([^}]+)\}/g, (_, k: string) => vars[k] ?? assert.fail(`no value for \${${k}}`));
    if ('Ref' in o) return vars[String(o.Ref)] ?? assert.fail(`no value for Ref ${String(o.Ref)}`);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, substitute(v, vars)]));
  }
  return value;
}

const VARS = {
  'AWS::Partition': 'aws-us-gov',
  'AWS::Region': 'ap-southeast-2',
  'AWS::AccountId': '123456789012',
  MeshgwStackName: 'meshgw',
  EcrRepositoryPrefix: 'meshgw',
  ClusterName: 'meshgw',
  GitHubRepository: 'octo-org/meshgw',
};

/** IAM's action matching: case-insensitive, '*' and '?' wildcards. */
function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
  return re.test(action);
}

function allows(statements: Statement[], action: string): boolean {
  return statements.some((s) => s.Effect === 'Allow' && list(s.Action).some((p) => actionMatches(p, action)));
}

// What CloudFormation calls (with the caller's credentials) to create each resource type the meshgw
// stack uses. A new type in templates/meshgw-stack.yaml fails the test below until it is added here
// and its permissions are added to templates/github-oidc.yaml.
const CREATE_ACTIONS: Record<string, string[]> = {
  'AWS::EC2::VPC': ['ec2:CreateVpc', 'ec2:ModifyVpcAttribute'],
  'AWS::EC2::InternetGateway': ['ec2:CreateInternetGateway'],
  'AWS::EC2::VPCGatewayAttachment': ['ec2:AttachInternetGateway'],
  'AWS::EC2::Subnet': ['ec2:CreateSubnet', 'ec2:ModifySubnetAttribute'],
  'AWS::EC2::RouteTable': ['ec2:CreateRouteTable'],
  'AWS::EC2::Route': ['ec2:CreateRoute'],
  'AWS::EC2::SubnetRouteTableAssociation': ['ec2:AssociateRouteTable'],
  'AWS::EC2::SecurityGroup': ['ec2:CreateSecurityGroup', 'ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress'],
  'AWS::EC2::SecurityGroupIngress': ['ec2:AuthorizeSecurityGroupIngress'],
  'AWS::EC2::LaunchTemplate': ['ec2:CreateLaunchTemplate'],
  'AWS::IAM::Role': ['iam:CreateRole', 'iam:AttachRolePolicy'],
  'AWS::DynamoDB::Table': ['dynamodb:CreateTable', 'dynamodb:DescribeTable', 'dynamodb:UpdateContinuousBackups', 'dynamodb:DescribeContinuousBackups', 'dynamodb:TagResource'],
  'AWS::IAM::InstanceProfile': ['iam:CreateInstanceProfile', 'iam:AddRoleToInstanceProfile'],
  'AWS::Logs::LogGroup': ['logs:CreateLogGroup', 'logs:PutRetentionPolicy'],
  'AWS::Logs::MetricFilter': ['logs:PutMetricFilter', 'logs:DescribeMetricFilters'],
  'AWS::CloudWatch::Alarm': ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms'],
  'AWS::EKS::Cluster': ['eks:CreateCluster', 'eks:DescribeCluster', 'iam:PassRole'],
  'AWS::EKS::AccessEntry': ['eks:CreateAccessEntry'],
  'AWS::AutoScaling::AutoScalingGroup': ['autoscaling:CreateAutoScalingGroup', 'ec2:RunInstances', 'iam:PassRole'],
  'AWS::ElasticLoadBalancingV2::LoadBalancer': ['elasticloadbalancing:CreateLoadBalancer'],
  'AWS::ElasticLoadBalancingV2::TargetGroup': ['elasticloadbalancing:CreateTargetGroup'],
  'AWS::ElasticLoadBalancingV2::Listener': ['elasticloadbalancing:CreateListener'],
  'AWS::ECR::Repository': ['ecr:CreateRepository', 'ecr:PutLifecyclePolicy'],
  // VPC link V2: API Gateway's service-linked role creates the ENIs; the caller may have to create that role.
  'AWS::ApiGatewayV2::VpcLink': ['apigateway:POST', 'iam:CreateServiceLinkedRole', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'],
  'AWS::EKS::Addon': ['eks:CreateAddon', 'eks:DescribeAddon', 'eks:DescribeAddonVersions'],
  'AWS::EKS::PodIdentityAssociation': ['eks:CreatePodIdentityAssociation', 'eks:DescribePodIdentityAssociation', 'iam:PassRole'],
  'AWS::ApiGateway::RestApi': ['apigateway:POST'],
  'AWS::ApiGateway::Resource': ['apigateway:POST'],
  'AWS::ApiGateway::Method': ['apigateway:PUT'],
  'AWS::ApiGateway::Deployment': ['apigateway:POST'],
  'AWS::ApiGateway::Stage': ['apigateway:POST', 'apigateway:PATCH'],
  'AWS::ApiGateway::Account': ['apigateway:PATCH', 'iam:PassRole'],
  'AWS::ApiGateway::ApiKey': ['apigateway:POST'],
  'AWS::ApiGateway::UsagePlan': ['apigateway:POST'],
  'AWS::ApiGateway::UsagePlanKey': ['apigateway:POST'],
};

async function repoConfig() {
  return parseConfigText(await readFile(path.join(root, 'meshgw.yaml'), 'utf8'), 'meshgw.yaml');
}

describe('templates/github-oidc.yaml', () => {
  it('passes cfn-lint with no errors and no warnings', async () => {
    try {
      await access(cfnLint);
    } catch {
      assert.fail(`${cfnLint} is missing: run \`bash .ci/setup.d/20-python-tools.sh\` (npm test's pretest runs it)`);
    }
    const r = await execa(cfnLint, ['-f', 'parseable', templateFile], { reject: false, timeout: 120_000 });
    assert.equal(r.exitCode, 0, `cfn-lint findings:\n${r.stdout}\n${r.stderr}`);
  });

  it('creates the GitHub OIDC provider for sts.amazonaws.com only when no existing provider ARN is given', async () => {
    const t = await template();
    const provider = resources(t).GitHubOidcProvider;
    assert.equal(provider.Type, 'AWS::IAM::OIDCProvider');
    assert.equal(provider.Properties.Url, 'https://token.actions.githubusercontent.com');
    assert.deepEqual(provider.Properties.ClientIdList, ['sts.amazonaws.com']);
    assert.equal(provider.Condition, 'CreateOidcProvider');
    assert.deepEqual((t.Conditions as Doc).CreateOidcProvider, { 'Fn::Equals': [{ Ref: 'ExistingOidcProviderArn' }, ''] });
    assert.equal(((t.Parameters as Doc).ExistingOidcProviderArn as Doc).Default, '');
  });

  it('lets only the repository’s production environment assume the role, by an exact sub and aud', async () => {
    const role = resources(await template()).DeployRole;
    const trust = (role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
    assert.equal(trust.length, 1, 'one trust statement');
    const [s] = trust;
    assert.equal(s.Effect, 'Allow');
    assert.equal(s.Action, 'sts:AssumeRoleWithWebIdentity');
    assert.deepEqual((s as unknown as { Principal: Doc }).Principal, {
      Federated: { 'Fn::If': ['CreateOidcProvider', { Ref: 'GitHubOidcProvider' }, { Ref: 'ExistingOidcProviderArn' }] },
    });
    assert.deepEqual(Object.keys(s.Condition ?? {}), ['StringEquals'], 'exact matches only: no StringLike wildcards');
    assert.equal(s.Condition?.StringEquals['token.actions.githubusercontent.com:aud'], 'sts.amazonaws.com');
    const sub = substitute(s.Condition?.StringEquals['token.actions.githubusercontent.com:sub'], VARS);
    assert.equal(sub, 'repo:octo-org/meshgw:environment:production');
  });

  it('keeps the role outside the role names it may create, change or pass, and denies it IAM on itself', async () => {
    const t = await template();
    const role = resources(t).DeployRole;
    assert.equal(role.Properties.Path, '/github-actions/');
    assert.equal(role.Properties.RoleName, undefined, 'a generated name under its own path');
    const statements = roleStatements(t);
    for (const s of statements.filter((x) => x.Effect === 'Allow' && list(x.Action).some((a) => a.startsWith('iam:')))) {
      for (const arn of [substitute(s.Resource, VARS)].flat() as string[]) {
        assert.ok(!arn.includes(':role/github-actions/'), `${s.Sid} reaches the deploy role's path`);
        assert.match(arn, /:(role\/meshgw-\*|instance-profile\/meshgw-\*|role\/aws-service-role\/\*)$/, `${s.Sid}: ${arn}`);
      }
    }
    const deny = statements.find((s) => s.Effect === 'Deny');
    assert.deepEqual(deny?.Action, 'iam:*');
    assert.equal(substitute(deny?.Resource, VARS), 'arn:aws-us-gov:iam::123456789012:role/github-actions/*');
  });

  it('attaches only the AWS managed policies the meshgw stack uses, and writes inline policies only under the DynamoDB or CloudWatch agent boundary', async () => {
    const statements = roleStatements(await template());
    // DynamoDB for the users and orders roles; the CloudWatch agent's policy (Logs, X-Ray) for the ADOT collector's.
    const boundaries = ['arn:aws-us-gov:iam::aws:policy/AmazonDynamoDBFullAccess_v2', 'arn:aws-us-gov:iam::aws:policy/CloudWatchAgentServerPolicy'];
    const inline = statements.filter((s) => s.Effect === 'Allow' && list(s.Action).some((a) => actionMatches(a, 'iam:PutRolePolicy')));
    assert.ok(inline.length > 0, 'the users and orders roles need their inline policies');
    for (const s of inline) {
      // An inline policy could grant anything; the boundary caps it.
      assert.deepEqual(Object.keys(s.Condition ?? {}), ['StringEquals'], s.Sid);
      assert.deepEqual([substitute(s.Condition?.StringEquals['iam:PermissionsBoundary'], VARS)].flat().sort(), boundaries, s.Sid);
    }
    const { template: rendered } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    for (const [id, r] of Object.entries(rendered.Resources)) {
      if (r.Type !== 'AWS::IAM::Role' || r.Properties?.Policies === undefined) continue;
      assert.ok(boundaries.includes(substitute(r.Properties.PermissionsBoundary, VARS) as string), `${id} has inline policies, so it needs one of the boundaries`);
    }
    const attach = statements.find((s) => list(s.Action).includes('iam:AttachRolePolicy'));
    const allowed = substitute(attach?.Condition?.ArnEquals['iam:PolicyARN'], VARS) as string[];
    const { template: stack } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    const used = new Set<string>();
    for (const r of Object.values(stack.Resources)) {
      if (r.Type !== 'AWS::IAM::Role') continue;
      for (const arn of (r.Properties?.ManagedPolicyArns as unknown[]) ?? []) used.add(substitute(arn, VARS) as string);
    }
    assert.deepEqual([...used].sort(), [...allowed].sort());
  });

  it('allows, for every resource type in the meshgw stack, the calls CloudFormation makes to create it', async () => {
    const statements = roleStatements(await template());
    const { template: stack } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    const types = new Set(Object.values(stack.Resources).map((r) => r.Type));
    for (const type of types) {
      const needed = CREATE_ACTIONS[type];
      assert.ok(needed, `${type} is new in the meshgw stack: add its permissions to templates/github-oidc.yaml and to CREATE_ACTIONS here`);
      for (const action of needed) assert.ok(allows(statements, action), `${type} needs ${action}`);
    }
    for (const action of ['cloudformation:CreateChangeSet', 'cloudformation:ExecuteChangeSet', 'cloudformation:DescribeStackEvents', 'ssm:GetParameters', 'ecr:GetAuthorizationToken', 'ecr:PutImage', 'ecr:DescribeImages', 'eks:DescribeCluster']) {
      assert.ok(allows(statements, action), `meshgw up / push / deploy need ${action}`);
    }
  });

  it('scopes the image repositories to the names the meshgw stack gives them', async () => {
    const statements = roleStatements(await template());
    const ecr = statements.find((s) => list(s.Action).includes('ecr:PutImage'));
    const arn = substitute(ecr?.Resource, { ...VARS, EcrRepositoryPrefix: 'meshgw' }) as string;
    const cfg = await repoConfig();
    for (const service of Object.keys(cfg.services)) {
      const repoArn = `arn:aws-us-gov:ecr:ap-southeast-2:123456789012:repository/${repositoryName(cfg, service)}`;
      assert.ok(actionMatches(arn, repoArn), `${repoArn} is outside ${arn}`);
    }
  });

  it('grants nothing on "*" but unscopable reads and the region-limited network calls, and no service-wide wildcard', async () => {
    const unscopable = /^(ec2:Describe\*|elasticloadbalancing:Describe\*|autoscaling:Describe\*|cloudformation:ValidateTemplate|cloudformation:DescribeStackDriftDetectionStatus|ecr:GetAuthorizationToken|logs:DescribeLogGroups|cloudwatch:ListMetrics)$/;
    for (const s of roleStatements(await template()).filter((x) => x.Effect === 'Allow')) {
      for (const action of list(s.Action)) assert.ok(!/(^\*$|:\*$)/.test(action), `${s.Sid} allows ${action}`);
      if (s.Resource !== '*') continue;
      const regionLimited = s.Condition?.StringEquals?.['aws:RequestedRegion'] !== undefined;
      if (regionLimited) continue;
      for (const action of list(s.Action)) assert.match(action, unscopable, `${s.Sid} allows ${action} on "*"`);
    }
  });

  it('keeps each managed policy under IAM’s 6,144-character limit', async () => {
    const t = await template();
    for (const [name, r] of Object.entries(resources(t))) {
      if (r.Type !== 'AWS::IAM::ManagedPolicy') continue;
      const size = JSON.stringify(substitute(r.Properties.PolicyDocument, VARS)).replace(/\s/g, '').length;
      assert.ok(size < 6144, `${name} is ${size} characters`);
    }
  });
});
