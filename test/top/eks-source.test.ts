/**
 * `top --target aws` against the real kube-apiserver 1.34 (test/support/real-cluster.ts): pod
 * discovery in the mesh namespace, the pod proxy request it makes, and the API server's own answers:
 * its refusal to proxy to a loopback pod IP (the pods here have no kubelet, so 127.0.0.1 is the only
 * address they can hold; kube-apiserver answers 400 "address not allowed" for it), and RBAC's 403 for
 * an identity without `pods/proxy` or without `list pods`. The happy path of the proxy's answer is in
 * eks-proxy.test.ts, against a fake shaped by the documented pod-proxy behaviour.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { MeshgwError } from '../../src/errors.js';
import { createEksSource } from '../../src/top/eks-source.js';
import { createPodMetricsApi } from '../../src/top/pod-metrics-api.js';
import { createPodWithStatus } from '../support/cluster-status.js';
import { startRealCluster, type RealCluster } from '../support/real-cluster.js';

const NS = 'meshgw';
const config = { mesh: { namespace: NS, trustDomain: 'cluster.local', leafLifetimeHours: 24, caLifetimeDays: 365 } };
const running = { phase: 'Running', podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] };

/** A kubeconfig for a ServiceAccount allowed `rules` in NS, with a token from the TokenRequest API. */
async function restrictedKubeConfig(cluster: RealCluster, name: string, rules: { resources: string[]; verbs: string[] }[]): Promise<KubeConfig> {
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const rbac = cluster.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name } } });
  await rbac.createNamespacedRole({ namespace: NS, body: { metadata: { name }, rules: rules.map((r) => ({ apiGroups: [''], ...r })) } });
  await rbac.createNamespacedRoleBinding({
    namespace: NS,
    body: { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name, namespace: NS }] },
  });
  const token = await core.createNamespacedServiceAccountToken({ name, namespace: NS, body: { spec: { audiences: [], expirationSeconds: 600 } } });
  const admin = cluster.kubeConfig.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'real', server: admin.server, caData: admin.caData, skipTLSVerify: admin.skipTLSVerify }],
    users: [{ name, token: token.status!.token }],
    contexts: [{ name: 'real', cluster: 'real', user: name }],
    currentContext: 'real',
  });
  return kc;
}

describe('top on EKS: scraping through the API server', { timeout: 180_000 }, () => {
  let cluster: RealCluster;

  before(async () => {
    cluster = await startRealCluster();
    const kc = cluster.kubeConfig;
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
    await createPodWithStatus(kc, NS, { name: 'users-7d9f-abcde', labels: { 'app.kubernetes.io/name': 'users' }, containers: ['app', 'istio-proxy'] }, running);
    await createPodWithStatus(kc, NS, { name: 'meshgw-istio-5c4f-xyz', labels: { 'gateway.networking.k8s.io/gateway-name': 'meshgw' }, containers: ['istio-proxy'] }, running);
    // Not scraped: another app's pod, and a meshgw pod not running yet.
    await createPodWithStatus(kc, NS, { name: 'stranger', labels: { app: 'other' } }, running);
    await createPodWithStatus(kc, NS, { name: 'orders-pending', labels: { 'app.kubernetes.io/name': 'orders' } }, { phase: 'Pending' });
  });
  after(async () => cluster?.stop());

  it("finds the running meshgw pods and asks each one's :15020 through the pod proxy, which refuses a loopback pod IP", async () => {
    const round = await createEksSource(config, createPodMetricsApi(cluster.kubeConfig)).scrapeAll();
    assert.deepEqual(round.scrapes, []);
    assert.deepEqual(round.down.map((d) => d.pod).sort(), ['meshgw-istio-5c4f-xyz', 'users-7d9f-abcde']);
    for (const d of round.down) {
      assert.equal(d.url, `/api/v1/namespaces/${NS}/pods/${d.pod}:15020/proxy/stats/prometheus`);
      // The API server's own refusal (proxyutil.IsProxyableIP): the request reached the pod proxy of the right pod.
      assert.match(d.reason, /^HTTP 400: .*address not allowed/, d.reason);
    }
  });

  it('explains a 403 for pods/proxy: the permission, the namespace and the kubectl exec way around', async () => {
    const kc = await restrictedKubeConfig(cluster, 'pod-reader', [{ resources: ['pods'], verbs: ['get', 'list'] }]);
    await assert.rejects(createEksSource(config, createPodMetricsApi(kc)).scrapeAll(), (err: unknown) => {
      assert.ok(err instanceof MeshgwError);
      assert.equal(err.exitCode, 3);
      assert.match(err.message, /refused to proxy to pod .*'s Istio agent port \(403\): .*pods\/proxy/);
      assert.match(err.hint ?? '', /`get` on `pods\/proxy` in namespace meshgw/);
      assert.match(err.hint ?? '', /kubectl auth can-i get pods --subresource=proxy -n meshgw/);
      assert.match(err.hint ?? '', /pilot-agent request GET stats\/prometheus/);
      return true;
    });
  });

  it('explains a 403 for listing pods', async () => {
    const kc = await restrictedKubeConfig(cluster, 'nobody', [{ resources: ['configmaps'], verbs: ['get'] }]);
    await assert.rejects(createEksSource(config, createPodMetricsApi(kc)).scrapeAll(), (err: unknown) => {
      assert.ok(err instanceof MeshgwError);
      assert.match(err.message, /refused to list pods in meshgw \(403\): .*cannot list resource "pods"/);
      assert.match(err.hint ?? '', /`get` on `pods` in namespace meshgw/);
      return true;
    });
  });
});
