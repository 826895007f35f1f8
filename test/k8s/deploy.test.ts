// meshgw deploy (deployMesh) against a REAL kube-apiserver (+ etcd, test/support/real-cluster.ts) with
// the real Istio 1.28.0 CRDs installed up front and the real Gateway API v1.4.0 standard CRDs installed
// by deploy itself (the vendored files stand in for the release's standard-install.yaml download).
// istioctl and helm are fake executables (test/push/fake-tools.ts): installing Istio for real needs
// nodes. No controllers run, so the tests play them: Istio's gateway controller creates the Gateway's
// Deployment, and the deployment controller and kubelet write status.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createExecaRunner, type ToolRunner } from '../../src/aws/push-runner.js';
import type { MeshgwConfig } from '../../src/config/schema.js';
import { MeshgwError } from '../../src/errors.js';
import { createClusterApi } from '../../src/k8s/client.js';
import type { ClusterApi } from '../../src/k8s/cluster.js';
import { deployMesh, type DeployInput } from '../../src/k8s/deploy.js';
import { pluggedCaFrom, renderCacertsSecret, rootPathLength } from '../../src/k8s/mesh-ca.js';
import { GATEWAY_API_CRDS_URL, GATEWAY_API_VERSION, ISTIO_HELM_REPO } from '../../src/k8s/mesh-install.js';
import type { K8sObject } from '../../src/k8s/manifests/index.js';
import { createCa, type IssuedCert } from '../../src/pki/issue.js';
import { createFakeTools, type FakeTools } from '../push/fake-tools.js';
import { completeRollouts, createPodWithStatus, deleteNow } from '../support/cluster-status.js';
import { startRealCluster, type RealCluster } from '../support/real-cluster.js';
import { gatewayApiStandardInstallYaml, installRealCrds, ISTIO_CRD_FILE, loadRealCrds, parseCrds } from '../support/real-crds.js';
import { images, repoConfig } from './fixtures.js';
import { readFileSync } from 'node:fs';

let cluster: RealCluster;
let api: ClusterApi;
let meshCa: IssuedCert;

before(async () => {
  cluster = await startRealCluster();
  await installRealCrds(cluster.kubeConfig, { crds: parseCrds(readFileSync(ISTIO_CRD_FILE, 'utf8')) });
  api = createClusterApi(cluster.kubeConfig);
  meshCa = await createCa({ commonName: 'meshgw mesh CA', lifetimeDays: 30 });
});
after(async () => {
  await cluster?.stop();
});

const ISTIO_OBJECTS: K8sObject[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'istiod', namespace: 'istio-system' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: 'istio-system' } },
];
const GATEWAY_API_CRDS = () => loadRealCrds().filter((c) => c.spec.group === 'gateway.networking.k8s.io');

/** Each test its own mesh namespace, a fresh istio-system (no istiod, no mesh config, no cacerts) and its fake tools. */
async function scenario(namespace: string, replies: Parameters<typeof createFakeTools>[0]): Promise<{ config: MeshgwConfig; tools: FakeTools; order: string[] }> {
  await deleteNow(cluster.kubeConfig, ISTIO_OBJECTS);
  const base = repoConfig();
  return { config: { ...base, mesh: { ...base.mesh, namespace } }, tools: await createFakeTools(replies), order: [] };
}

const toCleanUp: FakeTools[] = [];
after(async () => {
  for (const t of toCleanUp) await t.cleanup();
});

async function input(config: MeshgwConfig, rollout: DeployInput['rollout']): Promise<DeployInput> {
  const secret = renderCacertsSecret(await pluggedCaFrom(meshCa, { lifetimeDays: 30 }));
  return { config, images: images(), ingressNodePort: 30080, tokenSecret: 'k'.repeat(43), cacerts: { secret, mode: 'intermediate' }, rollout };
}

/**
 * A rollout that completes after the first poll, as on a cluster: Istio's gateway controller creates the
 * Gateway's Deployment, then the deployment controller reports every Deployment available.
 */
function controllersAfterFirstPoll(config: MeshgwConfig): DeployInput['rollout'] {
  const ns = config.mesh.namespace;
  return {
    deadlineMs: 60_000,
    pollMs: 0,
    sleep: async () => {
      const gateway: K8sObject = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'meshgw-istio', namespace: ns, labels: { 'gateway.networking.k8s.io/gateway-name': 'meshgw' } },
        spec: { replicas: 1, selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'meshgw' } }, template: { metadata: { labels: { 'gateway.networking.k8s.io/gateway-name': 'meshgw' } }, spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] } } },
      };
      await api.apply(gateway, { fieldManager: 'istio-gateway-controller' });
      await completeRollouts(cluster.kubeConfig, ns, [...Object.keys(config.services), 'meshgw-istio']);
    },
  };
}

