// deploy's CA and token-secret step against a real kube-apiserver (etcd + kube-apiserver 1.34, see
// test/support/real-cluster.ts) and moto's server modelling SSM Parameter Store (SecureString).
// Before this step existed, deploy minted a root and a token secret in local state, so a second
// pipeline run on a fresh runner replaced both: the first test would fail on the changed root.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { MeshgwError } from '../../src/errors.js';
import { CACERTS_REF } from '../../src/k8s/cluster-ca.js';
import { prepareClusterSecrets, trustBundleFile } from '../../src/k8s/cluster-secrets.js';
import { TOKEN_SECRET_NAME } from '../../src/k8s/labels.js';
import { pluggedCaFrom, renderCacertsSecret } from '../../src/k8s/mesh-ca.js';
import { rootParameterName } from '../../src/k8s/mesh-root-store.js';
import { tokenSecretFile } from '../../src/k8s/token-secret.js';
import { createCa } from '../../src/pki/issue.js';
import { startCaHarness, secretData, type CaHarness } from './ca-harness.js';
import { repoConfig } from './fixtures.js';

let h: CaHarness;

before(async () => {
  h = await startCaHarness();
});
after(async () => {
  await h?.stop();
});

/** Each test its own mesh namespace and stack name, and a clean istio-system cacerts. */
async function scenario(name: string) {
  const base = repoConfig();
  const config = { ...base, mesh: { ...base.mesh, namespace: `mesh-${name}` }, aws: { ...base.aws, stackName: `stack-${name}` } };
  await h.deleteCacerts();
  return { config, roots: h.store(config.aws.stackName) };
}

const tokenRef = (namespace: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: TOKEN_SECRET_NAME, namespace } });

