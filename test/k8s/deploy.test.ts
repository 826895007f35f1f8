import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createExecaRunner, type ToolRunner } from '../../src/aws/push-runner.js';
import { MeshgwError } from '../../src/errors.js';
import { createClusterApi } from '../../src/k8s/client.js';
import type { ClusterApi } from '../../src/k8s/cluster.js';
import { deployMesh } from '../../src/k8s/deploy.js';
import { pluggedCaFrom, rootPathLength } from '../../src/k8s/mesh-ca.js';
import { GATEWAY_API_VERSION } from '../../src/k8s/mesh-install.js';
import { createCa, type IssuedCert } from '../../src/pki/issue.js';
import { createFakeTools, type FakeTools } from '../push/fake-tools.js';
import { objectKey, startFakeApiServer, type FakeApiServer, type StoredObject } from './fake-apiserver.js';
import { images, repoConfig } from './fixtures.js';

const CRD_BUNDLE = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: httproutes.gateway.networking.k8s.io
  annotations:
    gateway.networking.k8s.io/bundle-version: ${GATEWAY_API_VERSION}
spec:
  group: gateway.networking.k8s.io
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gateways.gateway.networking.k8s.io
spec:
  group: gateway.networking.k8s.io
`;

let server: FakeApiServer;
let api: ClusterApi;
let tools: FakeTools | undefined;
let order: string[];
let meshCa: IssuedCert;

/** Plays the controllers: Istio deploys the Gateway's pods, and every Deployment becomes ready. */
function rollOutEverything(obj: StoredObject): void {
  order.push(`apply:${obj.kind}/${obj.metadata.name}`);
  if (obj.kind === 'Gateway') {
    server.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `${obj.metadata.name}-istio`, namespace: obj.metadata.namespace, generation: 1 }, spec: { replicas: 1 }, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 } });
  }
  if (obj.kind !== 'Deployment') return;
  const replicas = (obj.spec as { replicas: number }).replicas;
  obj.status = { observedGeneration: obj.metadata.generation, replicas, updatedReplicas: replicas, availableReplicas: replicas };
}

/** Records each tool run into the same sequence as the API server's applies. */
function recording(run: ToolRunner): ToolRunner {
  return { exec: async (cmd, args, opts) => (order.push(`run:${cmd} ${args[0]}`), run.exec(cmd, args, opts)) };
}

beforeEach(async () => {
  server = await startFakeApiServer();
  server.onApply = rollOutEverything;
  api = createClusterApi(server.kubeConfig());
  order = [];
  meshCa = await createCa({ commonName: 'meshgw mesh CA', lifetimeDays: 30 });
});
afterEach(async () => {
  await server.close();
  await tools?.cleanup();
  tools = undefined;
});

function input() {
  return { config: repoConfig(), images: images(), ingressNodePort: 30080, tokenSecret: 'k'.repeat(43), meshCa, rollout: { deadlineMs: 1_000, pollMs: 0 } };
}

describe('meshgw deploy', () => {
  it('installs the Gateway API CRDs and Istio with istioctl after plugging in cacerts, then applies and rolls out', async () => {
    tools = await createFakeTools({ istioctl: [{ args: ['version'], stdout: '1.28.1\n' }] });
    const fetched: string[] = [];
    const result = await deployMesh(input(), { api, run: recording(createExecaRunner(undefined, { PATH: tools.pathEnv })), fetchText: async (url) => (fetched.push(url), CRD_BUNDLE) });
    assert.equal(result.type, 'deployed');
    if (result.type !== 'deployed') return;
    assert.equal(result.istio, 'installed');
    assert.equal(result.tool, 'istioctl');
    assert.equal(result.gatewayApi, 'installed');
    assert.deepEqual(fetched, [`https://github.com/kubernetes-sigs/gateway-api/releases/download/${GATEWAY_API_VERSION}/standard-install.yaml`]);
    assert.ok(server.objects.has(objectKey('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, 'gateways.gateway.networking.k8s.io')));
    const calls = await tools.calls();
    assert.deepEqual(calls.map((c) => c.argv), [
      ['version', '--remote=false', '--short'],
      ['install', '-y', '--set', 'profile=minimal', '--set', 'tag=1.28.1', '--set', 'meshConfig.trustDomain=cluster.local'],
    ]);
    assert.ok(order.indexOf('apply:Secret/cacerts') < order.indexOf('run:istioctl install'), `cacerts before istiod: ${order.join(', ')}`);
    assert.ok(order.indexOf('run:istioctl install') < order.indexOf('apply:Deployment/users'));
    const cacerts = server.objects.get(objectKey('v1', 'Secret', 'istio-system', 'cacerts'))!;
    const data = cacerts.data as Record<string, string>;
    assert.deepEqual(Object.keys(data).sort(), ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem']);
    assert.equal(Buffer.from(data['root-cert.pem'], 'base64').toString(), meshCa.certPem);
    assert.deepEqual(result.deployments.map((d) => [d.name, d.available]), [['users', 2], ['products', 2], ['orders', 2], ['meshgw-istio', 1]]);
  });

  it('keeps a running istiod at the pinned version and a cacerts that already carries the mesh root', async () => {
    server.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'istiod', namespace: 'istio-system' }, spec: { template: { spec: { containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.28.1' }] } } } });
    server.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: 'istio-system' }, data: { 'root-cert.pem': Buffer.from(meshCa.certPem).toString('base64') } });
    server.put({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'httproutes.gateway.networking.k8s.io', annotations: { 'gateway.networking.k8s.io/bundle-version': GATEWAY_API_VERSION } } as StoredObject['metadata'] });
    tools = await createFakeTools({});
    const result = await deployMesh(input(), { api, run: createExecaRunner(undefined, { PATH: tools.pathEnv }), fetchText: async () => assert.fail('no download needed') });
    assert.equal(result.type, 'deployed');
    if (result.type !== 'deployed') return;
    assert.equal(result.istio, 'present');
    assert.equal(result.gatewayApi, 'present');
    assert.equal(result.caMode, 'kept');
    assert.deepEqual(await tools.calls(), []);
    assert.ok(!order.includes('apply:Secret/cacerts'));
  });

  it('installs Istio with helm (base, then istiod) when istioctl is missing', async () => {
    tools = await createFakeTools({ helm: [{ args: ['version'], stdout: 'v3.16.2+g13654a5\n' }] });
    const result = await deployMesh(input(), { api, run: createExecaRunner(undefined, { PATH: tools.pathEnv }), fetchText: async () => CRD_BUNDLE });
    assert.equal(result.type, 'deployed');
    const calls = (await tools.calls()).map((c) => `${c.tool} ${c.argv.join(' ')}`);
    const repo = '--repo https://istio-release.storage.googleapis.com/charts --version 1.28.1 --namespace istio-system --wait';
    assert.deepEqual(calls, [
      'helm version --short',
      `helm upgrade --install istio-base base ${repo}`,
      `helm upgrade --install istiod istiod ${repo} --set meshConfig.trustDomain=cluster.local`,
    ]);
  });

  it('refuses with TOOL_MISSING and how to install when neither istioctl nor helm is on PATH', async () => {
    tools = await createFakeTools({});
    await assert.rejects(deployMesh(input(), { api, run: createExecaRunner(undefined, { PATH: tools.pathEnv }), fetchText: async () => CRD_BUNDLE }), (err: unknown) => {
      assert.ok(err instanceof MeshgwError);
      assert.equal(err.code, 'TOOL_MISSING');
      assert.match(err.message, /neither istioctl nor helm is on PATH/);
      assert.match(err.hint ?? '', /ISTIO_VERSION=1\.28\.1/);
      return true;
    });
  });

  it('reports a failed rollout with the pods and reasons instead of throwing', async () => {
    tools = await createFakeTools({ istioctl: [{ args: ['version'], stdout: '1.28.1\n' }] });
    server.onApply = (o) => void order.push(o.kind);
    server.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'users-1', namespace: 'meshgw', labels: { 'app.kubernetes.io/name': 'users' } }, status: { containerStatuses: [{ name: 'users', ready: false, restartCount: 0, image: '', imageID: '', state: { waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } } }] } });
    const result = await deployMesh({ ...input(), rollout: { deadlineMs: 0, pollMs: 0 } }, { api, run: createExecaRunner(undefined, { PATH: tools.pathEnv }), fetchText: async () => CRD_BUNDLE });
    assert.equal(result.type, 'failed');
    if (result.type !== 'failed') return;
    assert.deepEqual(result.problems.find((p) => p.pod === 'users-1'), { pod: 'users-1', reason: 'ErrImagePull', message: 'manifest unknown' });
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
