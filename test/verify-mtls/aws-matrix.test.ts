// verify mtls on aws: the authorization matrix and the root expiry policy. The probe pods' answers
// come from a mesh fake that decides exactly as Istio's RBAC filter does on the AuthorizationPolicies
// meshgw deploys (ALLOW policies selecting the callee; a principal not listed gets 403 "RBAC: access
// denied"), and the outsider's probe objects are applied to a REAL kube-apiserver (test/support/real-cluster.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { principal } from '../../src/config/topology.js';
import { applyObjects } from '../../src/k8s/apply.js';
import { createClusterApi } from '../../src/k8s/client.js';
import { renderManifests, type K8sObject } from '../../src/k8s/manifests/index.js';
import { createCa } from '../../src/pki/issue.js';
import { createMeshClusterAccess, probePod } from '../../src/verify/aws/cluster-access.js';
import { awsExpiryCheck, bundleValidity } from '../../src/verify/aws/expiry-check.js';
import { awsMatrixCheck } from '../../src/verify/aws/matrix-check.js';
import type { AwsMtlsContext, MeshClusterAccess, ProbeSpec } from '../../src/verify/aws/mtls-context.js';
import type { MatrixCell } from '../../src/verify/mtls/authz-matrix.js';
import { images, repoConfig } from '../k8s/fixtures.js';
import { startRealCluster, type RealCluster } from '../support/real-cluster.js';

const APP = 'app.kubernetes.io/name';

/** Istio's RBAC on the deployed policies: ALLOW policies that select the callee; with any, a caller must match one. */
class PolicyMesh implements MeshClusterAccess {
  probes: ProbeSpec[] = [];
  constructor(public policies: K8sObject[]) {}
  private allows(callee: string, caller: string): boolean {
    const cfg = repoConfig();
    const selecting = this.policies.filter((p) => (p.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels?.[APP] === callee && ((p.spec as { action?: string }).action ?? 'ALLOW') === 'ALLOW');
    if (selecting.length === 0) return true;
    const principals = selecting.flatMap((p) => ((p.spec as { rules?: { from?: { source?: { principals?: string[] } }[] }[] }).rules ?? []).flatMap((r) => (r.from ?? []).flatMap((f) => f.source?.principals ?? [])));
    return principals.includes(principal(cfg, caller));
  }
  async list() {
    return [];
  }
  async read() {
    return undefined;
  }
  async podsOf() {
    return [];
  }
  async proxyStats() {
    return '';
  }
  async runProbe(spec: ProbeSpec) {
    this.probes.push(spec);
    const lines = [...spec.script.matchAll(/http:\/\/(\w+)\.[^ ]*\/healthz\); echo "(meshgw-matrix \w+) \$code"/g)].map((m) => `${m[2]} ${this.allows(m[1], spec.serviceAccount ?? 'default') ? '200' : '403'}`);
    return { exitCode: 0, output: lines.join('\n') };
  }
}

function deployedPolicies(): K8sObject[] {
  return renderManifests({ config: repoConfig(), images: images(), ingressNodePort: 30080, tokenSecret: 'x'.repeat(43) }).filter((o) => o.kind === 'AuthorizationPolicy');
}

function context(cluster: MeshClusterAccess, meshCaPem = ''): AwsMtlsContext {
  return { config: repoConfig(), endpoint: { target: 'aws', config: repoConfig(), baseUrl: 'http://127.0.0.1:1', apiKeys: [] }, cluster, meshCaPem, foreignClient: { certPem: '', keyPem: '' }, runId: 'abc123' };
}

