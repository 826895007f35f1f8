/**
 * verify mtls on aws. The mesh is a fake shaped by the real Istio sidecar: its Envoy stats come from
 * test/verify-aws/fixtures/ (names as an Istio 1.28 sidecar prints them, built from shared/ISTIO-STATS.md and
 * the Envoy/Istio sources it cites), and a stat the fixture lacks is never created, as Envoy's stats_matcher
 * does. Probe pods run against the Kubernetes API.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createClusterApi } from '../../src/k8s/client.js';
import { renderManifests, type K8sObject } from '../../src/k8s/manifests/index.js';
import { createCa, type IssuedCert } from '../../src/pki/issue.js';
import { createMeshClusterAccess, probePod } from '../../src/verify/aws/cluster-access.js';
import { parseStats } from '../../src/verify/aws/envoy-stats.js';
import { forbiddenPair, awsMtlsChecks } from '../../src/verify/aws/mtls-checks.js';
import type { AwsMtlsContext, MeshClusterAccess, ProbeSpec } from '../../src/verify/aws/mtls-context.js';
import { startFakeApiServer, type FakeApiServer } from '../k8s/fake-apiserver.js';
import { images, repoConfig } from '../k8s/fixtures.js';

type StatsProfile = 'meshgw' | 'default';

/** A sidecar's stats as pilot-agent prints them: users and orders from fixtures, products as users (same shape). */
function fixtureStats(workload: string, profile: StatsProfile): Map<string, number> {
  const file = workload === 'orders' ? 'orders' : 'users';
  return parseStats(readFileSync(new URL(`../../../test/verify-aws/fixtures/${file}-${profile}.stats`, import.meta.url), 'utf8'));
}

/**
 * A mesh that behaves like Istio with meshgw's policies: plaintext and foreign certificates are
 * refused at the inbound listener, a forbidden identity gets 403, and each moves the callee's counters,
 * under Envoy's real names. With the `default` profile (sidecars started without meshgw's stats matcher)
 * the TLS counters do not exist and are never created.
 */
class FakeMesh implements MeshClusterAccess {
  counters = new Map<string, Map<string, number>>();
  probes: ProbeSpec[] = [];
  deleted: string[] = [];
  constructor(
    public objects: K8sObject[],
    public enforce = true,
    public profile: StatsProfile = 'meshgw',
  ) {}
  stats(workload: string): Map<string, number> {
    if (!this.counters.has(workload)) this.counters.set(workload, fixtureStats(workload, this.profile));
    return this.counters.get(workload)!;
  }
  /** Envoy only counts a stat the matcher let it create. */
  bump(workload: string, name: string, by = 1) {
    const m = this.stats(workload);
    if (m.has(name)) m.set(name, m.get(name)! + by);
  }
  set(workload: string, name: string, value: number) {
    const m = this.stats(workload);
    if (m.has(name)) m.set(name, value);
  }
  async list(apiVersion: string, kind: string, namespace: string) {
    return this.objects.filter((o) => o.apiVersion === apiVersion && o.kind === kind && o.metadata.namespace === namespace);
  }
  async read(apiVersion: string, kind: string, namespace: string, name: string) {
    return this.objects.find((o) => o.apiVersion === apiVersion && o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name);
  }
  async podsOf(_ns: string, app: string) {
    return [`${app}-pod`];
  }
  async proxyStats(_ns: string, pod: string) {
    const m = this.stats(pod.replace(/-pod$/, ''));
    // pilot-agent prints histograms too; they carry no number and must be skipped.
    return [...[...m].map(([k, v]) => `${k}: ${v}`), 'cluster.xds-grpc.upstream_cx_length_ms: P0(nan,1.0) P25(nan,1.025)'].join('\n');
  }
  async runProbe(spec: ProbeSpec) {
    this.probes.push(spec);
    const callee = /\/\/(\w+)\./.exec(spec.script)![1];
    try {
      if (!this.enforce) return { exitCode: 0, output: '200' };
      if (spec.sidecar) {
        this.bump(callee, 'http.inbound_0.0.0.0_8080;.rbac.denied');
        return { exitCode: 0, output: '403' };
      }
      if (spec.files) {
        this.bump(callee, 'listener.0.0.0.0_15006.ssl.fail_verify_error');
        return { exitCode: 56, output: 'curl: (56) OpenSSL SSL_read: certificate unknown\n000' };
      }
      this.bump(callee, 'listener.0.0.0.0_15006.no_filter_chain_match');
      return { exitCode: 56, output: 'curl: (56) Recv failure: Connection reset by peer\n000' };
    } finally {
      this.deleted.push(spec.name);
    }
  }
}

let meshCa: IssuedCert;
let foreign: IssuedCert;

function context(cluster: MeshClusterAccess): AwsMtlsContext {
  return { config: repoConfig(), endpoint: { target: 'aws', config: repoConfig(), baseUrl: 'http://127.0.0.1:1', apiKeys: [] }, cluster, meshCaPem: meshCa.certPem, foreignClient: { certPem: foreign.certPem, keyPem: foreign.keyPem }, runId: 'abc123' };
}

