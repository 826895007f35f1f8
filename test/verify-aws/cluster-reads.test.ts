// aws verify's cluster reads (createMeshClusterAccess over meshgw's ClusterApi) against a REAL
// kube-apiserver (+ etcd) with the real Istio and Gateway API CRDs (test/support/real-cluster.ts): the
// PeerAuthentication, AuthorizationPolicy and istio-ca-root-cert reads behind the mtls configuration
// checks, the pod listing, and the probe pod and Secret as the real API accepts them. What needs a
// kubelet (sidecar stats through exec, a probe's log) stays with the fakes in mtls.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MeshgwConfig } from '../../src/config/schema.js';
import { applyObjects } from '../../src/k8s/apply.js';
import { createClusterApi } from '../../src/k8s/client.js';
import type { ClusterApi } from '../../src/k8s/cluster.js';
import { renderManifests, type K8sObject } from '../../src/k8s/manifests/index.js';
import { createCa, type IssuedCert } from '../../src/pki/issue.js';
import { createMeshClusterAccess, probePod } from '../../src/verify/aws/cluster-access.js';
import { awsMtlsChecks } from '../../src/verify/aws/mtls-checks.js';
import type { AwsMtlsContext, MeshClusterAccess } from '../../src/verify/aws/mtls-context.js';
import { images, repoConfig } from '../k8s/fixtures.js';
import { createPodWithStatus } from '../support/cluster-status.js';
import { startRealCluster, type RealCluster } from '../support/real-cluster.js';

let cluster: RealCluster;
let api: ClusterApi;
let meshCa: IssuedCert;
let foreign: IssuedCert;

before(async () => {
  [cluster, meshCa, foreign] = await Promise.all([startRealCluster({ crds: true }), createCa({ commonName: 'meshgw mesh CA', lifetimeDays: 30 }), createCa({ commonName: 'foreign', lifetimeDays: 1 })]);
  api = createClusterApi(cluster.kubeConfig);
});
after(async () => {
  await cluster?.stop();
});

const noExec = async () => assert.fail('these checks read objects only; exec needs a kubelet');

function access(): MeshClusterAccess {
  return createMeshClusterAccess(api, noExec, { deadlineMs: 0, pollMs: 0 });
}

function configIn(namespace: string): MeshgwConfig {
  const cfg = repoConfig();
  return { ...cfg, mesh: { ...cfg.mesh, namespace } };
}

/** What deploy applies into the namespace, plus the root ConfigMap istiod publishes there. */
async function deployed(cfg: MeshgwConfig, rootPem: string): Promise<K8sObject[]> {
  const ns = cfg.mesh.namespace;
  const objects = renderManifests({ config: cfg, images: images(), ingressNodePort: 30080, tokenSecret: 'x'.repeat(43) }).filter((o) => o.metadata.namespace === ns || o.metadata.name === ns);
  await applyObjects(api, objects);
  await api.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace: ns }, data: { 'root-cert.pem': rootPem } }, { fieldManager: 'istiod' });
  return objects;
}

function context(cfg: MeshgwConfig): AwsMtlsContext {
  return { config: cfg, endpoint: { target: 'aws', config: cfg, baseUrl: 'http://127.0.0.1:1', apiKeys: [] }, cluster: access(), meshCaPem: meshCa.certPem, foreignClient: { certPem: foreign.certPem, keyPem: foreign.keyPem }, runId: 'abc123' };
}

async function run(ctx: AwsMtlsContext, id: string) {
  const check = awsMtlsChecks().find((c) => c.id === id);
  assert.ok(check, id);
  return check.run(ctx);
}

