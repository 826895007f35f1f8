import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ECRClient, DescribeImagesCommand, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { createEcrApi, type EcrApi } from '../../src/aws/ecr.js';
import type { StackOutputs } from '../../src/aws/outputs.js';
import { gitTag } from '../../src/aws/image-tag.js';
import { pushImagesToEcr, repositoryOutputName } from '../../src/aws/push.js';
import { imageRef, readImagesRecord, writeImagesRecord } from '../../src/aws/push-record.js';
import { createExecaRunner } from '../../src/aws/push-runner.js';
import { MeshgwError } from '../../src/errors.js';
import { repoConfig } from '../k8s/fixtures.js';
import { createFakeTools, type FakeTools } from './fake-tools.js';
import { removeRepos, repo } from './git-repo.js';

const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const PASSWORD = 'ecr-password-that-must-stay-on-stdin';
const digest = (c: string) => `sha256:${c.repeat(64)}`;

function outputs(): StackOutputs {
  return {
    InvokeUrl: '', RestApiId: '', StageName: 'prod', ClusterName: 'meshgw', NlbDnsName: '', IngressNodePort: '30080', AccessLogGroupName: '', ApiKeyIds: '', UsagePlanIds: '',
    UsersRepositoryUri: `${REGISTRY}/meshgw-users`, ProductsRepositoryUri: `${REGISTRY}/meshgw-products`, OrdersRepositoryUri: `${REGISTRY}/meshgw-orders`,
  };
}

/** ECR through aws-sdk-client-mock: the token AWS returns, and which tags it already holds. */
function mockedEcr(existing: Record<string, string>): EcrApi {
  const ecr = new ECRClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const mock = mockClient(ecr);
  mock.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [{ authorizationToken: Buffer.from(`AWS:${PASSWORD}`).toString('base64'), proxyEndpoint: `https://${REGISTRY}` }] });
  mock.on(DescribeImagesCommand).callsFake((input: { repositoryName: string; imageIds: { imageTag: string }[] }) => {
    const d = existing[`${input.repositoryName}:${input.imageIds[0].imageTag}`];
    if (!d) throw Object.assign(new Error('not found'), { name: 'ImageNotFoundException' });
    return { imageDetails: [{ imageDigest: d }] };
  });
  return createEcrApi(ecr);
}

let tools: FakeTools | undefined;
afterEach(async () => {
  await tools?.cleanup();
  tools = undefined;
  await removeRepos();
});