/** Records each tool run into the same sequence as the applies meshgw makes. */
function recording(run: ToolRunner, order: string[]): ToolRunner {
  return { exec: async (cmd, args, opts) => (order.push(`run:${cmd} ${args[0]}`), run.exec(cmd, args, opts)) };
}
function recordingApi(order: string[]): ClusterApi {
  return { ...api, apply: async (obj, opts) => (order.push(`apply:${obj.kind}/${obj.metadata.name}`), api.apply(obj, opts)) };
}

/** Counts `x-kubernetes-validations` rules (CEL) anywhere in a JSON value; client-node's typed read names the key x_kubernetes_validations. */
const CEL_KEY = /^x[-_]kubernetes[-_]validations$/;
function celRules(node: unknown): number {
  if (Array.isArray(node)) return node.reduce((n: number, v) => n + celRules(v), 0);
  if (!node || typeof node !== 'object') return 0;
  return Object.entries(node).reduce((n, [k, v]) => n + (CEL_KEY.test(k) ? (v as unknown[]).length : 0) + celRules(v), 0);
}

describe('meshgw deploy on a real kube-apiserver', () => {
  it('installs the Gateway API CRDs with their CEL rules, plugs in cacerts before istioctl installs Istio, then applies and rolls out', async () => {
    // Standing alone: no Gateway API CRDs yet, whatever ran before.
    await deleteNow(cluster.kubeConfig, GATEWAY_API_CRDS());
    const { config, tools, order } = await scenario('fresh', { istioctl: [{ args: ['version'], stdout: `${repoConfig().aws.istioVersion}\n` }] });
    toCleanUp.push(tools);
    const fetched: string[] = [];
    const result = await deployMesh(await input(config, controllersAfterFirstPoll(config)), {
      api: recordingApi(order),
      run: recording(createExecaRunner(undefined, { PATH: tools.pathEnv }), order),
      fetchText: async (url) => (fetched.push(url), gatewayApiStandardInstallYaml()),
    });
    assert.equal(result.type, 'deployed', JSON.stringify(result));
    if (result.type !== 'deployed') return;
    assert.equal(result.gatewayApi, 'installed');
    assert.equal(result.istio, 'installed');
    assert.equal(result.tool, 'istioctl');
    assert.deepEqual(fetched, [GATEWAY_API_CRDS_URL]);
    for (const crd of GATEWAY_API_CRDS()) {
      const stored = await api.read(crd);
      assert.equal(stored?.metadata.annotations?.['gateway.networking.k8s.io/bundle-version'], GATEWAY_API_VERSION);
      assert.equal(celRules(stored), celRules(crd), `${crd.metadata.name} keeps all ${celRules(crd)} CEL rules`);
    }
    assert.ok(celRules(GATEWAY_API_CRDS()) > 100, 'the bundle has CEL rules to keep');
    const calls = (await tools.calls()).map((c) => c.argv.slice(0, 2).join(' '));
    assert.deepEqual(calls, ['version --remote=false', 'install -y']);
    assert.ok(order.indexOf('apply:Secret/cacerts') < order.indexOf('run:istioctl install'), `cacerts before istiod: ${order.join(', ')}`);
    assert.ok(order.indexOf('run:istioctl install') < order.indexOf('apply:Deployment/users'));
    // Each app rolls out to its services.<name>.replicas; Istio's gateway Deployment to its one pod.
    const expected = [...Object.entries(config.services).map(([name, s]) => [name, s.replicas, true]), ['meshgw-istio', 1, true]];
    assert.deepEqual(result.deployments.map((d) => [d.name, d.available, d.done]), expected);
  });

  it('keeps a running istiod at the pinned version with the tracing provider, and Gateway API CRDs at the pinned bundle', async () => {
    const { config, tools, order } = await scenario('present', {});
    toCleanUp.push(tools);
    await installRealCrds(cluster.kubeConfig, { crds: GATEWAY_API_CRDS(), fieldManager: 'kubectl' });
    // What Istio's installer leaves behind: istiod at the pinned tag, and a mesh config with meshgw's provider.
    const istioctlArgs = (await import('../../src/k8s/mesh-install.js')).istioctlArgs(config);
    const provider = istioctlArgs.find((a) => a.startsWith('meshConfig.extensionProviders[0].name='))?.split('=')[1];
    assert.ok(provider, 'deploy asks for a tracing provider');
    await api.apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'istiod', namespace: 'istio-system' }, spec: { selector: { matchLabels: { app: 'istiod' } }, template: { metadata: { labels: { app: 'istiod' } }, spec: { containers: [{ name: 'discovery', image: `docker.io/istio/pilot:${config.aws.istioVersion}` }] } } } }, { fieldManager: 'istio-installer' });
    await api.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: `extensionProviders:\n- name: ${provider}\n  opentelemetry: {service: x, port: 4317}\n` } }, { fieldManager: 'istio-installer' });
    const result = await deployMesh(await input(config, controllersAfterFirstPoll(config)), { api: recordingApi(order), run: createExecaRunner(undefined, { PATH: tools.pathEnv }), fetchText: async () => assert.fail('no download needed') });
    assert.equal(result.type, 'deployed', JSON.stringify(result));
    if (result.type !== 'deployed') return;
    assert.equal(result.istio, 'present');
    assert.equal(result.gatewayApi, 'present');
    assert.deepEqual(await tools.calls(), []);
  });

  it('installs Istio with helm (base, then istiod) when istioctl is missing', async () => {
    const { config, tools } = await scenario('helm', { helm: [{ args: ['version'], stdout: 'v3.16.2+g13654a5\n' }] });
    toCleanUp.push(tools);
    const result = await deployMesh(await input(config, controllersAfterFirstPoll(config)), { api, run: createExecaRunner(undefined, { PATH: tools.pathEnv }), fetchText: async () => gatewayApiStandardInstallYaml() });
    assert.equal(result.type, 'deployed', JSON.stringify(result));
    const calls = (await tools.calls()).map((c) => `${c.tool} ${c.argv.slice(0, 4).join(' ')}`);
    assert.deepEqual(calls, ['helm version --short', 'helm upgrade --install istio-base base', 'helm upgrade --install istiod istiod']);
    const install = (await tools.calls())[1].argv;
    assert.deepEqual(install.slice(install.indexOf('--repo'), install.indexOf('--repo') + 4), ['--repo', ISTIO_HELM_REPO, '--version', config.aws.istioVersion]);
  });

  it('refuses with TOOL_MISSING and how to install when neither istioctl nor helm is on PATH', async () => {
    const { config, tools } = await scenario('no-tools', {});
    toCleanUp.push(tools);
    await assert.rejects(deployMesh(await input(config, controllersAfterFirstPoll(config)), { api, run: createExecaRunner(undefined, { PATH: tools.pathEnv }), fetchText: async () => gatewayApiStandardInstallYaml() }), (err: unknown) => {
      assert.ok(err instanceof MeshgwError);
      assert.equal(err.code, 'TOOL_MISSING');
      assert.match(err.message, /neither istioctl nor helm is on PATH/);
      assert.match(err.hint ?? '', new RegExp(`ISTIO_VERSION=${config.aws.istioVersion.replace(/\./g, '\\.')}`));
      return true;
    });
  });

  it('reports a failed rollout with the pods and reasons instead of throwing', async () => {
    const { config, tools } = await scenario('failing', { istioctl: [{ args: ['version'], stdout: `${repoConfig().aws.istioVersion}\n` }] });
    toCleanUp.push(tools);
    await api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'failing' } });
    await createPodWithStatus(cluster.kubeConfig, 'failing', { name: 'users-1', labels: { 'app.kubernetes.io/name': 'users' }, containers: ['users'] }, {
      phase: 'Pending',
      containerStatuses: [{ name: 'users', ready: false, restartCount: 0, image: '', imageID: '', state: { waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } } }],
    });
    const result = await deployMesh(await input(config, { deadlineMs: 0, pollMs: 0 }), { api, run: createExecaRunner(undefined, { PATH: tools.pathEnv }), fetchText: async () => gatewayApiStandardInstallYaml() });
    assert.equal(result.type, 'failed');
    if (result.type !== 'failed') return;
    assert.deepEqual(result.problems.find((p) => p.pod === 'users-1'), { pod: 'users-1', reason: 'ErrImagePull', message: 'manifest unknown' });
    assert.ok(result.problems.some((p) => p.pod === '(none for meshgw-istio)'), 'the Gateway has no pods without Istio');
  });
});

