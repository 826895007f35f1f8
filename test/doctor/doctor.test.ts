// meshgw doctor against moto's server for what moto models: STS GetCallerIdentity, EC2
// DescribeAvailabilityZones (with real zone IDs, use1-az3 included), Service Quotas for VPCs
// (L-F678F1CE), and the usage counts (DescribeVpcs, EKS ListClusters, ELBv2
// DescribeLoadBalancers). moto has no IAM policy simulator and no EKS/ELB quotas, so those two
// are fakes of our narrow interface shaped by the documented responses (API_EvaluationResult,
// GetServiceQuota's Quota.Value). docker, istioctl and helm are fakes on PATH answering with the
// real tools' version output.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateVpcCommand, DeleteVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { STSServiceException } from '@aws-sdk/client-sts';
import { createExecaRunner } from '../../src/aws/push-runner.js';
import type { MeshgwConfig } from '../../src/config/schema.js';
import { createDoctorAwsApi, createDoctorClients } from '../../src/doctor/aws-api.js';
import { runDoctor, type DoctorReport } from '../../src/doctor/command.js';
import type { DoctorAwsApi, DoctorContext, SimulatedDecision } from '../../src/doctor/context.js';
import { loadDeployRoleStatements } from '../../src/doctor/permissions.js';
import { renderDoctorReport } from '../../src/doctor/render.js';
import { ISTIO_VERSION } from '../../src/k8s/istio-version.js';
import { startMoto, type MotoServer } from '../aws/moto-server.js';
import { createFakeTools, type CannedReply, type FakeTools } from '../push/fake-tools.js';
import { repoConfig } from '../k8s/fixtures.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const templatesDir = path.join(root, 'templates');

const DOCKER: CannedReply[] = [
  { args: ['buildx', 'version'], stdout: 'github.com/docker/buildx v0.17.1 257815a\n' },
  { args: ['version'], stdout: '27.3.1\n' },
];
const ISTIOCTL_PINNED: CannedReply[] = [{ args: ['version'], stdout: `${ISTIO_VERSION}\n` }];

/** Documented defaults where moto has no value: EKS clusters 100, NLBs per region 50 (applied values). */
const QUOTA_FAKE: Record<string, number> = { 'L-1194D53C': 100, 'L-69A177A2': 50 };

interface Fixture {
  ctx: DoctorContext;
  simulations: { principal: string; actions: string[]; resources: string[] }[];
}

