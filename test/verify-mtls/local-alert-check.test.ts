// Uses the real local data plane: the mini-mesh harness starts meshgw's own sidecars (mTLS inbound
// listeners, admin listeners serving /stats and /stats/prometheus) and a gateway stand-in; the checks
// send real refused handshakes and real legitimate requests, then evaluate the shipped Prometheus
// rules file over the sidecars' real Prometheus text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChecks, type CheckOutcome, type ScenarioReport } from '../../src/verify/checks.js';
import { localMtlsChecks } from '../../src/verify/mtls/index.js';
import { startMiniMesh } from './mini-mesh.js';

async function run(ids: (id: string) => boolean): Promise<ScenarioReport> {
  const mesh = await startMiniMesh();
  try {
    return await runChecks('mtls', 'local', localMtlsChecks().filter((c) => ids(c.id)), mesh.ctx);
  } finally {
    await mesh.close();
  }
}

function outcome(report: ScenarioReport, id: string): CheckOutcome {
  const o = report.checks.find((c) => c.id === id);
  assert.ok(o, `check ${id} ran`);
  return o;
}

interface AlertData {
  rangeMs: number;
  refusedBySidecar: Record<string, number>;
  fired: { alert: string; labels: Record<string, string>; value: number }[];
  clearedAfterMs: number | null;
  legitRequests: number;
}

describe('verify mtls: the refusals trip the alert (local)', () => {
  it('fires MeshMtlsHandshakeFailures for each refusing sidecar, with the reason, then clears under legitimate traffic', async () => {
    const report = await run((id) => id.startsWith('mtls.alert') || id.startsWith('mtls.refuse.'));
    assert.deepEqual(
      report.checks.map((c) => c.id),
      ['mtls.alert.baseline', 'mtls.refuse.no-cert', 'mtls.refuse.foreign-ca', 'mtls.refuse.expired', 'mtls.refuse.identity', 'mtls.refuse.plaintext', 'mtls.alert'],
    );
    const alert = outcome(report, 'mtls.alert');
    assert.equal(alert.status, 'pass', `${alert.detail}\n${alert.hint ?? ''}`);
    assert.match(alert.detail, /evaluated with \[\d+s\] in place of \[1m\], \[5m\]: verify scrapes every second/);
    const data = alert.data as unknown as AlertData;

    // The refusal checks aim at users (no certificate, plaintext), products (foreign CA), orders (expired).
    const mtls = data.fired.filter((f) => f.alert === 'MeshMtlsHandshakeFailures');
    const reasons = mtls.map((f) => `${f.labels.app}:${f.labels.reason}`).sort();
    assert.deepEqual(reasons, ['orders:fail_verify_error', 'products:fail_verify_error', 'users:connection_error', 'users:fail_verify_no_cert']);
    for (const f of mtls) assert.equal(f.labels.namespace, 'meshgw');
    assert.deepEqual(Object.keys(data.refusedBySidecar).sort(), ['orders', 'products', 'users']);
    // orders' sidecar denied users, a valid identity it does not admit: the authorization alert fires too.
    assert.deepEqual(data.fired.filter((f) => f.alert === 'MeshAuthorizationDenied').map((f) => f.labels.app), ['orders']);

    assert.ok(data.clearedAfterMs !== null && data.clearedAfterMs > 0, 'the alert cleared');
    assert.ok(data.clearedAfterMs! <= data.rangeMs + 5_000, `cleared within the window and a few scrapes (${data.clearedAfterMs} ms, range ${data.rangeMs} ms)`);
    assert.ok(data.legitRequests >= 1, 'legitimate traffic flowed while it cleared');
  });

  it('fails when no refusal happened between the baseline and the verdict, saying the refusal checks must sit between them', async () => {
    const report = await run((id) => id.startsWith('mtls.alert'));
    const alert = outcome(report, 'mtls.alert');
    assert.equal(alert.status, 'fail');
    assert.match(alert.detail, /no sidecar counted a refused handshake since the baseline/);
    assert.ok(alert.hint);
  });
});
