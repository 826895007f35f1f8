import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import type { MeshgwConfig } from '../../src/config/schema.js';
import { describeCertificate, verifyChain } from '../../src/pki/describe.js';
import { caFiles, workloadTlsFiles } from '../../src/pki/files.js';
import { ensureMeshPki, rotateLeaves } from '../../src/pki/store.js';

const repoConfig = new URL('../../../meshgw.yaml', import.meta.url);
const HOUR = 3_600_000;

describe('the mesh PKI on disk', () => {
  let config: MeshgwConfig;
  let dir: string;
  let pkiDir: string;
  const t0 = new Date('2026-03-01T12:00:00Z');

  beforeEach(async () => {
    config = parseConfigText(await readFile(repoConfig, 'utf8'), 'meshgw.yaml');
    dir = await mkdtemp(path.join(tmpdir(), 'meshgw-pki-'));
    pkiDir = path.join(dir, 'pki');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const mode = async (file: string) => (await stat(file)).mode & 0o777;
  const byName = (s: Awaited<ReturnType<typeof ensureMeshPki>>) => Object.fromEntries(s.workloads.map((w) => [w.workload, w]));

  it('creates the CA and one leaf per workload, keys 0600 and folders 0700', async () => {
    const summary = await ensureMeshPki({ config, pkiDir, now: t0 });
    assert.equal(summary.ca.action, 'created');
    assert.deepEqual(summary.workloads.map((w) => w.workload), ['users', 'products', 'orders', 'gateway']);
    assert.ok(summary.workloads.every((w) => w.action === 'created'));
    assert.equal(await mode(caFiles(pkiDir).keyFile), 0o600);
    assert.equal(await mode(pkiDir), 0o700);
    const caPem = await readFile(caFiles(pkiDir).certFile, 'utf8');
    for (const w of summary.workloads) {
      const files = workloadTlsFiles(pkiDir, w.workload);
      assert.equal(await mode(files.keyFile), 0o600, `${w.workload} key`);
      assert.equal(await mode(path.dirname(files.keyFile)), 0o700);
      const certPem = await readFile(files.certFile, 'utf8');
      assert.deepEqual(verifyChain(certPem, caPem, t0), { ok: true });
      assert.equal(describeCertificate(certPem).identity, `spiffe://cluster.local/ns/meshgw/sa/${w.workload}`);
      assert.equal(await readFile(files.caFile, 'utf8'), caPem);
      assert.equal(w.identity, `spiffe://cluster.local/ns/meshgw/sa/${w.workload}`);
      assert.equal(Date.parse(w.notAfter) - t0.getTime(), config.mesh.leafLifetimeHours * HOUR);
    }
    assert.ok(!JSON.stringify(summary).includes('PRIVATE KEY'), 'the summary holds no key');
  });

  it('keeps valid certificates on a second run', async () => {
    const first = byName(await ensureMeshPki({ config, pkiDir, now: t0 }));
    const second = await ensureMeshPki({ config, pkiDir, now: new Date(t0.getTime() + HOUR) });
    assert.equal(second.ca.action, 'kept');
    for (const w of second.workloads) {
      assert.equal(w.action, 'kept');
      assert.equal(w.fingerprint, first[w.workload].fingerprint);
    }
  });

  it('renews leaves with less than 20% of their lifetime left, and only those', async () => {
    await ensureMeshPki({ config, pkiDir, now: t0 });
    const at79 = byName(await ensureMeshPki({ config, pkiDir, now: new Date(t0.getTime() + 0.79 * 24 * HOUR) }));
    assert.equal(at79.users.action, 'kept');
    const laterNow = new Date(t0.getTime() + 0.81 * 24 * HOUR);
    const at81 = byName(await ensureMeshPki({ config, pkiDir, now: laterNow }));
    assert.equal(at81.users.action, 'renewed');
    assert.equal(at81.users.reason, 'near-expiry');
    assert.equal(Date.parse(at81.users.notAfter), laterNow.getTime() + 24 * HOUR);
  });

  it('reissues a missing leaf and one whose identity no longer matches the config', async () => {
    await ensureMeshPki({ config, pkiDir, now: t0 });
    await unlink(workloadTlsFiles(pkiDir, 'orders').keyFile);
    const renamed = { ...config, mesh: { ...config.mesh, namespace: 'shop' } };
    const s = byName(await ensureMeshPki({ config: renamed, pkiDir, now: t0 }));
    assert.equal(s.orders.action, 'created');
    assert.equal(s.users.reason, 'identity-changed');
    assert.equal(s.users.identity, 'spiffe://cluster.local/ns/shop/sa/users');
  });

  it('reissues every leaf when the CA is replaced', async () => {
    await ensureMeshPki({ config, pkiDir, now: t0 });
    await writeFile(caFiles(pkiDir).keyFile, 'garbage', { mode: 0o600 });
    const s = await ensureMeshPki({ config, pkiDir, now: t0 });
    assert.equal(s.ca.action, 'renewed');
    assert.ok(s.workloads.every((w) => w.reason === 'not-signed-by-ca'), JSON.stringify(s.workloads.map((w) => w.reason)));
  });

  it('rotates every leaf under the same CA', async () => {
    const before = await ensureMeshPki({ config, pkiDir, now: t0 });
    const rotated = await rotateLeaves({ config, pkiDir, now: t0 });
    assert.equal(rotated.ca.action, 'kept');
    assert.equal(rotated.ca.fingerprint, before.ca.fingerprint);
    const old = byName(before);
    for (const w of rotated.workloads) {
      assert.equal(w.action, 'renewed');
      assert.notEqual(w.fingerprint, old[w.workload].fingerprint);
      assert.equal(await mode(w.files.keyFile), 0o600);
    }
  });
});

describe('inspectMeshPki', () => {
  it('reports each workload certificate as ok, near expiry, expired or missing without writing anything', async () => {
    const { inspectMeshPki } = await import('../../src/pki/inspect.js');
    const config = parseConfigText(await readFile(repoConfig, 'utf8'), 'meshgw.yaml');
    const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-pki-'));
    const pkiDir = path.join(dir, 'pki');
    try {
      const t0 = new Date('2026-03-01T12:00:00Z');
      assert.ok((await inspectMeshPki({ config, pkiDir, now: t0 })).workloads.every((w) => w.status === 'no-ca'));
      await ensureMeshPki({ config, pkiDir, now: t0 });
      const fresh = await inspectMeshPki({ config, pkiDir, now: t0 });
      assert.ok(fresh.ca?.fingerprint);
      assert.ok(fresh.workloads.every((w) => w.status === 'ok' && w.identity === w.expectedIdentity));
      const late = await inspectMeshPki({ config, pkiDir, now: new Date(t0.getTime() + 20 * HOUR) });
      assert.ok(late.workloads.every((w) => w.status === 'near-expiry'));
      await unlink(workloadTlsFiles(pkiDir, 'users').certFile);
      const gone = await inspectMeshPki({ config, pkiDir, now: new Date(t0.getTime() + 25 * HOUR) });
      assert.deepEqual(gone.workloads.map((w) => w.status), ['missing', 'expired', 'expired', 'expired']);
      assert.ok(!JSON.stringify(gone).includes('PRIVATE KEY'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
