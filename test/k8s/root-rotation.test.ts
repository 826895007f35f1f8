// `meshgw certs rotate-root` against a real kube-apiserver (test/support/real-cluster.ts) and moto's
// server modelling SSM Parameter Store. The test plays istiod and the Deployment controller: it
// publishes the istio-ca-root-cert ConfigMap, writes istiod's rollout status, and creates pods.
// Trust is judged by real TLS handshakes (node:tls, BoringSSL's cousin OpenSSL) with root-cert.pem as
// the client's CA bundle, as a sidecar uses it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { CoreV1Api } from '@kubernetes/client-node';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { MeshgwError } from '../../src/errors.js';
import { CACERTS_REF } from '../../src/k8s/cluster-ca.js';
import { prepareClusterSecrets } from '../../src/k8s/cluster-secrets.js';
import { splitPemCertificates } from '../../src/k8s/cacerts.js';
import { MESH_ROOT_ANNOTATION, rotateRoot, type RotationStep } from '../../src/k8s/root-rotation.js';
import { issueLeaf, type IssuedCert } from '../../src/pki/issue.js';
import { writeDeploymentStatus } from '../support/cluster-status.js';
import { startCaHarness, secretData, type CaHarness } from './ca-harness.js';
import { repoConfig } from './fixtures.js';

let h: CaHarness;
before(async () => {
  h = await startCaHarness();
});
after(async () => {
  await h?.stop();
});

const ISTIO = 'istio-system';

function deployment(name: string, namespace: string, labels: Record<string, string>, env: { name: string; value: string }[] = []) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'main', image: `example.invalid/${name}:test`, env }] } } },
  };
}

async function setup(name: string, opts: { multiRoot?: boolean } = {}) {
  const base = repoConfig();
  const config = { ...base, mesh: { ...base.mesh, namespace: `rot-${name}` }, aws: { ...base.aws, stackName: `rot-${name}` } };
  const ns = config.mesh.namespace;
  await h.deleteCacerts();
  const roots = h.store(config.aws.stackName);
  await prepareClusterSecrets({ api: h.api, roots }, { config, stateDir: await h.freshStateDir() });
  await h.api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ISTIO } });
  await h.api.apply(deployment('istiod', ISTIO, { app: 'istiod' }, opts.multiRoot === false ? [] : [{ name: 'ISTIO_MULTIROOT_MESH', value: 'true' }]));
  await writeDeploymentStatus(h.cluster.kubeConfig, ISTIO, 'istiod');
  for (const svc of ['users', 'orders']) await h.api.apply(deployment(svc, ns, { 'app.kubernetes.io/name': svc }));
  const deps = {
    api: h.api,
    roots,
    // Playing the Deployment controller: each poll of istiod's rollout finds it rolled out.
    istiodRollout: { deadlineMs: 10_000, pollMs: 0, sleep: () => writeDeploymentStatus(h.cluster.kubeConfig, ISTIO, 'istiod') },
  };
  const run = (step: RotationStep) => rotateRoot(step, deps, { namespace: ns, rootLifetimeDays: 365, intermediateLifetimeDays: 30 });
  /** istiod's job: publish root-cert.pem from cacerts to the namespace. */
  const publishTrustBundle = async () => {
    const bundle = secretData(await h.api.read(CACERTS_REF))['root-cert.pem'];
    await h.api.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace: ns }, data: { 'root-cert.pem': bundle } });
  };
  const pod = (podName: string, annotations: Record<string, string> = {}) =>
    h.api.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: podName, namespace: ns, annotations }, spec: { containers: [{ name: 'app', image: 'example.invalid/app:test' }] } });
  return { config, ns, roots, run, publishTrustBundle, pod };
}

async function cacerts() {
  return secretData(await h.api.read(CACERTS_REF));
}

/** A workload leaf issued by istiod's current signer (ca-cert.pem / ca-key.pem), with its chain. */
async function leafFromSigner(): Promise<{ leaf: IssuedCert; chain: string }> {
  const c = await cacerts();
  const signer: IssuedCert = { certPem: c['ca-cert.pem'], keyPem: c['ca-key.pem'], notBefore: new Date(), notAfter: new Date() };
  const leaf = await issueLeaf(signer, { spiffeId: 'spiffe://cluster.local/ns/meshgw/sa/users', dnsName: 'users.meshgw.svc.cluster.local', lifetimeHours: 1 });
  return { leaf, chain: `${leaf.certPem.trim()}\n${c['ca-cert.pem'].trim()}\n` };
}

/** Whether a TLS client trusting `bundle` accepts a server presenting `chain`. */
async function handshakeVerifies(server: { leaf: IssuedCert; chain: string }, bundle: string): Promise<boolean> {
  const srv = tls.createServer({ cert: server.chain, key: server.leaf.keyPem });
  srv.on('tlsClientError', () => {});
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  try {
    const sock = tls.connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, ca: bundle, checkServerIdentity: () => undefined });
    // events.once rejects on 'error', so the two outcomes are listened for by hand.
    const outcome = await new Promise<boolean>((resolve) => {
      sock.once('secureConnect', () => resolve(true));
      sock.once('error', () => resolve(false));
    });
    sock.destroy();
    return outcome;
  } finally {
    srv.close();
  }
}