describe('meshgw push', () => {
  it('logs in with the ECR password on stdin only, builds for linux/amd64 with buildx and records each digest', async () => {
    tools = await createFakeTools({
      git: [{ args: ['rev-parse'], stdout: 'abc1234\n' }, { args: ['status'], stdout: '' }],
      docker: [
        { args: ['version'], stdout: '27.3.1\n' },
        { args: ['push', `${REGISTRY}/meshgw-users:abc1234`], stdout: `abc1234: digest: ${digest('1')} size: 1570\n` },
        { args: ['push', `${REGISTRY}/meshgw-products:abc1234`], stdout: `abc1234: digest: ${digest('2')} size: 1570\n` },
        { args: ['push', `${REGISTRY}/meshgw-orders:abc1234`], stdout: `abc1234: digest: ${digest('3')} size: 1570\n` },
      ],
    });
    const run = createExecaRunner(undefined, { PATH: tools.pathEnv });
    const record = await pushImagesToEcr({ config: repoConfig(), outputs: outputs(), repoRoot: '/work/main' }, run, mockedEcr({}));
    assert.equal(record.tag, 'abc1234');
    assert.equal(record.platform, 'linux/amd64');
    assert.deepEqual(record.images.map((i) => [i.service, i.digest, i.action]), [['users', digest('1'), 'pushed'], ['products', digest('2'), 'pushed'], ['orders', digest('3'), 'pushed']]);
    const calls = await tools.calls();
    const logins = calls.filter((c) => c.argv[0] === 'login');
    assert.equal(logins.length, 1, 'one login for the registry');
    assert.deepEqual(logins[0].argv, ['login', '--username', 'AWS', '--password-stdin', REGISTRY]);
    assert.equal(logins[0].stdin, PASSWORD);
    for (const c of calls) assert.ok(!c.argv.join(' ').includes(PASSWORD), `password not in argv of ${c.tool} ${c.argv[0]}`);
    const builds = calls.filter((c) => c.argv[0] === 'buildx');
    assert.deepEqual(builds[0].argv, ['buildx', 'build', '--platform', 'linux/amd64', '--file', 'services/users/Dockerfile', '--tag', `${REGISTRY}/meshgw-users:abc1234`, '--load', '.']);
    assert.equal(builds.length, 3);
  });

  it('skips an image whose tag ECR already has and does not log in when nothing is left to push', async () => {
    tools = await createFakeTools({ docker: [{ args: ['version'], stdout: '27.3.1\n' }] });
    const run = createExecaRunner(undefined, { PATH: tools.pathEnv });
    const existing = { 'meshgw-users:v7': digest('a'), 'meshgw-products:v7': digest('b'), 'meshgw-orders:v7': digest('c') };
    const record = await pushImagesToEcr({ config: repoConfig(), outputs: outputs(), repoRoot: '/work/main', tag: 'v7', platform: 'linux/arm64' }, run, mockedEcr(existing));
    assert.deepEqual(record.images.map((i) => i.action), ['skipped', 'skipped', 'skipped']);
    assert.equal(imageRef(record.images[0]), `${REGISTRY}/meshgw-users@${digest('a')}`);
    const calls = await tools.calls();
    assert.deepEqual(calls.map((c) => c.argv[0]), ['version'], 'only the daemon check ran');
  });

  it('builds and pushes a second, different dirty tree instead of skipping as the first one’s tag', async () => {
    // A real git repository (the real git after the fake docker on PATH); ECR holds the first push.
    const dir = await repo();
    await writeFile(path.join(dir, 'services', 'users', 'app.ts'), 'export const version = 2;\n');
    const first = await gitTag(createExecaRunner(), dir);
    const existing = { [`meshgw-users:${first}`]: digest('a'), [`meshgw-products:${first}`]: digest('b'), [`meshgw-orders:${first}`]: digest('c') };
    await writeFile(path.join(dir, 'services', 'users', 'app.ts'), 'export const version = 3;\n');
    const second = await gitTag(createExecaRunner(), dir);
    const pushed = (name: string, d: string) => ({ args: ['push', `${REGISTRY}/meshgw-${name}:${second}`], stdout: `${second}: digest: ${digest(d)} size: 1570\n` });
    tools = await createFakeTools({ docker: [{ args: ['version'], stdout: '27.3.1\n' }, pushed('users', '1'), pushed('products', '2'), pushed('orders', '3')] }, { keepSystemPath: true });
    const run = createExecaRunner(undefined, { PATH: tools.pathEnv });
    const record = await pushImagesToEcr({ config: repoConfig(), outputs: outputs(), repoRoot: dir }, run, mockedEcr(existing));
    assert.notEqual(record.tag, first);
    assert.equal(record.tag, second);
    assert.deepEqual(record.images.map((i) => i.action), ['pushed', 'pushed', 'pushed']);
    // The same dirty tree pushed again finds its own images and skips them.
    const again = await pushImagesToEcr({ config: repoConfig(), outputs: outputs(), repoRoot: dir }, run, mockedEcr({ ...existing, [`meshgw-users:${second}`]: digest('1'), [`meshgw-products:${second}`]: digest('2'), [`meshgw-orders:${second}`]: digest('3') }));
    assert.deepEqual(again.images.map((i) => i.action), ['skipped', 'skipped', 'skipped']);
  });

  it('says how to get docker when it is not on PATH', async () => {
    tools = await createFakeTools({});
    const run = createExecaRunner(undefined, { PATH: tools.pathEnv });
    await assert.rejects(pushImagesToEcr({ config: repoConfig(), outputs: outputs(), repoRoot: '/work/main', tag: 't' }, run, mockedEcr({})), (err: unknown) => {
      assert.ok(err instanceof MeshgwError);
      assert.equal(err.code, 'TOOL_MISSING');
      assert.equal(err.exitCode, 3);
      assert.match(err.message, /docker is not on PATH/);
      assert.match(err.hint ?? '', /docs\.docker\.com/);
      return true;
    });
  });

  it('reports a docker whose daemon does not answer', async () => {
    tools = await createFakeTools({ docker: [{ args: ['version'], exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n' }] });
    const run = createExecaRunner(undefined, { PATH: tools.pathEnv });
    await assert.rejects(pushImagesToEcr({ config: repoConfig(), outputs: outputs(), repoRoot: '/work/main', tag: 't' }, run, mockedEcr({})), /cannot reach its daemon: Cannot connect to the Docker daemon/);
  });

  it('names the stack output of each repository and round-trips the images record', async () => {
    assert.equal(repositoryOutputName('users'), 'UsersRepositoryUri');
    const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-images-'));
    try {
      await assert.rejects(readImagesRecord(dir), (e: unknown) => e instanceof MeshgwError && e.code === 'STATE_MISSING');
      const rec = { tag: 't', platform: 'linux/amd64', pushedAt: '2026-01-01T00:00:00.000Z', images: [{ service: 'users', repositoryUri: 'r/u', tag: 't', digest: digest('d'), action: 'pushed' as const }] };
      const file = await writeImagesRecord(dir, rec);
      assert.equal(file, path.join(dir, 'aws', 'images.json'));
      assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), rec);
      assert.deepEqual(await readImagesRecord(dir), rec);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
