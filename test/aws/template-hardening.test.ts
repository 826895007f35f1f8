// The first-real-run fixes of the CloudFormation template (issue 11, items 4, 5, 6 and 9), asserted on
// the renderer's output against what AWS documents: Auto Scaling's rolling-update rule (MinInstancesInService
// below MaxSize), IMDSv2's hop limit, EKS Pod Identity's trust principal, the EKS release calendar, the
// AZ IDs EKS refuses, API Gateway's deployment snapshots, VPC links V2. cfn-lint (the real CloudFormation
// schemas) runs on variants the repository config does not cover; checkov.test.ts runs checkov.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { loadBaseTemplate, renderTemplate, stackParameters } from '../../src/aws/template.js';
import type { CfnTemplate } from '../../src/aws/template-types.js';
import { DEFAULT_KUBERNETES_VERSION } from '../../src/config/defaults.js';
import { parseConfigText } from '../../src/config/load.js';
import { ADOT_SERVICE_ACCOUNT, TELEMETRY_NAMESPACE } from '../../src/k8s/manifests/telemetry.js';
import { venvBin } from '../support/tools.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

async function repoConfig() {
  return parseConfigText(await readFile(path.join(root, 'meshgw.yaml'), 'utf8'), 'meshgw.yaml');
}

function at(value: unknown, ...keys: Array<string | number>): unknown {
  let cur = value;
  for (const k of keys) cur = (cur as Record<string | number, unknown> | undefined)?.[k];
  return cur;
}

/** The value CloudFormation would use for { Ref: Param } or a literal, given the rendered parameters. */
function evaluate(value: unknown, params: Record<string, string>): unknown {
  const ref = (value as { Ref?: string } | undefined)?.Ref;
  return ref === undefined ? value : params[ref];
}