function clusterObjects(rootPem: string): K8sObject[] {
  const objs = renderManifests({ config: repoConfig(), images: images(), ingressNodePort: 30080, tokenSecret: 'x'.repeat(43) });
  return [...objs, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace: 'meshgw' }, data: { 'root-cert.pem': rootPem } }];
}

async function run(ctx: AwsMtlsContext, id: string) {
  const check = awsMtlsChecks().find((c) => c.id === id);
  assert.ok(check, id);
  return check.run(ctx);
}

beforeEach(async () => {
  meshCa ??= await createCa({ commonName: 'meshgw mesh CA', lifetimeDays: 30 });
  foreign ??= await createCa({ commonName: 'foreign', lifetimeDays: 1 });
});

describe('verify mtls on aws (cluster behind a fake)', () => {
  it('passes the configuration checks on the objects meshgw deploys', async () => {
    const ctx = context(new FakeMesh(clusterObjects(meshCa.certPem)));
    for (const id of ['mtls.strict', 'mtls.authorization', 'mtls.root']) {
      const r = await run(ctx, id);
      assert.equal(r.ok, true, `${id}: ${r.detail}`);
    }
  });

  it('fails STRICT when a PERMISSIVE override exists, authorization when a caller is added, and the root when it is foreign', async () => {
    const objs = clusterObjects(foreign.certPem);
    objs.push({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'loose', namespace: 'meshgw' }, spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'users' } }, mtls: { mode: 'PERMISSIVE' } } });
    const ap = objs.find((o) => o.kind === 'AuthorizationPolicy' && o.metadata.name === 'users-callers')!;
    (ap.spec as { rules: { from: { source: { principals: string[] } }[] }[] }).rules[0].from[0].source.principals.push('cluster.local/ns/meshgw/sa/products');
    const ctx = context(new FakeMesh(objs));
    const strict = await run(ctx, 'mtls.strict');
    assert.equal(strict.ok, false);
    assert.match(strict.detail, /weaker: loose/);
    const authz = await run(ctx, 'mtls.authorization');
    assert.equal(authz.ok, false);
    assert.match(authz.detail, /users: allows \[.*sa\/products.*\], expected \[cluster.local\/ns\/meshgw\/sa\/gateway, cluster.local\/ns\/meshgw\/sa\/orders\]/);
    assert.equal((await run(ctx, 'mtls.root')).ok, false);
  });

  it('refuses plaintext, a foreign CA and a forbidden identity, each counted under the names an Istio sidecar prints', async () => {
    const mesh = new FakeMesh(clusterObjects(meshCa.certPem));
    const ctx = context(mesh);
    assert.deepEqual(forbiddenPair(ctx), { caller: 'products', callee: 'users' });
    for (const id of ['mtls.plaintext', 'mtls.foreign-ca', 'mtls.rbac']) {
      const r = await run(ctx, id);
      assert.equal(r.ok, true, `${id}: ${r.detail}`);
      assert.equal(r.data?.counterDelta, 1);
    }
    const users = mesh.stats('users');
    assert.equal(users.get('listener.0.0.0.0_15006.no_filter_chain_match'), 1);
    assert.equal(users.get('listener.0.0.0.0_15006.ssl.fail_verify_error'), 1);
    assert.equal(users.get('http.inbound_0.0.0.0_8080;.rbac.denied'), 1);
    assert.deepEqual(mesh.probes.map((p) => [p.sidecar, p.serviceAccount, Boolean(p.files)]), [[false, undefined, false], [false, undefined, true], [true, 'products', false]]);
    assert.deepEqual(mesh.deleted, mesh.probes.map((p) => p.name));
    assert.equal(mesh.probes[1].files?.['tls.crt'], foreign.certPem);
  });

  it('counts a denial by the TCP RBAC filter (tcp.rbac.denied, not split by port) as a refusal', async () => {
    const mesh = new FakeMesh(clusterObjects(meshCa.certPem));
    const probe = mesh.runProbe.bind(mesh);
    mesh.runProbe = async (spec) => {
      const r = await probe(spec);
      // Undo the HTTP count and count it where the network filter does.
      mesh.bump('users', 'http.inbound_0.0.0.0_8080;.rbac.denied', -1);
      mesh.bump('users', 'tcp.rbac.denied');
      return r;
    };
    const r = await run(context(mesh), 'mtls.rbac');
    assert.equal(r.ok, true, r.detail);
    assert.equal(r.data?.counterDelta, 1);
  });

  it('fails the refusal and handshake checks when the sidecars started without the stats matcher, saying to redeploy and restart', async () => {
    const mesh = new FakeMesh(clusterObjects(meshCa.certPem), true, 'default');
    const ctx = context(mesh);
    for (const id of ['mtls.plaintext', 'mtls.foreign-ca', 'mtls.handshakes']) {
      const r = await run(ctx, id);
      assert.equal(r.ok, false, `${id} must fail: ${r.detail}`);
      assert.match(r.detail, /do not emit/);
      assert.match(r.hint ?? '', /meshgw deploy/);
      assert.match(r.hint ?? '', /rollout restart deployment/);
    }
    // Nothing is provoked when its counter cannot be read.
    assert.equal(mesh.probes.length, 0);
    // Istio keeps rbac.* by default, so the RBAC refusal is still measured.
    const rbac = await run(ctx, 'mtls.rbac');
    assert.equal(rbac.ok, true, rbac.detail);
  });

  it('fails a refusal check when the mesh lets the probe through', async () => {
    const ctx = context(new FakeMesh(clusterObjects(meshCa.certPem), false));
    const r = await run(ctx, 'mtls.plaintext');
    assert.equal(r.ok, false);
    assert.match(r.hint ?? '', /let it through/);
  });

  it('counts outbound handshakes from orders to each backend on the clusters named with a trailing ";"', async () => {
    const mesh = new FakeMesh(clusterObjects(meshCa.certPem));
    mesh.set('orders', 'cluster.outbound|8080||users.meshgw.svc.cluster.local;.ssl.handshake', 3);
    mesh.set('orders', 'cluster.outbound|8080||products.meshgw.svc.cluster.local;.ssl.handshake', 0);
    const ctx = context(mesh);
    const partial = await run(ctx, 'mtls.handshakes');
    assert.equal(partial.ok, false);
    assert.match(partial.detail, /orders→users 3, orders→products 0/);
    mesh.set('orders', 'cluster.outbound|8080||products.meshgw.svc.cluster.local;.ssl.handshake', 2);
    assert.equal((await run(ctx, 'mtls.handshakes')).ok, true);
  });

  it("does not take the control plane's handshakes (cluster.xds-grpc.ssl.handshake, kept by default) for mesh traffic", async () => {
    const mesh = new FakeMesh(clusterObjects(meshCa.certPem), true, 'default');
    assert.ok((mesh.stats('orders').get('cluster.xds-grpc.ssl.handshake') ?? 0) > 0, 'the fixture has xds handshakes');
    const r = await run(context(mesh), 'mtls.handshakes');
    assert.equal(r.ok, false);
    assert.match(r.detail, /orders→users: .*do not emit/);
  });
});

