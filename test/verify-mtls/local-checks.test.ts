import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rotateLeaves } from '../../src/pki/store.js';
import { runChecks, type CheckOutcome, type ScenarioReport } from '../../src/verify/checks.js';
import { localMtlsChecks } from '../../src/verify/mtls/index.js';
import { startMiniMesh, type MiniMeshOptions } from './mini-mesh.js';

async function verify(opts: MiniMeshOptions = {}, before?: (m: Awaited<ReturnType<typeof startMiniMesh>>) => Promise<void>): Promise<ScenarioReport> {
  const mesh = await startMiniMesh(opts);
  try {
    await before?.(mesh);
    return await runChecks('mtls', 'local', localMtlsChecks(), mesh.ctx);
  } finally {
    await mesh.close();
  }
}

function outcome(report: ScenarioReport, id: string): CheckOutcome {
  const o = report.checks.find((c) => c.id === id);
  assert.ok(o, `check ${id} ran`);
  return o;
}

describe('verify mtls (local)', () => {
  it('passes every check against a correctly configured mesh', async () => {
    const report = await verify();
    assert.ok(report.ok, JSON.stringify(report.checks.map((c) => [c.id, c.status, c.detail]), null, 2));
    assert.deepEqual(
      report.checks.map((c) => c.id),
      ['mtls.config', 'mtls.expiry', 'mtls.listeners', 'mtls.flow', 'mtls.alert.baseline', 'mtls.refuse.no-cert', 'mtls.refuse.foreign-ca', 'mtls.refuse.expired', 'mtls.refuse.identity', 'mtls.refuse.plaintext', 'mtls.alert', 'mtls.matrix'],
    );

    const config = outcome(report, 'mtls.config');
    const table = (config.data as { authorization: Record<string, string[]> }).authorization;
    assert.deepEqual(table, { users: ['gateway', 'orders'], products: ['gateway', 'orders'], orders: ['gateway'] });
    assert.match(config.detail, /4 certificates chain to CA/);
    assert.match(config.detail, /3 inbound listeners STRICT/);

    const listeners = (outcome(report, 'mtls.listeners').data as { source: string; listeners: { kind: string; ok: boolean }[]; sockets: { folderMode: string }[] });
    assert.match(listeners.source, /\/proc\/net\/tcp/, 'listed from the kernel, not from the run state');
    assert.deepEqual(listeners.listeners.map((l) => l.kind).sort(), ['admin', 'admin', 'admin', 'gateway', 'inbound', 'inbound', 'inbound']);
    assert.deepEqual(listeners.sockets.map((x) => x.folderMode), ['700', '700', '700']);

    const edges = (outcome(report, 'mtls.flow').data as { edges: { caller: string; callee: string; requests: number; newHandshakes: number }[] }).edges;
    const edge = (caller: string, callee: string) => edges.find((e) => e.caller === caller && e.callee === callee);
    for (const [caller, callee] of [['gateway', 'users'], ['gateway', 'products'], ['gateway', 'orders'], ['orders', 'users'], ['orders', 'products']]) {
      assert.ok((edge(caller, callee)?.requests ?? 0) >= 1, `${caller}→${callee} carried requests`);
      assert.ok((edge(caller, callee)?.newHandshakes ?? 0) >= 1, `${caller}→${callee} handshook during the flow (fresh mesh)`);
    }

    const expected: Record<string, [string, RegExp]> = {
      'mtls.refuse.no-cert': ['ssl.fail_verify_no_cert', /PEER_DID_NOT_RETURN_A_CERTIFICATE/],
      'mtls.refuse.foreign-ca': ['ssl.fail_verify_error', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/],
      'mtls.refuse.expired': ['ssl.fail_verify_error', /CERT_HAS_EXPIRED/],
      'mtls.refuse.identity': ['rbac.denied', /users/],
      'mtls.refuse.plaintext': ['ssl.connection_error', /HTTP_REQUEST/],
    };
    for (const [id, [counter, serverError]] of Object.entries(expected)) {
      const data = outcome(report, id).data as { counter: string; delta: number; serverError: string };
      assert.equal(data.counter, counter);
      assert.equal(data.delta, 1, `${id}: ${counter} moved by exactly one`);
      assert.match(data.serverError, serverError, id);
    }
    assert.match(outcome(report, 'mtls.refuse.identity').detail, /answered 403 .*RBAC_DENIED/);
  });

  it('fails the listener check when an app also serves plaintext on a TCP port, naming the port and its answer', async () => {
    const report = await verify({ leakApp: 'products' });
    const listeners = outcome(report, 'mtls.listeners');
    assert.equal(listeners.status, 'fail');
    assert.match(listeners.detail, /listens on TCP 127\.0\.0\.1:\d+, which is neither the gateway, an mTLS inbound port nor an admin port: plaintext GET \/users answered 404/);
    assert.ok(listeners.hint);
    assert.equal(outcome(report, 'mtls.flow').status, 'pass', 'the mesh itself still works: only the listener check sees the way around it');
  });

  it("fails configuration and flow when users' sidecar does not admit orders", async () => {
    const report = await verify({ allowedCallers: { users: ['gateway'] } });
    assert.equal(report.ok, false);
    const config = outcome(report, 'mtls.config');
    assert.equal(config.status, 'fail');
    assert.match(config.detail, /users: admits spiffe:\/\/cluster\.local\/ns\/meshgw\/sa\/gateway, the authorization table says .*orders/);
    const flow = outcome(report, 'mtls.flow');
    assert.equal(flow.status, 'fail');
    assert.match(flow.detail, /flow stopped at POST \/orders/);
  });

  it('fails configuration and the no-certificate refusal when a sidecar is PERMISSIVE', async () => {
    const report = await verify({ mode: { users: 'PERMISSIVE' } });
    assert.equal(outcome(report, 'mtls.config').status, 'fail');
    assert.match(outcome(report, 'mtls.config').detail, /users: inbound listener is PERMISSIVE, not STRICT/);
    const noCert = outcome(report, 'mtls.refuse.no-cert');
    assert.equal(noCert.status, 'fail');
    assert.ok(noCert.hint, 'a failed refusal says what to fix');
    assert.equal(outcome(report, 'mtls.refuse.plaintext').status, 'pass', 'plaintext is still refused by a TLS listener');
  });

  it('flags sidecars that serve certificates other than the ones on disk after a rotation without reload', async () => {
    const report = await verify({}, async (m) => {
      await rotateLeaves({ config: m.config, pkiDir: m.ctx.mesh.pkiDir });
    });
    const config = outcome(report, 'mtls.config');
    assert.equal(config.status, 'fail');
    assert.match(config.detail, /sidecar serves a certificate other than/);
  });
});
