// How deploy, down and verify (aws) reach the stack's cluster, against real components: a real
// kube-apiserver (test/support/real-cluster.ts) for the connection, and moto's EKS for
// DescribeCluster's shape. What neither can do is faked, and says so: moto cannot set a cluster's
// endpoint to our API server, so the connection tests describe the real server as EKS would
// (endpoint + CA), and the real API server has no EKS token webhook, so the token source hands it
// the server's static token (the EKS token itself is tested against botocore and STS in
// test/aws/eks-token.test.ts).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { KubeConfig } from '@kubernetes/client-node';
import { runDownAws } from '../../src/aws/commands.js';
import { createEksApi, type EksApi, type EksClusterInfo } from '../../src/aws/eks-cluster.js';
import { MeshgwError } from '../../src/errors.js';
import { removeDeployedObjects } from '../../src/k8s/cleanup.js';
import { createClusterApi } from '../../src/k8s/client.js';
import { connectStackCluster, sameServer, type StackClusterDeps } from '../../src/k8s/stack-cluster.js';
import { FakeCloudFormation } from '../aws/fake-cloudformation.js';
import { fastTiming, scratchContext, type Scratch } from '../aws/helpers.js';
import { startMoto, type MotoServer } from '../aws/moto-server.js';
import { startRealCluster, type RealCluster } from '../support/real-cluster.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const target = { clusterName: 'meshgw', region: 'us-east-1' };