describe('meshgw certs rotate-root', { timeout: 120_000 }, () => {
  it('overlaps the roots: both trusted while workloads re-issue, then only the new one', async () => {
    const s = await setup('full');
    const oldRoot = (await s.roots.get('current'))!;
    const oldLeaf = await leafFromSigner();

    const started = await s.run('start');
    assert.equal(started.type, 'started');
    assert.equal(started.status.phase, 'trust-both');
    const during = splitPemCertificates((await cacerts())['root-cert.pem']);
    assert.equal(during.length, 2, 'root-cert.pem holds both roots');
    assert.equal(during[0].trim(), oldRoot.certPem.trim());
    const newRoot = (await s.roots.get('next'))!;
    assert.equal(during[1].trim(), newRoot.certPem.trim());

    await assert.rejects(s.run('switch'), (err: unknown) => err instanceof MeshgwError && /not yet published both roots/.test(err.message), 'switch waits for istiod to publish both roots');
    await s.publishTrustBundle();
    const switched = await s.run('switch');
    assert.equal(switched.type, 'switched');
    assert.equal(switched.status.phase, 'issuing-new');
    assert.ok(switched.type === 'switched' && switched.restarted.includes(`${s.ns}/users`) && switched.restarted.includes('istiod'));
    const newLeaf = await leafFromSigner();
    const bundle = (await cacerts())['root-cert.pem'];
    assert.ok(await handshakeVerifies(oldLeaf, bundle), 'a leaf from the old intermediate verifies against the bundle');
    assert.ok(await handshakeVerifies(newLeaf, bundle), 'a leaf from the new intermediate verifies against the bundle');
    assert.equal(await handshakeVerifies(newLeaf, oldRoot.certPem), false, 'the new leaf really chains to the new root');

    // A pod from before the switch blocks finish; its replacement (with the template's mark) does not.
    await s.pod('users-old');
    await assert.rejects(s.run('finish'), (err: unknown) => err instanceof MeshgwError && err.code === 'CHECK_FAILED' && /users-old/.test(err.message));
    // Background propagation: Foreground (ClusterApi.delete) waits for a garbage collector this server does not run.
    await h.cluster.kubeConfig.makeApiClient(CoreV1Api).deleteNamespacedPod({ name: 'users-old', namespace: s.ns, gracePeriodSeconds: 0, propagationPolicy: 'Background' });
    await waitGone(s.ns, 'users-old');
    const mark = (await h.api.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'users', namespace: s.ns } }))!;
    const annotations = (mark.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations;
    await s.pod('users-new', { [MESH_ROOT_ANNOTATION]: annotations[MESH_ROOT_ANNOTATION] });

    const finished = await s.run('finish');
    assert.equal(finished.type, 'finished');
    assert.equal(finished.status.phase, 'steady');
    const after = (await cacerts())['root-cert.pem'];
    assert.deepEqual(splitPemCertificates(after).map((p) => p.trim()), [newRoot.certPem.trim()], 'only the new root is trusted');
    assert.ok(await handshakeVerifies(newLeaf, after));
    assert.equal(await handshakeVerifies(oldLeaf, after), false, 'the old intermediate is no longer trusted');
    assert.equal((await s.roots.get('current'))?.certPem, newRoot.certPem, 'the new root is the stored current root');
    assert.equal(await s.roots.get('next'), undefined);
  });

  it('refuses to start a rotation while one is in progress, naming the next step', async () => {
    const s = await setup('busy');
    await s.run('start');
    const before = await cacerts();
    await assert.rejects(s.run('start'), (err: unknown) => {
      assert.ok(err instanceof MeshgwError);
      assert.equal(err.code, 'USAGE');
      assert.match(err.message, /already in progress \(phase trust-both\)/);
      assert.match(err.hint ?? '', /rotate-root switch/);
      return true;
    });
    assert.deepEqual(await cacerts(), before, 'nothing changed');
  });

  it('refuses finish when no rotation runs, and start when istiod would trust only one root', async () => {
    const s = await setup('single', { multiRoot: false });
    await assert.rejects(s.run('finish'), (err: unknown) => err instanceof MeshgwError && err.code === 'USAGE' && /no root rotation is in progress/.test(err.message));
    const before = await cacerts();
    await assert.rejects(s.run('start'), (err: unknown) => err instanceof MeshgwError && err.code === 'CHECK_FAILED' && /ISTIO_MULTIROOT_MESH/.test(err.hint ?? ''));
    assert.deepEqual(await cacerts(), before);
    assert.equal(await s.roots.get('next'), undefined, 'no new root minted');
  });

  it('reports the phase and what to run next with status', async () => {
    const s = await setup('status');
    const steady = await s.run('status');
    assert.equal(steady.status.phase, 'steady');
    assert.match(steady.status.next, /rotate-root`/);
    await s.run('start');
    const during = await s.run('status');
    assert.equal(during.status.phase, 'trust-both');
    assert.equal(during.status.roots.length, 2);
    assert.equal(during.status.signer.chainsTo, during.status.roots[0].fingerprint);
  });
});

async function waitGone(namespace: string, name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (await h.api.read({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace } })) {
    if (Date.now() > deadline) throw new Error(`pod ${name} still there`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