describe('verify mtls on aws: the authorization matrix', () => {
  it("runs one probe per caller identity under its ServiceAccount with a sidecar, and matches the deployed policies' answers to the table", async () => {
    const mesh = new PolicyMesh(deployedPolicies());
    const r = await awsMatrixCheck().run(context(mesh));
    assert.equal(r.ok, true, r.detail);
    assert.deepEqual(mesh.probes.map((p) => [p.serviceAccount, p.sidecar, p.createServiceAccount ?? false]), [
      ['gateway', true, false],
      ['users', true, false],
      ['products', true, false],
      ['orders', true, false],
      ['meshgw-verify-outsider', true, true],
    ]);
    const cells = (r.data as { cells: MatrixCell[] }).cells;
    assert.equal(cells.length, 15);
    assert.deepEqual(cells.filter((c) => c.observed === 'allow').map((c) => `${c.caller}→${c.callee}`).sort(), ['gateway→orders', 'gateway→products', 'gateway→users', 'orders→products', 'orders→users']);
  });

  it('fails naming the cell when a policy lets an undeclared caller in', async () => {
    const policies = deployedPolicies().map((p) => {
      const spec = p.spec as { selector: { matchLabels: Record<string, string> }; rules: { from: { source: { principals: string[] } }[] }[] };
      if (spec.selector.matchLabels[APP] !== 'orders') return p;
      return { ...p, spec: { ...spec, rules: [{ from: [{ source: { principals: [...spec.rules[0].from[0].source.principals, principal(repoConfig(), 'meshgw-verify-outsider')] } }] }] } };
    });
    const r = await awsMatrixCheck().run(context(new PolicyMesh(policies)));
    assert.equal(r.ok, false);
    assert.match(r.detail, /meshgw-verify-outsider→orders expected deny, saw allow \(the app answered 200\)/);
    assert.match(r.hint ?? '', /meshgw deploy/);
  });

  it('says when a probe printed nothing for a service, instead of guessing', async () => {
    class SilentMesh extends PolicyMesh {
      override async runProbe() {
        return { exitCode: -1, output: 'probe pod did not finish within 120000 ms' };
      }
    }
    const r = await awsMatrixCheck().run(context(new SilentMesh([])));
    assert.equal(r.ok, false);
    assert.match(r.detail, /expected allow, saw error \(the probe printed no answer\)/);
  });
});

describe("the outsider's probe objects on a real kube-apiserver", () => {
  let cluster: RealCluster;
  before(async () => {
    cluster = await startRealCluster({ crds: false });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('creates the ServiceAccount before the pod that runs under it, and deletes both after', async () => {
    const api = createClusterApi(cluster.kubeConfig);
    await applyObjects(api, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'verify-matrix' } }]);
    const spec: ProbeSpec = { name: 'meshgw-probe-matrix-outsider-abc123', namespace: 'verify-matrix', sidecar: true, serviceAccount: 'meshgw-verify-outsider', createServiceAccount: true, script: 'true' };
    assert.deepEqual(probePod(spec).map((o) => o.kind), ['ServiceAccount', 'Pod']);
    const seen: string[] = [];
    let t = 0;
    const access = createMeshClusterAccess(api, async () => assert.fail('no exec'), {
      deadlineMs: 2,
      pollMs: 1,
      now: () => t,
      sleep: async (ms) => {
        for (const o of probePod(spec)) if (await api.read(o)) seen.push(o.kind);
        t += ms;
      },
    });
    const r = await access.runProbe(spec);
    assert.equal(r.exitCode, -1, 'no kubelet runs the pod here');
    assert.deepEqual([...new Set(seen)].sort(), ['Pod', 'ServiceAccount'], 'the real API accepted both');
    for (const o of probePod(spec)) {
      const left = await api.read(o);
      assert.ok(left === undefined || (left.metadata as { deletionTimestamp?: unknown }).deletionTimestamp, `${o.kind} deleted`);
    }
  });
});

describe('verify mtls on aws: the mesh root expiry policy', () => {
  it('judges every root of the plugged-in bundle: warns on one inside the window, passes when all are outside', async () => {
    const [longRoot, shortRoot] = await Promise.all([createCa({ commonName: 'meshgw mesh CA', lifetimeDays: 365 }), createCa({ commonName: 'meshgw mesh CA (old)', lifetimeDays: 20 })]);
    assert.equal(bundleValidity(longRoot.certPem + shortRoot.certPem).length, 2);
    const check = awsExpiryCheck({ warnDays: 60 }, () => new Date());
    const mixed = await check.run(context(new PolicyMesh([]), longRoot.certPem + shortRoot.certPem));
    assert.equal(mixed.ok, true);
    assert.equal(mixed.warn, true);
    assert.match(mixed.detail, /mesh root 2 \(.*\) expires .* \(in 20 days, warning below 60 days\)/);
    assert.match(mixed.hint ?? '', /rotate-root/);
    const fine = await check.run(context(new PolicyMesh([]), longRoot.certPem));
    assert.equal(fine.ok, true);
    assert.equal(fine.warn, undefined);
  });
});