async function cfnLintFindings(body: string): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-cfn-'));
  try {
    const file = path.join(dir, 'stack.yaml');
    await writeFile(file, body);
    const r = await execa(venvBin('cfn-lint'), ['-f', 'json', file], { reject: false, timeout: 120_000 });
    assert.ok(r.exitCode !== undefined && (r.exitCode & 1) === 0, `cfn-lint ran: ${r.stderr}`);
    return (JSON.parse(r.stdout || '[]') as Array<{ Rule: { Id: string }; Level: string; Message: string }>).map((f) => `${f.Level} ${f.Rule.Id} ${f.Message}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Amazon EKS Kubernetes release calendar, end of standard support (EKS user guide, "Kubernetes versions").
const EKS_END_OF_STANDARD_SUPPORT: Record<string, string> = {
  '1.32': '2026-03-23',
  '1.33': '2026-07-29',
  '1.34': '2026-12-02',
  '1.35': '2027-03-27',
};

describe('worker node updates', () => {
  it('can roll even a single node: MaxSize is NodeCount + 1 and MinInstancesInService NodeCount, below it', async () => {
    const cfg = await repoConfig();
    for (const nodeCount of [1, 2, 5]) {
      cfg.aws.nodeCount = nodeCount;
      const { template, parameters } = renderTemplate(cfg, await loadBaseTemplate());
      const params = Object.fromEntries(parameters.map((p) => [p.ParameterKey, p.ParameterValue]));
      const asg = template.Resources.NodeGroup;
      const maxSize = Number(evaluate(at(asg.Properties, 'MaxSize'), params));
      const minSize = Number(evaluate(at(asg.Properties, 'MinSize'), params));
      const minInService = Number(evaluate(at(asg, 'UpdatePolicy', 'AutoScalingRollingUpdate', 'MinInstancesInService'), params));
      // Auto Scaling refuses a rolling update unless MinInstancesInService < MaxSize.
      assert.ok(minInService < maxSize, `nodeCount ${nodeCount}: MinInstancesInService ${minInService} < MaxSize ${maxSize}`);
      assert.deepEqual([minSize, minInService, maxSize], [nodeCount, nodeCount, nodeCount + 1]);
      assert.equal(at(asg, 'UpdatePolicy', 'AutoScalingRollingUpdate', 'MaxBatchSize'), 1);
      assert.equal(at(asg, 'UpdatePolicy', 'AutoScalingRollingUpdate', 'PauseTime'), 'PT5M');
    }
  });

  it('pins the AMI: NodeImageId is a plain AMI id, and the SSM-resolved one is used only while it is empty', async () => {
    const { template } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    // An SSM-typed parameter is resolved again on every stack update, so a new EKS AMI would replace every node.
    assert.equal(template.Parameters.NodeImageId.Type, 'String');
    assert.equal(template.Parameters.RecommendedNodeImageId.Type, 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>');
    assert.deepEqual(at(template.Resources.NodeLaunchTemplate.Properties, 'LaunchTemplateData', 'ImageId'), {
      'Fn::If': ['PinnedNodeImage', { Ref: 'NodeImageId' }, { Ref: 'RecommendedNodeImageId' }],
    });
    assert.deepEqual((template as CfnTemplate & { Conditions: Record<string, unknown> }).Conditions.PinnedNodeImage, {
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'NodeImageId' }, ''] }],
    });
  });

  it('passes meshgw.yaml’s aws.nodeImageId as the pinned AMI', async () => {
    const cfg = await repoConfig();
    cfg.aws.nodeImageId = 'ami-0123456789abcdef0';
    const params = Object.fromEntries(stackParameters(cfg).map((p) => [p.ParameterKey, p.ParameterValue]));
    assert.equal(params.NodeImageId, 'ami-0123456789abcdef0');
  });
});

describe('node security and tracing', () => {
  it('keeps pods off the node role: IMDSv2 only, with a hop limit of 1', async () => {
    const { template } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    const metadata = at(template.Resources.NodeLaunchTemplate.Properties, 'LaunchTemplateData', 'MetadataOptions');
    assert.equal(at(metadata, 'HttpTokens'), 'required');
    assert.equal(at(metadata, 'HttpPutResponseHopLimit'), 1);
  });

  it('gives X-Ray rights to the ADOT collector through EKS Pod Identity, and not to the nodes', async () => {
    const { template } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    const r = template.Resources;
    const xray = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess' };
    assert.ok(!(at(r.NodeRole.Properties, 'ManagedPolicyArns') as unknown[]).some((p) => JSON.stringify(p) === JSON.stringify(xray)), 'the node role has no X-Ray policy');

    const role = r.AdotCollectorRole;
    assert.equal(role.Type, 'AWS::IAM::Role');
    // EKS Pod Identity: the service principal pods.eks.amazonaws.com, with AssumeRole and TagSession.
    assert.deepEqual(at(role.Properties, 'AssumeRolePolicyDocument', 'Statement'), [
      { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] },
    ]);
    assert.deepEqual(at(role.Properties, 'ManagedPolicyArns'), [xray]);

    assert.equal(r.PodIdentityAgentAddon.Type, 'AWS::EKS::Addon');
    assert.equal(at(r.PodIdentityAgentAddon.Properties, 'AddonName'), 'eks-pod-identity-agent');
    const association = r.AdotCollectorPodIdentity;
    assert.equal(association.Type, 'AWS::EKS::PodIdentityAssociation');
    assert.deepEqual(association.Properties, {
      ClusterName: { Ref: 'EKSCluster' },
      Namespace: 'meshgw-telemetry',
      ServiceAccount: 'adot-collector',
      RoleArn: { 'Fn::GetAtt': ['AdotCollectorRole', 'Arn'] },
    });
    // The names `meshgw deploy` gives the collector: an association for any other pair is never used.
    assert.deepEqual([TELEMETRY_NAMESPACE, ADOT_SERVICE_ACCOUNT], ['meshgw-telemetry', 'adot-collector']);
  });
});

describe('API Gateway’s account-wide logging role', () => {
  it('is retained by `down`, role and account setting both, so other APIs in the region keep logging', async () => {
    const { template } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    for (const id of ['ApiGatewayCloudWatchRole', 'ApiGatewayAccount']) {
      assert.equal(template.Resources[id].DeletionPolicy, 'Retain', `${id} DeletionPolicy`);
      assert.equal(template.Resources[id].UpdateReplacePolicy, 'Retain', `${id} UpdateReplacePolicy`);
    }
  });

  it('reuses the account’s existing role when one is given, and creates none', async () => {
    const cfg = await repoConfig();
    cfg.aws.apiGatewayCloudWatchRoleArn = 'arn:aws:iam::123456789012:role/existing-apigw-logs';
    const { template, parameters, body } = renderTemplate(cfg, await loadBaseTemplate());
    assert.equal(parameters.find((p) => p.ParameterKey === 'ApiGatewayCloudWatchRoleArn')?.ParameterValue, cfg.aws.apiGatewayCloudWatchRoleArn);
    assert.equal(template.Resources.ApiGatewayCloudWatchRole.Condition, 'CreateApiGatewayCloudWatchRole');
    assert.deepEqual(at(template.Resources.ApiGatewayAccount.Properties, 'CloudWatchRoleArn'), {
      'Fn::If': ['CreateApiGatewayCloudWatchRole', { 'Fn::GetAtt': ['ApiGatewayCloudWatchRole', 'Arn'] }, { Ref: 'ApiGatewayCloudWatchRoleArn' }],
    });
    assert.deepEqual(await cfnLintFindings(body), []);
  });
});

describe('versions and placement', () => {
  it('defaults to a Kubernetes version in EKS standard support on 2026-11-30, with UpgradePolicy STANDARD', async () => {
    const cfg = await repoConfig();
    const base = await loadBaseTemplate();
    for (const version of [DEFAULT_KUBERNETES_VERSION, cfg.aws.kubernetesVersion, String(base.Parameters.KubernetesVersion.Default)]) {
      const end = EKS_END_OF_STANDARD_SUPPORT[version];
      assert.ok(end, `${version} is in the EKS release calendar`);
      assert.ok(end > '2026-11-30', `${version} leaves standard support on ${end}`);
    }
    assert.match(String(base.Parameters.RecommendedNodeImageId.Default), new RegExp(`/optimized-ami/${DEFAULT_KUBERNETES_VERSION.replace('.', '\\.')}/`));
    assert.deepEqual(at(base.Resources.EKSCluster.Properties, 'UpgradePolicy'), { SupportType: 'STANDARD' });
  });

  it('places the two subnets by AZ ID from aws.availabilityZoneIds, not by AZ name index', async () => {
    const cfg = await repoConfig();
    cfg.aws.availabilityZoneIds = ['use1-az4', 'use1-az6'];
    const { template, parameters } = renderTemplate(cfg, await loadBaseTemplate());
    assert.equal(template.Parameters.AvailabilityZoneIds.Type, 'CommaDelimitedList');
    assert.equal(template.Parameters.AvailabilityZoneIds.Default, 'use1-az4,use1-az6');
    assert.equal(parameters.find((p) => p.ParameterKey === 'AvailabilityZoneIds')?.ParameterValue, 'use1-az4,use1-az6');
    for (const [i, id] of ['PublicSubnetOne', 'PublicSubnetTwo'].entries()) {
      const subnet = template.Resources[id].Properties;
      assert.equal(at(subnet, 'AvailabilityZone'), undefined, `${id} has no AZ name`);
      assert.deepEqual(at(subnet, 'AvailabilityZoneId'), { 'Fn::Select': [i, { Ref: 'AvailabilityZoneIds' }] });
    }
  });
});

describe('the API’s integration target', () => {
  async function deploymentId(mutate: (cfg: Awaited<ReturnType<typeof repoConfig>>, base: CfnTemplate) => void): Promise<string> {
    const cfg = await repoConfig();
    const base = await loadBaseTemplate();
    mutate(cfg, base);
    const { template } = renderTemplate(cfg, base);
    return String(at(template.Resources.ApiStage.Properties, 'DeploymentId', 'Ref'));
  }

  it('redeploys the API when the NLB or the VPC link, or what they are made of, changes', async () => {
    const unchanged = await deploymentId(() => {});
    assert.match(unchanged, /^ApiDeployment[0-9a-f]{10}$/);
    assert.equal(await deploymentId(() => {}), unchanged, 'the same input names the same deployment');
    // Other subnets replace the VPC link (SubnetIds is create-only) and move the NLB.
    assert.notEqual(await deploymentId((cfg) => (cfg.aws.availabilityZoneIds = ['use1-az4', 'use1-az6'])), unchanged);
    assert.notEqual(await deploymentId((_cfg, base) => ((base.Resources.Nlb.Properties as Record<string, unknown>).Name = 'renamed-nlb')), unchanged);
    assert.notEqual(await deploymentId((_cfg, base) => ((base.Resources.VpcLinkSecurityGroup.Properties as Record<string, unknown>).GroupDescription = 'another group')), unchanged);
  });

  it('does not redeploy for changes that leave routes and target alone', async () => {
    const unchanged = await deploymentId(() => {});
    assert.equal(await deploymentId((cfg) => (cfg.aws.nodeCount = 4)), unchanged);
    assert.equal(await deploymentId((cfg) => (cfg.aws.nodeInstanceType = 'm6i.large')), unchanged);
  });

  it('reaches the NLB through a VPC link V2 whose security group is the only source the NLB admits', async () => {
    const { template } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    const r = template.Resources;
    assert.equal(r.VpcLink.Type, 'AWS::ApiGatewayV2::VpcLink');
    assert.deepEqual(at(r.VpcLink.Properties, 'SecurityGroupIds'), [{ Ref: 'VpcLinkSecurityGroup' }]);
    assert.deepEqual(at(r.NlbSecurityGroup.Properties, 'SecurityGroupIngress'), [
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, SourceSecurityGroupId: { Ref: 'VpcLinkSecurityGroup' }, Description: 'HTTP from the API Gateway VPC link' },
    ]);
    // The PrivateLink exemption was for VPC links V1 only.
    assert.equal(at(r.Nlb.Properties, 'EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic'), undefined);
    assert.equal(Object.values(r).filter((x) => x.Type === 'AWS::ApiGateway::VpcLink').length, 0, 'no legacy VPC link V1');
  });
});