describe("deploy's CA and token-secret step", { timeout: 120_000 }, () => {
  it('leaves the root, cacerts and the token secret unchanged when a second pipeline run starts with no local state', async () => {
    const { config, roots } = await scenario('pipeline');
    const first = await prepareClusterSecrets({ api: h.api, roots }, { config, stateDir: await h.freshStateDir() });
    assert.equal(first.summary.ca.type, 'created');
    assert.equal(first.summary.tokenSecret, 'created');
    const cacerts1 = secretData(await h.api.read(CACERTS_REF));
    const token1 = secretData(await h.api.read(tokenRef(config.mesh.namespace)));
    const stored1 = await roots.get('current');
    assert.ok(stored1, 'the root and its key went to SSM');

    const secondState = await h.freshStateDir();
    const second = await prepareClusterSecrets({ api: h.api, roots }, { config, stateDir: secondState });
    assert.equal(second.summary.ca.type, 'kept');
    assert.equal(second.summary.tokenSecret, 'cluster');
    assert.deepEqual(secretData(await h.api.read(CACERTS_REF)), cacerts1, 'cacerts (root, intermediate and its key) unchanged');
    assert.deepEqual(secretData(await h.api.read(tokenRef(config.mesh.namespace))), token1, 'token secret unchanged');
    assert.equal((await roots.get('current'))?.certPem, stored1.certPem, 'the stored root unchanged');
    assert.equal(second.tokenSecret, first.tokenSecret);
    // The second runner's local state now holds what the cluster has, for verify.
    assert.equal(await readFile(trustBundleFile(secondState), 'utf8'), cacerts1['root-cert.pem']);
    assert.equal((await readFile(tokenSecretFile(secondState), 'utf8')).trim(), token1['token-secret']);
    assert.ok(new X509Certificate(cacerts1['ca-cert.pem']).checkIssued(new X509Certificate(stored1.certPem)), 'istiod signs with an intermediate of the stored root');
  });

  it('keeps the root key out of the cluster and stores it as an SSM SecureString', async () => {
    const { config, roots } = await scenario('keyoff');
    await prepareClusterSecrets({ api: h.api, roots }, { config, stateDir: await h.freshStateDir() });
    const root = (await roots.get('current'))!;
    const cacerts = secretData(await h.api.read(CACERTS_REF));
    assert.notEqual(cacerts['ca-key.pem'].trim(), root.keyPem.trim(), 'cacerts carries the intermediate key, not the root key');
    assert.ok(!Object.values(cacerts).some((v) => v.includes(root.keyPem.trim())));
    const raw = await h.ssm.send(new GetParameterCommand({ Name: rootParameterName(config.aws.stackName, 'current') }));
    assert.equal(raw.Parameter?.Type, 'SecureString');
  });

  it('writes the local token secret 0600 in a 0700 folder', async () => {
    const { config, roots } = await scenario('modes');
    const stateDir = await h.freshStateDir();
    await prepareClusterSecrets({ api: h.api, roots }, { config, stateDir });
    assert.equal((await stat(tokenSecretFile(stateDir))).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(tokenSecretFile(stateDir)))).mode & 0o777, 0o700);
  });

  it("adopts a cluster's cacerts whose root the store has never seen, and mints nothing", async () => {
    const { config, roots } = await scenario('adopt');
    const foreignRoot = await createCa({ commonName: 'earlier root', lifetimeDays: 30 });
    await h.api.apply(renderCacertsSecret(await pluggedCaFrom(foreignRoot, { lifetimeDays: 30 })));
    const before = secretData(await h.api.read(CACERTS_REF));
    const out = await prepareClusterSecrets({ api: h.api, roots }, { config, stateDir: await h.freshStateDir() });
    assert.equal(out.summary.ca.type, 'kept');
    assert.deepEqual(secretData(await h.api.read(CACERTS_REF)), before);
    assert.equal(await roots.get('current'), undefined, 'no root minted while the cluster has one');
  });

  it('renews a near-expiry intermediate from the stored root, keeping the trust bundle', async () => {
    const { config, roots } = await scenario('renew');
    const root = await createCa({ commonName: 'stored root', lifetimeDays: 365 });
    await roots.put('current', root);
    // An intermediate with 1 of 30 days left: below the 20 % renewal threshold.
    const old = await pluggedCaFrom(root, { lifetimeDays: 30, now: new Date(Date.now() - 29 * 86_400_000) });
    await h.api.apply(renderCacertsSecret(old));
    const out = await prepareClusterSecrets({ api: h.api, roots }, { config, stateDir: await h.freshStateDir() });
    assert.equal(out.summary.ca.type, 'renewed');
    const now = secretData(await h.api.read(CACERTS_REF));
    assert.notEqual(now['ca-cert.pem'], old.signingCertPem);
    assert.equal(now['root-cert.pem'].trim(), root.certPem.trim());
    assert.ok(new X509Certificate(now['ca-cert.pem']).checkIssued(new X509Certificate(root.certPem)));
  });

  it('refuses to renew an intermediate whose root key is nowhere, naming the SSM parameter', async () => {
    const { config, roots } = await scenario('nokey');
    const root = await createCa({ commonName: 'lost root', lifetimeDays: 365 });
    await h.api.apply(renderCacertsSecret(await pluggedCaFrom(root, { lifetimeDays: 30, now: new Date(Date.now() - 29 * 86_400_000) })));
    const before = secretData(await h.api.read(CACERTS_REF));
    await assert.rejects(prepareClusterSecrets({ api: h.api, roots }, { config, stateDir: await h.freshStateDir() }), (err: unknown) => {
      assert.ok(err instanceof MeshgwError);
      assert.equal(err.code, 'STATE_MISSING');
      assert.match(err.message, /\/meshgw\/stack-nokey\/mesh-root/);
      assert.match(err.hint ?? '', /rotate-root/);
      return true;
    });
    assert.deepEqual(secretData(await h.api.read(CACERTS_REF)), before, 'nothing changed');
  });

  it('moves a root an older meshgw kept in local state into the store when the cluster uses it', async () => {
    const { config, roots } = await scenario('legacy');
    const legacyRoot = await createCa({ commonName: 'meshgw mesh CA', lifetimeDays: 365 });
    await h.api.apply(renderCacertsSecret(await pluggedCaFrom(legacyRoot, { lifetimeDays: 30, now: new Date(Date.now() - 29 * 86_400_000) })));
    const out = await prepareClusterSecrets({ api: h.api, roots }, { config, stateDir: await h.freshStateDir(), legacyRoot });
    assert.equal(out.summary.ca.type, 'renewed');
    assert.equal((await roots.get('current'))?.certPem, legacyRoot.certPem);
  });
});