describe("the connection to the stack's cluster", { timeout: 180_000 }, () => {
  let cluster: RealCluster;
  let s: Scratch;
  let described: EksClusterInfo;
  const tokenCalls: string[] = [];

  /** EKS as DescribeCluster would describe the real API server; null: as ResourceNotFoundException would. */
  function deps(info: EksClusterInfo | null = described, token = () => cluster.token): StackClusterDeps {
    const eks: EksApi = { describeCluster: async (name) => (info && name === info.name ? info : undefined) };
    return {
      eks,
      tokenSource: (name) => async () => {
        tokenCalls.push(name);
        return token();
      },
    };
  }

  async function kubeconfigWith(contexts: Record<string, string>, current: string): Promise<string> {
    const kc = new KubeConfig();
    const ca = cluster.kubeConfig.getCurrentCluster()?.caData;
    kc.loadFromOptions({
      clusters: Object.entries(contexts).map(([name, server]) => ({ name, server, caData: ca, skipTLSVerify: false })),
      users: [{ name: 'admin', token: cluster.token }],
      contexts: Object.keys(contexts).map((name) => ({ name, cluster: name, user: 'admin' })),
      currentContext: current,
    });
    const file = path.join(s.dir, `kubeconfig-${Object.keys(contexts).join('-')}`);
    await writeFile(file, kc.exportConfig(), { mode: 0o600 });
    return file;
  }

  before(async () => {
    cluster = await startRealCluster();
    s = await scratchContext('meshgw-conn');
    described = { name: 'meshgw', endpoint: cluster.server, certificateAuthorityData: cluster.kubeConfig.getCurrentCluster()?.caData ?? '', status: 'ACTIVE' };
    assert.ok(described.certificateAuthorityData, 'the harness serves TLS with a CA the client can pin');
  });
  after(async () => {
    await cluster?.stop();
    await s?.cleanup();
  });

  it('reaches the API server from DescribeCluster alone, with no kubeconfig file, sending the token on each request', async () => {
    tokenCalls.length = 0;
    const conn = await connectStackCluster(target, {}, deps());
    assert.equal(conn.via, 'eks-token');
    assert.equal(conn.server, cluster.server);
    const api = createClusterApi(conn.kubeConfig);
    const namespaces = await api.list('v1', 'Namespace', undefined, '');
    assert.ok(namespaces.some((n) => n.metadata.name === 'kube-system'));
    const afterFirst = tokenCalls.length;
    assert.ok(afterFirst > 0 && tokenCalls.every((n) => n === 'meshgw'));
    await api.list('v1', 'Namespace', undefined, '');
    assert.ok(tokenCalls.length > afterFirst, 'the token source is asked again for the next request, so a renewed token is used');
  });

  it('is refused by the API server when the token is not valid (the token is what authenticates)', async () => {
    const conn = await connectStackCluster(target, {}, deps(described, () => 'k8s-aws-v1.not-a-valid-token'));
    await assert.rejects(createClusterApi(conn.kubeConfig).list('v1', 'Namespace', undefined, ''), (err: unknown) => /401|Unauthorized/i.test(String((err as Error).message)));
  });

  it("accepts --kubeconfig and --context when the context's server is the stack's endpoint", async () => {
    const file = await kubeconfigWith({ stack: cluster.server, other: 'https://127.0.0.1:1' }, 'other');
    const conn = await connectStackCluster(target, { kubeconfig: file, context: 'stack' }, deps());
    assert.equal(conn.via, 'kubeconfig');
    const namespaces = await createClusterApi(conn.kubeConfig).list('v1', 'Namespace', undefined, '');
    assert.ok(namespaces.length > 0);
  });

  it('refuses a context whose server is another cluster, naming both URLs', async () => {
    const other = 'https://other-cluster.example:6443';
    const file = await kubeconfigWith({ stack: cluster.server, other }, 'other');
    for (const override of [{ kubeconfig: file }, { kubeconfig: file, context: 'other' }]) {
      await assert.rejects(connectStackCluster(target, override, deps()), (err: unknown) => {
        assert.ok(err instanceof MeshgwError);
        assert.equal(err.code, 'USAGE');
        assert.equal(err.exitCode, 2);
        assert.ok(err.message.includes(other), err.message);
        assert.ok(err.message.includes(cluster.server), err.message);
        assert.match(err.hint ?? '', /Leave out --kubeconfig and --context/);
        return true;
      });
    }
  });

  it('stops down before the stack is deleted when --context names another cluster, leaving the cluster objects', async () => {
    const admin = createClusterApi(cluster.kubeConfig);
    const namespace = s.ctx.loaded.config.mesh.namespace;
    await admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'meshgw' } } });
    const file = await kubeconfigWith({ stack: cluster.server, other: 'https://127.0.0.1:1' }, 'stack');
    const cfn = new FakeCloudFormation('meshgw-conn');
    cfn.setStack('CREATE_COMPLETE', { ClusterName: 'meshgw' });
    const run = runDownAws(s.ctx, {
      region: 'us-east-1',
      cfn,
      identity: async () => ({ account: '123456789012', arn: 'arn:aws:iam::123456789012:user/tester' }),
      confirm: async () => true,
      renderTemplate: async () => ({ template: { Parameters: {}, Resources: {}, Outputs: {} }, body: '', parameters: [] }),
      removeDeployedObjects: (name) => removeDeployedObjects(s.ctx, () => connectStackCluster({ clusterName: name, region: 'us-east-1' }, { kubeconfig: file, context: 'other' }, deps())),
      timing: fastTiming(),
    });
    await assert.rejects(run, (err: unknown) => err instanceof MeshgwError && err.code === 'USAGE' && err.message.includes('https://127.0.0.1:1'));
    assert.ok(!cfn.calls.includes('deleteStack'), `no deleteStack: ${cfn.calls.join(', ')}`);
    const ns = await admin.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    assert.ok(ns && !(ns.metadata as { deletionTimestamp?: string }).deletionTimestamp, 'the namespace is untouched');
  });

  it('names the cluster and region when the stack has no cluster, and down then skips the cleanup', async () => {
    await assert.rejects(connectStackCluster(target, {}, deps(null)), (err: unknown) => {
      assert.ok(err instanceof MeshgwError && err.code === 'CLUSTER_UNREACHABLE');
      assert.match(err.message, /EKS cluster meshgw does not exist in us-east-1/);
      return true;
    });
    const r = await removeDeployedObjects(s.ctx, () => connectStackCluster(target, {}, deps(null)));
    assert.equal(r.type, 'skipped');
  });

  it('compares servers by scheme, host and port', () => {
    assert.ok(sameServer('https://ABC.gr7.us-east-1.eks.amazonaws.com', 'https://abc.gr7.us-east-1.eks.amazonaws.com/'));
    assert.ok(sameServer('https://127.0.0.1:443', 'https://127.0.0.1'));
    assert.ok(!sameServer('https://127.0.0.1:6443', 'https://127.0.0.1:6444'));
    assert.ok(!sameServer('http://h', 'https://h'));
  });
});

describe('DescribeCluster through the SDK (moto EKS)', { timeout: 60_000 }, () => {
  let moto: MotoServer;
  let eks: EKSClient;
  before(async () => {
    moto = await startMoto(root);
    eks = new EKSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  });
  after(async () => moto?.stop());

  it('reads the endpoint, CA bundle and status EKS reports, and undefined for a missing cluster', async () => {
    await eks.send(new CreateClusterCommand({ name: 'meshgw-moto', roleArn: 'arn:aws:iam::123456789012:role/meshgw-cluster', resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] } }));
    const api = createEksApi(eks);
    const info = await api.describeCluster('meshgw-moto');
    assert.ok(info);
    assert.equal(info.name, 'meshgw-moto');
    assert.match(info.endpoint, /^https:\/\//);
    assert.ok(info.certificateAuthorityData.length > 0);
    assert.equal(info.status, 'ACTIVE');
    assert.equal(await api.describeCluster('no-such-cluster'), undefined);
  });
});
