// The full template's correctness: its structure (asserted here on the renderer's output) and
// cfn-lint's schema checks with zero errors. moto cannot deploy it (no EKS, VPC links, stages, plans).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { loadBaseTemplate, RENDERED_HEADER, renderTemplate, stackParameters } from '../../src/aws/template.js';
import type { CfnResource } from '../../src/aws/template-types.js';
import { parseConfigText } from '../../src/config/load.js';
import { MeshgwError } from '../../src/errors.js';
import { venvBin } from '../support/tools.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cfnLint = venvBin('cfn-lint');

async function repoConfig() {
  return parseConfigText(await readFile(path.join(root, 'meshgw.yaml'), 'utf8'), 'meshgw.yaml');
}

function ofType(resources: Record<string, CfnResource>, type: string): Array<[string, CfnResource]> {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

/** Reads a nested value of a rendered resource: at(r, 'Integration', 'Type'). */
function at(value: unknown, ...keys: Array<string | number>): unknown {
  let cur = value;
  for (const k of keys) cur = (cur as Record<string | number, unknown> | undefined)?.[k];
  return cur;
}

async function lint(body: string): Promise<Array<{ Rule: { Id: string }; Level: string; Message: string }>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-cfn-'));
  try {
    const file = path.join(dir, 'stack.yaml');
    await writeFile(file, body);
    const r = await execa(cfnLint, ['-f', 'json', file], { reject: false, timeout: 120_000 });
    assert.ok(r.exitCode !== undefined && (r.exitCode & 1) === 0, `cfn-lint ran: ${r.stderr}`);
    return JSON.parse(r.stdout || '[]');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('the CloudFormation template', () => {
  it('renders for the repository meshgw.yaml with zero cfn-lint errors or warnings', { timeout: 180_000 }, async () => {
    const rendered = renderTemplate(await repoConfig(), await loadBaseTemplate());
    const findings = await lint(rendered.body);
    assert.deepEqual(findings.map((f) => `${f.Level} ${f.Rule.Id} ${f.Message}`), []);
  });

  it('keeps templates/meshgw-stack.rendered.yaml in step with the renderer', async () => {
    const rendered = renderTemplate(await repoConfig(), await loadBaseTemplate());
    const checkedIn = await readFile(path.join(root, 'templates/meshgw-stack.rendered.yaml'), 'utf8');
    assert.ok(checkedIn === RENDERED_HEADER + rendered.body, 'stale: run `node dist/src/aws/render-template-main.js meshgw.yaml`');
  });

  it('requires an API key on every method, proxied through the VPC link V2 to the NLB with the transform headers', async () => {
    const { template } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    const methods = ofType(template.Resources, 'AWS::ApiGateway::Method');
    assert.deepEqual(methods.map(([id]) => id).sort(), ['OrdersAnyMethod', 'OrdersPostMethod', 'OrdersProxyAnyMethod', 'ProductsAnyMethod', 'ProductsProxyAnyMethod', 'UsersAnyMethod', 'UsersProxyAnyMethod']);
    for (const [id, m] of methods) {
      const p = m.Properties;
      assert.equal(at(p, 'ApiKeyRequired'), true, id);
      assert.equal(at(p, 'Integration', 'Type'), 'HTTP_PROXY', id);
      assert.equal(at(p, 'Integration', 'ConnectionType'), 'VPC_LINK', id);
      assert.deepEqual(at(p, 'Integration', 'ConnectionId'), { Ref: 'VpcLink' }, id);
      assert.deepEqual(at(p, 'Integration', 'IntegrationTarget'), { Ref: 'Nlb' }, id);
      assert.equal(at(p, 'Integration', 'RequestParameters', 'integration.request.header.x-request-id'), 'context.requestId', id);
      assert.equal(at(p, 'Integration', 'RequestParameters', 'integration.request.header.x-meshgw-api-key-id'), 'context.identity.apiKeyId', id);
    }
    const proxy = template.Resources.UsersProxyAnyMethod.Properties;
    assert.deepEqual(at(proxy, 'Integration', 'Uri'), { 'Fn::Sub': 'http://${Nlb.DNSName}/users/{proxy}' });
    assert.equal(at(proxy, 'Integration', 'RequestParameters', 'integration.request.path.proxy'), 'method.request.path.proxy');
    const paths = ofType(template.Resources, 'AWS::ApiGateway::Resource').map(([, r]) => (r.Properties as Record<string, string>).PathPart);
    assert.deepEqual(paths.sort(), ['orders', 'products', 'users', '{proxy+}', '{proxy+}', '{proxy+}'].sort());
    const vpcLink = template.Resources.VpcLink;
    assert.equal(vpcLink.Type, 'AWS::ApiGatewayV2::VpcLink');
    assert.deepEqual(at(vpcLink.Properties, 'SubnetIds'), [{ Ref: 'PublicSubnetOne' }, { Ref: 'PublicSubnetTwo' }]);
  });

  it('throttles the stage and POST /orders through method settings with the ~1-encoded path', async () => {
    const { template } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    const stage = template.Resources.ApiStage.Properties;
    assert.equal(at(stage, 'TracingEnabled'), true);
    assert.deepEqual(
      (at(stage, 'MethodSettings') as Array<Record<string, unknown>>).map((m) => [m.ResourcePath, m.HttpMethod, m.ThrottlingRateLimit, m.ThrottlingBurstLimit]),
      [
        ['/*', '*', { Ref: 'StageRateLimit' }, { Ref: 'StageBurstLimit' }],
        ['/~1orders', 'POST', 100, 20],
      ],
    );
    assert.match(String(at(stage, 'AccessLogSetting', 'Format')), /"traceId":"\$context\.xrayTraceId"/);
    const deployment = template.Resources[String(at(stage, 'DeploymentId', 'Ref'))];
    assert.equal(deployment.Type, 'AWS::ApiGateway::Deployment');
    assert.ok((deployment.DependsOn as string[]).includes('OrdersPostMethod'));
  });

  it('renders usage plans, keys and their links from meshgw.yaml, with id outputs', async () => {
    const cfg = await repoConfig();
    cfg.gateway.usagePlans.push({ name: 'gold', throttle: { rate: 500, burst: 50 }, apiKeys: ['partner-a', 'partner-b'] });
    const { template } = renderTemplate(cfg, await loadBaseTemplate());
    const plans = ofType(template.Resources, 'AWS::ApiGateway::UsagePlan');
    assert.deepEqual(plans.map(([id]) => id), ['UsagePlanStandard', 'UsagePlanLimited', 'UsagePlanGold']);
    const limited = template.Resources.UsagePlanLimited.Properties;
    assert.deepEqual(at(limited, 'Throttle'), { RateLimit: 10, BurstLimit: 5 });
    assert.deepEqual(at(limited, 'Quota'), { Limit: 10000, Period: 'DAY' });
    assert.equal((template.Resources.UsagePlanGold.Properties as Record<string, unknown>).Quota, undefined);
    assert.deepEqual(template.Resources.ApiKeyPartnerBPlanLink.Properties, { KeyId: { Ref: 'ApiKeyPartnerB' }, KeyType: 'API_KEY', UsagePlanId: { Ref: 'UsagePlanGold' } });
    assert.equal((template.Resources.ApiKeyPartnerA.Properties as Record<string, unknown>).Enabled, true);
    assert.deepEqual(template.Outputs.ApiKeyIds.Value, { 'Fn::Sub': 'demo-standard=${ApiKeyDemoStandard},demo-limited=${ApiKeyDemoLimited},partner-a=${ApiKeyPartnerA},partner-b=${ApiKeyPartnerB}' });
    assert.deepEqual(template.Outputs.UsagePlanIds.Value, { 'Fn::Sub': 'standard=${UsagePlanStandard},limited=${UsagePlanLimited},gold=${UsagePlanGold}' });
  });

  it('has exactly the outputs StackOutputs names', async () => {
    const { template } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    assert.deepEqual(Object.keys(template.Outputs).sort(), [
      'AccessLogGroupName', 'ApiKeyIds', 'ClusterName', 'IngressNodePort', 'InvokeUrl', 'NlbDnsName', 'OrdersRepositoryUri', 'OrdersTableName', 'ProductsRepositoryUri', 'RestApiId', 'StageName', 'UsagePlanIds', 'UsersRepositoryUri', 'UsersTableName',
    ]);
  });

  it('registers the worker nodes in the NLB target group on the ingress NodePort', async () => {
    const { template } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    const asg = template.Resources.NodeGroup.Properties as Record<string, unknown>;
    assert.deepEqual(asg.TargetGroupARNs, [{ Ref: 'IngressTargetGroup' }]);
    const tg = template.Resources.IngressTargetGroup.Properties as Record<string, unknown>;
    assert.deepEqual([tg.Protocol, tg.Port, tg.TargetType], ['TCP', { Ref: 'IngressNodePort' }, 'instance']);
    const nlb = template.Resources.Nlb.Properties as Record<string, unknown>;
    assert.deepEqual([nlb.Type, nlb.Scheme], ['network', 'internal']);
    assert.equal((template.Resources.NodeAccessEntry.Properties as Record<string, unknown>).Type, 'EC2_LINUX');
    for (const [, repo] of ofType(template.Resources, 'AWS::ECR::Repository')) {
      const p = repo.Properties;
      assert.deepEqual([at(p, 'ImageTagMutability'), at(p, 'EmptyOnDelete'), at(p, 'ImageScanningConfiguration', 'ScanOnPush')], ['IMMUTABLE', true, true]);
    }
  });

  it('takes its parameters from meshgw.yaml, the first-create AMI from the SSM path for the Kubernetes version', async () => {
    const cfg = await repoConfig();
    cfg.aws.kubernetesVersion = '1.34';
    cfg.aws.ingressNodePort = 31000;
    cfg.aws.nodeCount = 3;
    cfg.aws.availabilityZoneIds = ['use1-az4', 'use1-az6'];
    const params = Object.fromEntries(stackParameters(cfg).map((p) => [p.ParameterKey, p.ParameterValue]));
    assert.equal(params.IngressNodePort, '31000');
    assert.equal(params.KubernetesVersion, '1.34');
    assert.equal(params.RecommendedNodeImageId, '/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/x86_64/standard/recommended/image_id');
    assert.equal(params.NodeImageId, '', 'no pin and no deployed stack: CloudFormation resolves the recommended AMI once');
    assert.equal(params.NodeGroupMaxSize, '4');
    assert.equal(params.AvailabilityZoneIds, 'use1-az4,use1-az6');
    assert.equal(params.StageName, 'prod');
  });

  it('lints clean for another config too: a sub-path method throttle, no quota, keyless service', { timeout: 180_000 }, async () => {
    const cfg = parseConfigText(
      `version: 1
services:
  catalog: { pathPrefix: /catalog, requireApiKey: false }
  checkout: { pathPrefix: /checkout, backends: [catalog] }
gateway:
  methodThrottles:
    - { method: PUT, path: /checkout/cart/items, rate: 5, burst: 2 }
  usagePlans:
    - { name: only, throttle: { rate: 1, burst: 1 }, apiKeys: [k1] }
`,
      'variant.yaml',
    );
    const { template, body } = renderTemplate(cfg, await loadBaseTemplate());
    assert.equal(at(template.Resources.ApiStage.Properties, 'MethodSettings', 1, 'ResourcePath'), '/~1checkout~1cart~1items');
    assert.equal((template.Resources.CatalogAnyMethod.Properties as Record<string, unknown>).ApiKeyRequired, false);
    assert.ok(template.Resources.CheckoutCartItemsPutMethod);
    assert.ok(template.Resources.CheckoutCartItemsAnyMethod);
    const findings = await lint(body);
    assert.deepEqual(findings.filter((f) => f.Level === 'Error').map((f) => `${f.Rule.Id} ${f.Message}`), []);
  });

  it('refuses two names that collapse to one logical id', async () => {
    const cfg = await repoConfig();
    cfg.gateway.usagePlans[1].apiKeys = ['demo-standard2', 'demostandard2'];
    cfg.gateway.usagePlans[0].apiKeys = ['demo-standard-2'];
    assert.throws(() => renderTemplate(cfg, { Parameters: {}, Resources: {}, Outputs: {} }), (err: unknown) => {
      assert.ok(err instanceof MeshgwError);
      assert.match(err.message, /API key names "demo-standard-2" and "demo-standard2" both become the CloudFormation logical id ApiKeyDemoStandard2/);
      return true;
    });
  });
});
