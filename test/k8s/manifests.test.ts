import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { authorizationTable, principal } from '../../src/config/topology.js';
import { manifestsToYaml, renderManifests, type K8sObject } from '../../src/k8s/manifests/index.js';
import { images, repoConfig } from './fixtures.js';
import { venvBin } from '../support/tools.js';

interface ContainerView {
  image: string;
  env: { name: string; value?: string; valueFrom?: unknown }[];
  securityContext: { readOnlyRootFilesystem: boolean };
  readinessProbe: { httpGet: { path: string } };
  livenessProbe: { httpGet: { path: string } };
  resources: { limits: { memory?: string } };
}

// Custom kinds: kubernetes-validate has no schema for them; crd-validation.test.ts checks them on a real API server with the real CRDs.
const CRD_GROUPS = ['security.istio.io/', 'telemetry.istio.io/', 'networking.istio.io/', 'gateway.networking.k8s.io/'];
const isCrdKind = (o: K8sObject) => CRD_GROUPS.some((g) => o.apiVersion.startsWith(g));

function render(): K8sObject[] {
  return renderManifests({ config: repoConfig(), images: images(), ingressNodePort: 30080, tokenSecret: 's'.repeat(43) });
}

async function kubernetesValidate(objects: K8sObject[], version: string): Promise<{ exitCode: number; output: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-kv-'));
  try {
    const file = path.join(dir, 'manifests.yaml');
    await writeFile(file, manifestsToYaml(objects, { maskSecrets: false }));
    const r = await execa(venvBin('kubernetes-validate'), ['-k', version, '--strict', file], { reject: false });
    return { exitCode: r.exitCode ?? 1, output: `${r.stdout}\n${r.stderr}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('rendered manifests', () => {
  it('pass kubernetes-validate --strict for Kubernetes 1.33 (aws.kubernetesVersion)', async () => {
    const cfg = repoConfig();
    const core = render().filter((o) => !isCrdKind(o));
    assert.ok(core.length >= 12, `core objects rendered: ${core.length}`);
    const r = await kubernetesValidate(core, `${cfg.aws.kubernetesVersion}.0`);
    assert.equal(r.exitCode, 0, r.output);
    for (const o of core) assert.match(r.output, new RegExp(`passed for resource ${o.kind.toLowerCase()}/${o.metadata.name}`));
  });

  it('fail kubernetes-validate when a Deployment carries a misspelt field', async () => {
    const broken = render().filter((o) => o.kind === 'Deployment').slice(0, 1).map((d) => ({ ...d, spec: { ...(d.spec as object), replicaz: 2 } }));
    const r = await kubernetesValidate(broken, '1.33.0');
    assert.notEqual(r.exitCode, 0, 'the validator rejects an unknown field');
  });

  it('set STRICT mTLS for the whole namespace and allow exactly authorizationTable callers per service', () => {
    const cfg = repoConfig();
    const objs = render();
    const pa = objs.filter((o) => o.kind === 'PeerAuthentication');
    assert.equal(pa.length, 1);
    assert.deepEqual(pa[0].spec, { mtls: { mode: 'STRICT' } });
    assert.equal(pa[0].metadata.namespace, 'meshgw');
    const table = authorizationTable(cfg);
    for (const [svc, callers] of Object.entries(table)) {
      const ap = objs.find((o) => o.kind === 'AuthorizationPolicy' && (o.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels['app.kubernetes.io/name'] === svc);
      assert.ok(ap, `policy for ${svc}`);
      const principals = (ap.spec as { rules: { from: { source: { principals: string[] } }[] }[] }).rules.flatMap((r) => r.from.flatMap((f) => f.source.principals));
      assert.deepEqual(principals, callers.map((c) => principal(cfg, c)));
    }
    assert.deepEqual(table.users, ['gateway', 'orders']);
  });

  it('give the gateway the identity sa/gateway and pin its NodePort to IngressNodePort', () => {
    const objs = render();
    const gw = objs.find((o) => o.kind === 'Gateway')!;
    assert.equal(gw.metadata.annotations?.['gateway.istio.io/service-account'], 'gateway');
    assert.equal((gw.spec as { gatewayClassName: string }).gatewayClassName, 'istio');
    const ref = (gw.spec as { infrastructure: { parametersRef: { name: string } } }).infrastructure.parametersRef;
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ref.name)!;
    const svcPatch = JSON.parse((cm.data as { service: string }).service);
    assert.deepEqual(svcPatch.spec, { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
    assert.ok(objs.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'gateway'));
  });

  it('route each service by its prefix and stop the API key at the ingress', () => {
    const routes = render().filter((o) => o.kind === 'HTTPRoute');
    assert.deepEqual(routes.map((r) => r.metadata.name).sort(), ['orders', 'products', 'users']);
    for (const r of routes) {
      const rule = (r.spec as { rules: { matches: { path: { value: string } }[]; filters: { type: string; requestHeaderModifier?: { remove: string[] } }[] }[] }).rules[0];
      assert.equal(rule.matches[0].path.value, `/${r.metadata.name}`);
      const modifier = rule.filters.find((f) => f.type === 'RequestHeaderModifier');
      assert.deepEqual(modifier?.requestHeaderModifier?.remove, ['x-api-key'], `${r.metadata.name} drops x-api-key`);
    }
  });

  it('run every app Deployment by digest, non-root and read-only, with probes on /healthz and backend URLs for orders', () => {
    const objs = render();
    // The mesh namespace's apps; the tracing collector (meshgw-telemetry) runs a pinned public image tag.
    for (const d of objs.filter((o) => o.kind === 'Deployment' && o.metadata.namespace === repoConfig().mesh.namespace)) {
      const pod = (d.spec as { template: { spec: { serviceAccountName: string; securityContext: { runAsNonRoot: boolean }; containers: ContainerView[] } } }).template.spec;
      const c = pod.containers[0];
      assert.match(c.image, /@sha256:[a-f0-9]{64}$/);
      assert.equal(pod.serviceAccountName, d.metadata.name);
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.equal(c.readinessProbe.httpGet.path, '/healthz');
      assert.equal(c.livenessProbe.httpGet.path, '/healthz');
      assert.ok(c.resources.limits.memory);
      assert.deepEqual(c.env.find((e) => e.name === 'TOKEN_SECRET')?.valueFrom, { secretKeyRef: { name: 'meshgw-token', key: 'token-secret' } });
    }
    const orders = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'orders')!;
    const env = (orders.spec as { template: { spec: { containers: ContainerView[] } } }).template.spec.containers[0].env;
    assert.equal(env.find((e) => e.name === 'USERS_URL')?.value, 'http://users.meshgw.svc.cluster.local:8080');
    assert.equal(env.find((e) => e.name === 'PRODUCTS_URL')?.value, 'http://products.meshgw.svc.cluster.local:8080');
  });

  it('label every object managed-by meshgw and mask secret values in the printed YAML', () => {
    const objs = render();
    for (const o of objs) assert.equal(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'meshgw', `${o.kind}/${o.metadata.name}`);
    const ns = objs.find((o) => o.kind === 'Namespace')!;
    assert.equal(ns.metadata.labels?.['istio-injection'], 'enabled');
    const yaml = manifestsToYaml(objs);
    assert.ok(!yaml.includes(Buffer.from('s'.repeat(43)).toString('base64')), 'the token secret is not printed');
    assert.match(yaml, /token-secret: <redacted>/);
  });
});