describe('probe pods on the Kubernetes API', () => {
  let server: FakeApiServer;
  beforeEach(async () => {
    server = await startFakeApiServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('runs a probe to completion, returns its log and deletes the pod and its Secret', async () => {
    const api = createClusterApi(server.kubeConfig());
    let reads = 0;
    server.onApply = (o) => {
      if (o.kind === 'Pod') server.logs.set(o.metadata.name, 'curl: (56) Recv failure\n000');
    };
    const access = createMeshClusterAccess(api, async () => '', {
      deadlineMs: 10_000,
      pollMs: 0,
      sleep: async () => {
        reads += 1;
        const pod = [...server.objects.values()].find((o) => o.kind === 'Pod')!;
        if (reads === 2) pod.status = { containerStatuses: [{ name: 'probe', state: { terminated: { exitCode: 56 } } }] };
      },
    });
    const spec: ProbeSpec = { name: 'meshgw-probe-foreign-x', namespace: 'meshgw', sidecar: false, script: 'curl https://users', files: { 'tls.crt': 'CERT', 'tls.key': 'KEY' } };
    const r = await access.runProbe(spec);
    assert.deepEqual(r, { exitCode: 56, output: 'curl: (56) Recv failure\n000' });
    assert.equal(server.objects.size, 0, 'pod and secret deleted');
    const deletes = server.requests.filter((q) => q.method === 'DELETE').map((q) => q.path);
    assert.deepEqual(deletes, ['/api/v1/namespaces/meshgw/pods/meshgw-probe-foreign-x', '/api/v1/namespaces/meshgw/secrets/meshgw-probe-foreign-x']);
  });

  it('deletes the probe pod even when it never finishes', async () => {
    const api = createClusterApi(server.kubeConfig());
    let t = 0;
    const access = createMeshClusterAccess(api, async () => '', { deadlineMs: 5, pollMs: 1, now: () => t, sleep: async (ms) => void (t += ms) });
    const r = await access.runProbe({ name: 'meshgw-probe-plain-x', namespace: 'meshgw', sidecar: false, script: 'true' });
    assert.equal(r.exitCode, -1);
    assert.equal(server.objects.size, 0);
  });

  it('marks a sidecar probe for injection, holds it until the proxy starts, and keeps a plain one out of the mesh', () => {
    const [withSidecar] = probePod({ name: 'p', namespace: 'meshgw', sidecar: true, serviceAccount: 'products', script: 'x' });
    assert.equal(withSidecar.metadata.labels?.['sidecar.istio.io/inject'], 'true');
    assert.match(withSidecar.metadata.annotations?.['proxy.istio.io/config'] ?? '', /holdApplicationUntilProxyStarts/);
    assert.equal((withSidecar.spec as { serviceAccountName: string }).serviceAccountName, 'products');
    const [plain] = probePod({ name: 'q', namespace: 'meshgw', sidecar: false, script: 'x' });
    assert.equal(plain.metadata.labels?.['sidecar.istio.io/inject'], 'false');
  });
});