describe('meshgw doctor', { timeout: 120_000 }, () => {
  let moto: MotoServer;
  let savedEnv: NodeJS.ProcessEnv;
  const toolDirs: FakeTools[] = [];

  async function tools(set: Record<string, CannedReply[]>) {
    const t = await createFakeTools(set);
    toolDirs.push(t);
    return createExecaRunner(undefined, { PATH: t.pathEnv, FAKE_TOOLS_LOG: path.join(t.dir, 'calls.jsonl') });
  }

  async function fixture(opts: { region?: string; config?: Partial<MeshgwConfig['aws']>; tools?: Record<string, CannedReply[]>; deny?: string[]; aws?: Partial<DoctorAwsApi> } = {}): Promise<Fixture> {
    const region = opts.region ?? 'us-east-1';
    const base = repoConfig();
    const config = { ...base, aws: { ...base.aws, region, ...opts.config } } as MeshgwConfig;
    const real = createDoctorAwsApi(createDoctorClients({ region }));
    const simulations: Fixture['simulations'] = [];
    const aws: DoctorAwsApi = {
      ...real,
      callerIdentity: () => real.callerIdentity(),
      quota: async (service, code) => (code in QUOTA_FAKE ? { value: QUOTA_FAKE[code], source: 'applied' } : real.quota(service, code)),
      simulationPrincipal: async (arn) => arn,
      simulate: async (principal, actions, resources): Promise<SimulatedDecision[]> => {
        simulations.push({ principal, actions, resources });
        return actions.flatMap((action) => resources.map((resource) => ({ action, resource, decision: opts.deny?.includes(action) ? 'implicitDeny' : 'allowed' })));
      },
      ...opts.aws,
    };
    const run = await tools(opts.tools ?? { docker: DOCKER, istioctl: ISTIOCTL_PINNED });
    return { ctx: { config, region, aws, run, loadPermissionStatements: () => loadDeployRoleStatements(templatesDir) }, simulations };
  }

  const finding = (r: DoctorReport, id: string) => {
    const f = r.findings.find((x) => x.id === id);
    assert.ok(f, `finding ${id}`);
    return f;
  };

  before(async () => {
    savedEnv = { ...process.env };
    moto = await startMoto(root);
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_EC2_METADATA_DISABLED: 'true' });
  });
  after(async () => {
    process.env = savedEnv;
    await moto?.stop();
    for (const t of toolDirs) await t.cleanup();
  });

  it('says ready (exit 0) when the account, region, tools, quotas and permissions all hold', async () => {
    const { ctx, simulations } = await fixture();
    const report = await runDoctor(ctx);
    assert.equal(report.exitCode, 0, renderDoctorReport(report));
    assert.deepEqual(report.findings.map((f) => f.level), report.findings.map(() => 'ok'));
    assert.match(finding(report, 'credentials').detail, /^account \d{12} as arn:aws:/);
    const zones = finding(report, 'region-zones');
    assert.deepEqual(zones.data?.chosen, ['use1-az1', 'use1-az2']);
    assert.ok(!(zones.data?.eksCapable as string[]).includes('use1-az3'), 'use1-az3 exists in us-east-1 but EKS does not support it');
    assert.match(finding(report, 'quota-vpcs').detail, /^1 of 5 in use \(applied quota\)/);
    // Simulated: the deploy role's own statements, every variable filled in.
    const actions = simulations.flatMap((x) => x.actions);
    for (const a of ['cloudformation:CreateChangeSet', 'cloudformation:DeleteStack', 'eks:CreateCluster', 'iam:PassRole', 'ecr:GetAuthorizationToken', 'logs:FilterLogEvents']) assert.ok(actions.includes(a), a);
    const resources = simulations.flatMap((x) => x.resources);
    assert.ok(resources.every((r) => !r.includes('${')), resources.find((r) => r.includes('${')));
    assert.ok(resources.includes('arn:aws:eks:us-east-1:123456789012:cluster/meshgw'), resources.join('\n'));
  });

  it('blocks (exit 1) with the quota-increase command when the region is at its VPC quota', async () => {
    const ec2 = new EC2Client({ region: 'us-east-1' });
    const made: string[] = [];
    try {
      for (let i = 0; i < 4; i++) made.push((await ec2.send(new CreateVpcCommand({ CidrBlock: `10.${10 + i}.0.0/16` }))).Vpc?.VpcId ?? '');
      const report = await runDoctor((await fixture()).ctx);
      assert.equal(report.exitCode, 1);
      const vpcs = finding(report, 'quota-vpcs');
      assert.equal(vpcs.level, 'error');
      assert.match(vpcs.detail, /^5 of 5 in use/);
      assert.match(vpcs.hint ?? '', /request-service-quota-increase --service-code vpc --quota-code L-F678F1CE --desired-value 6 --region us-east-1/);
    } finally {
      for (const id of made) await ec2.send(new DeleteVpcCommand({ VpcId: id }));
    }
  });

  it('blocks (exit 1) naming each action IAM would deny', async () => {
    const report = await runDoctor((await fixture({ deny: ['eks:CreateCluster', 'iam:PassRole'] })).ctx);
    assert.equal(report.exitCode, 1);
    const perms = finding(report, 'iam-permissions');
    assert.equal(perms.level, 'error');
    const denied = perms.data?.denied as string[];
    assert.ok(denied.some((d) => d.startsWith('eks:CreateCluster on arn:aws:eks:us-east-1:123456789012:cluster/meshgw (implicitDeny)')), denied.join('\n'));
    assert.ok(denied.some((d) => d.startsWith('iam:PassRole')));
    assert.match(perms.hint ?? '', /templates\/github-oidc\.yaml/);
  });

  it('asks for aws.availabilityZoneIds, suggesting two EKS-capable zones, in a region with no default pair', async () => {
    const report = await runDoctor((await fixture({ region: 'us-west-1' })).ctx);
    assert.equal(report.exitCode, 1);
    const zones = finding(report, 'region-zones');
    assert.equal(zones.level, 'error');
    assert.match(zones.hint ?? '', /aws\.availabilityZoneIds: \[usw1-az1, usw1-az3\]/);
  });

  it('exits 3 when AWS rejects the credentials, skipping the AWS checks but still checking the tools', async () => {
    const rejected = new STSServiceException({ name: 'ExpiredToken', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'The security token included in the request is expired' });
    const report = await runDoctor((await fixture({ aws: { callerIdentity: async () => Promise.reject(rejected) } })).ctx);
    assert.equal(report.exitCode, 3);
    const creds = finding(report, 'credentials');
    assert.equal(creds.level, 'error');
    assert.match(creds.detail, /AWS rejected the credentials in us-east-1: ExpiredToken/);
    assert.match(creds.hint ?? '', /aws sso login/);
    assert.equal(finding(report, 'docker-buildx').level, 'ok');
    for (const id of ['region-zones', 'quota-vpcs', 'iam-permissions']) assert.equal(finding(report, id).level, 'skipped');
  });

  it('exits 3 when istioctl is not the pinned Istio and helm is older than 3.6, and accepts a newer helm', async () => {
    const old = { docker: DOCKER, istioctl: [{ args: ['version'], stdout: '1.28.0\n' }], helm: [{ args: ['version'], stdout: 'v3.5.4+g1b5edb6\n' }] };
    const report = await runDoctor((await fixture({ tools: old })).ctx);
    assert.equal(report.exitCode, 3);
    const installer = finding(report, 'istio-installer');
    assert.equal(installer.detail, `cannot install Istio ${ISTIO_VERSION}: istioctl is 1.28.0, not ${ISTIO_VERSION}, helm 3.5.4 is older than 3.6`);
    assert.match(installer.hint ?? '', new RegExp(`ISTIO_VERSION=${ISTIO_VERSION.replace(/\./g, '\\.')}`));
    const withHelm = await runDoctor((await fixture({ tools: { ...old, helm: [{ args: ['version'], stdout: 'v3.16.2+g13654a5\n' }] } })).ctx);
    assert.equal(finding(withHelm, 'istio-installer').level, 'ok');
    assert.equal(withHelm.exitCode, 0, renderDoctorReport(withHelm));
  });

  it('exits 3 when docker has no buildx plugin', async () => {
    const noBuildx = { docker: [{ args: ['buildx'], stderr: "docker: 'buildx' is not a docker command.\n", exitCode: 1 }, ...DOCKER.slice(1)], istioctl: ISTIOCTL_PINNED };
    const report = await runDoctor((await fixture({ tools: noBuildx })).ctx);
    assert.equal(report.exitCode, 3);
    assert.match(finding(report, 'docker-buildx').detail, /docker has no buildx plugin: docker: 'buildx' is not a docker command/);
  });

  it('prints one JSON document and exits 3 from the command line when AWS cannot be reached and no tool is installed', async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [path.join(root, 'bin/meshgw'), '-c', path.join(root, 'meshgw.yaml'), '-o', 'json', 'doctor'],
        { env: { PATH: path.dirname(process.execPath), HOME: process.env.HOME ?? '/tmp', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_MAX_ATTEMPTS: '1', AWS_EC2_METADATA_DISABLED: 'true' } },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(r.code, 3, r.stderr);
    const report = JSON.parse(r.stdout) as DoctorReport;
    assert.equal(report.exitCode, 3);
    assert.deepEqual(report.findings.map((f) => [f.id, f.level]).slice(0, 3), [
      ['docker-buildx', 'error'],
      ['istio-installer', 'error'],
      ['credentials', 'error'],
    ]);
    assert.match(report.findings[2].detail, /cannot reach AWS in us-east-1 \(ECONNREFUSED/);
  });
});
