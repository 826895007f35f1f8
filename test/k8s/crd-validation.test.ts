// Every object meshgw renders, applied by meshgw's own client to a REAL kube-apiserver (+ etcd) that has
// the real upstream CRDs installed (Gateway API v1.4.0 standard, Istio 1.28.0): the server checks the
// built-in kinds against Kubernetes' schemas and the Istio and Gateway API kinds against the CRDs'
// OpenAPI schemas and CEL rules, as a cluster does. Broken objects must be refused, and named.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MeshgwConfig } from '../../src/config/schema.js';
import { MeshgwError } from '../../src/errors.js';
import { applyObjects } from '../../src/k8s/apply.js';
import { createClusterApi } from '../../src/k8s/client.js';
import type { ClusterApi } from '../../src/k8s/cluster.js';
import { renderHttpRoute } from '../../src/k8s/manifests/gateway.js';
import { renderManifests, type K8sObject } from '../../src/k8s/manifests/index.js';
import { startRealCluster, type RealCluster } from '../support/real-cluster.js';
import { configIn, images, missingPaths } from './fixtures.js';

let cluster: RealCluster;
let api: ClusterApi;

before(async () => {
  cluster = await startRealCluster({ crds: true });
  api = createClusterApi(cluster.kubeConfig);
});
after(async () => {
  await cluster?.stop();
});

function render(cfg: MeshgwConfig): K8sObject[] {
  return renderManifests({ config: cfg, images: images(), ingressNodePort: 30080, tokenSecret: 's'.repeat(43) });
}

async function namespaceFor(cfg: MeshgwConfig): Promise<K8sObject[]> {
  const objects = render(cfg);
  const ns = objects.find((o) => o.kind === 'Namespace');
  assert.ok(ns, 'the manifests start with their Namespace');
  await api.apply(ns);
  return objects;
}

/** Asserts the apply was refused with a MeshgwError that names the object and quotes the server. */
async function assertRefused(obj: K8sObject, status: number, reason: RegExp): Promise<void> {
  await assert.rejects(applyObjects(api, [obj]), (err: unknown) => {
    assert.ok(err instanceof MeshgwError, `a MeshgwError, got ${String(err)}`);
    assert.equal(err.code, 'DEPLOY_FAILED');
    assert.ok(err.message.includes(`${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name}`), err.message);
    assert.ok(err.message.includes(`HTTP ${status}`), err.message);
    assert.match(err.message, reason);
    assert.ok(err.hint, 'says what to do next');
    return true;
  });
  assert.equal(await api.read(obj), undefined, 'nothing was stored');
}

describe('rendered manifests on a real kube-apiserver with the real CRDs', () => {
  it('are all accepted and stored with every field meshgw sent, the custom kinds checked by their CRDs', async () => {
    const cfg = configIn('valid');
    const objects = await namespaceFor(cfg);
    const custom = objects.filter((o) => /istio\.io|gateway\.networking\.k8s\.io/.test(o.apiVersion));
    assert.ok(['AuthorizationPolicy', 'Gateway', 'HTTPRoute', 'PeerAuthentication'].every((k) => custom.some((o) => o.kind === k)), 'the Istio and Gateway API kinds are in the render');
    await applyObjects(api, objects);
    for (const o of objects) {
      const stored = await api.read(o);
      assert.ok(stored, `${o.kind}/${o.metadata.name} stored`);
      // Secrets come back as data; what was sent as stringData is not a field of the stored object.
      const { stringData: _s, ...sent } = o as K8sObject & { stringData?: unknown };
      assert.deepEqual(missingPaths(sent, stored), [], `${o.kind}/${o.metadata.name} kept every field`);
    }
    // The HTTPRoute CRD defaults parentRefs' group and kind: proof that its schema, not a pass-through, stored it.
    const route = await api.read(objects.find((o) => o.kind === 'HTTPRoute')!);
    assert.deepEqual((route?.spec as { parentRefs: { group?: string; kind?: string }[] }).parentRefs[0].kind, 'Gateway');
  });

  it('accept the HTTPRoute with a URLRewrite that replaces the matched PathPrefix', async () => {
    const cfg = configIn('rewrite');
    await namespaceFor(cfg);
    const route = renderHttpRoute(cfg, 'users', '/');
    await applyObjects(api, [route]);
    const stored = await api.read(route);
    assert.deepEqual(missingPaths(route.spec, stored?.spec), []);
  });

  it('refuse, with 422 and the CEL rule`s message, an HTTPRoute that rewrites with ReplacePrefixMatch on an Exact match', async () => {
    const cfg = configIn('cel');
    await namespaceFor(cfg);
    const route = renderHttpRoute(cfg, 'users', '/');
    const broken = structuredClone(route);
    broken.metadata.name = 'broken-rewrite';
    (broken.spec as { rules: { matches: { path: { type: string } }[] }[] }).rules[0].matches[0].path.type = 'Exact';
    await assertRefused(broken, 422, /When using URLRewrite filter with path\.replacePrefixMatch, exactly one PathPrefix match must be specified/);
  });

  it('refuse, with 422, a PeerAuthentication whose mtls mode is not one of Istio`s', async () => {
    const cfg = configIn('badmode');
    const pa = (await namespaceFor(cfg)).find((o) => o.kind === 'PeerAuthentication')!;
    await assertRefused({ ...pa, spec: { mtls: { mode: 'STRICTEST' } } }, 422, /spec\.mtls\.mode: Unsupported value: "STRICTEST"/);
  });

  it('refuse a field the schema does not declare (built-in and custom kinds) instead of dropping it', async () => {
    const cfg = configIn('unknown');
    const objects = await namespaceFor(cfg);
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    await assertRefused({ ...deployment, spec: { ...(deployment.spec as object), replicaz: 2 } }, 500, /\.spec\.replicaz: field not declared in schema/);
    const gateway = objects.find((o) => o.kind === 'Gateway')!;
    await assertRefused({ ...gateway, spec: { ...(gateway.spec as object), listener: [] } }, 500, /\.spec\.listener: field not declared in schema/);
  });
});