describe('verify mtls reads a real kube-apiserver', () => {
  it('passes STRICT, authorization and the mesh root on what deploy applied', async () => {
    const cfg = configIn('verify-ok');
    await deployed(cfg, meshCa.certPem);
    const ctx = context(cfg);
    for (const id of ['mtls.strict', 'mtls.authorization', 'mtls.root']) {
      const r = await run(ctx, id);
      assert.equal(r.ok, true, `${id}: ${r.detail}`);
    }
  });

  it('fails STRICT with a PERMISSIVE override, authorization with an extra caller, and the root when it is foreign', async () => {
    const cfg = configIn('verify-weak');
    const objects = await deployed(cfg, foreign.certPem);
    // What someone might add by hand with kubectl: a workload-level PERMISSIVE override, one more allowed caller.
    await api.apply({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'loose', namespace: 'verify-weak' }, spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'users' } }, mtls: { mode: 'PERMISSIVE' } } }, { fieldManager: 'kubectl' });
    const ap = structuredClone(objects.find((o) => o.kind === 'AuthorizationPolicy' && o.metadata.name === 'users-callers')!);
    (ap.spec as { rules: { from: { source: { principals: string[] } }[] }[] }).rules[0].from[0].source.principals.push(`${cfg.mesh.trustDomain}/ns/verify-weak/sa/products`);
    await api.apply(ap, { fieldManager: 'kubectl' });
    const ctx = context(cfg);
    const strict = await run(ctx, 'mtls.strict');
    assert.equal(strict.ok, false);
    assert.match(strict.detail, /weaker: loose/);
    const authz = await run(ctx, 'mtls.authorization');
    assert.equal(authz.ok, false);
    assert.match(authz.detail, /users: allows \[.*sa\/products.*\], expected \[.*sa\/gateway, .*sa\/orders\]/);
    const root = await run(ctx, 'mtls.root');
    assert.equal(root.ok, false);
  });

  it('says so when istiod has not published the root in the namespace', async () => {
    const cfg = configIn('verify-noroot');
    await applyObjects(api, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'verify-noroot' } }]);
    const r = await run(context(cfg), 'mtls.root');
    assert.equal(r.ok, false);
    assert.match(r.detail, /no istio-ca-root-cert in the namespace/);
  });

  it('lists only the running pods of a workload', async () => {
    await applyObjects(api, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'verify-pods' } }]);
    const labels = { 'app.kubernetes.io/name': 'users' };
    await createPodWithStatus(cluster.kubeConfig, 'verify-pods', { name: 'users-running', labels }, { phase: 'Running' });
    await createPodWithStatus(cluster.kubeConfig, 'verify-pods', { name: 'users-pending', labels }, { phase: 'Pending' });
    await createPodWithStatus(cluster.kubeConfig, 'verify-pods', { name: 'orders-running', labels: { 'app.kubernetes.io/name': 'orders' } }, { phase: 'Running' });
    assert.deepEqual(await access().podsOf('verify-pods', 'users'), ['users-running']);
  });

  it('creates probe pods and Secrets the real API accepts, and deletes them when the probe never finishes', async () => {
    await applyObjects(api, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'verify-probe' } }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'products', namespace: 'verify-probe' } }]);
    const spec = { name: 'meshgw-probe-foreign-abc123', namespace: 'verify-probe', sidecar: true, serviceAccount: 'products', script: 'curl -s https://users', files: { 'tls.crt': foreign.certPem, 'tls.key': foreign.keyPem } };
    const seen: string[] = [];
    let t = 0;
    const probing = createMeshClusterAccess(api, noExec, {
      deadlineMs: 2,
      pollMs: 1,
      now: () => t,
      // While the probe "runs", both objects exist as the server stored them.
      sleep: async (ms) => {
        for (const o of probePod(spec)) if (await api.read(o)) seen.push(o.kind);
        t += ms;
      },
    });
    const r = await probing.runProbe(spec);
    assert.equal(r.exitCode, -1);
    assert.match(r.output, /did not finish/);
    assert.deepEqual([...new Set(seen)].sort(), ['Pod', 'Secret']);
    for (const o of probePod(spec)) {
      const left = await api.read(o);
      // Foreground deletion: gone, or marked for the garbage collector (which this server does not run).
      assert.ok(left === undefined || (left.metadata as { deletionTimestamp?: unknown }).deletionTimestamp, `${o.kind} deleted`);
    }
  });
});