describe('the plugged-in mesh CA', () => {
  it('issues istiod an intermediate CA signed by the mesh root', async () => {
    assert.equal(rootPathLength(meshCa.certPem), 1);
    const ca = await pluggedCaFrom(meshCa, { lifetimeDays: 30 });
    assert.equal(ca.mode, 'intermediate');
    const inter = new X509Certificate(ca.signingCertPem);
    const rootX = new X509Certificate(meshCa.certPem);
    assert.ok(inter.ca, 'CA:true');
    assert.ok(inter.verify(rootX.publicKey), 'signed by the mesh root');
    assert.ok(inter.checkIssued(rootX));
    assert.equal(ca.chainPem.trim(), `${ca.signingCertPem.trim()}\n${meshCa.certPem.trim()}`);
    assert.ok(new Date(inter.validTo) <= new Date(rootX.validTo), 'never outlives the root');
  });

  it('gives istiod the root itself when an older mesh root has pathLen 0 (an intermediate would not verify)', async () => {
    const { x509 } = await import('../../src/pki/x509.js');
    const { webcrypto } = await import('node:crypto');
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=old root', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000), keys, signingAlgorithm: alg, extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)] });
    const oldRoot: IssuedCert = { certPem: cert.toString('pem'), keyPem: x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'), notBefore: cert.notBefore, notAfter: cert.notAfter };
    assert.equal(rootPathLength(oldRoot.certPem), 0);
    const ca = await pluggedCaFrom(oldRoot, { lifetimeDays: 30 });
    assert.equal(ca.mode, 'root');
    assert.equal(ca.signingCertPem, oldRoot.certPem);
    assert.equal(ca.rootCertPem, oldRoot.certPem);
  });
});
