// The authorization matrix against a real mini mesh in this process (meshgw sidecars with STRICT
// mTLS on 127.0.0.1, the real on-disk PKI): one real mTLS request per caller identity and service.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChecks, type CheckOutcome } from '../../src/verify/checks.js';
import type { MatrixCell } from '../../src/verify/mtls/authz-matrix.js';
import { localMatrixCheck } from '../../src/verify/mtls/local-matrix-check.js';
import { startMiniMesh, type MiniMeshOptions } from './mini-mesh.js';

async function matrix(opts: MiniMeshOptions = {}): Promise<CheckOutcome> {
  const mesh = await startMiniMesh(opts);
  try {
    const report = await runChecks('mtls', 'local', [localMatrixCheck(() => new Date())], mesh.ctx);
    return report.checks[0];
  } finally {
    await mesh.close();
  }
}

const cellsOf = (o: CheckOutcome) => (o.data as { cells: MatrixCell[] }).cells;
const cell = (o: CheckOutcome, caller: string, callee: string) => cellsOf(o).find((c) => c.caller === caller && c.callee === callee)!;

describe('verify mtls: the whole authorization matrix (local)', () => {
  it('observes every caller identity against every service as the authorization table says, counted by the callee', async () => {
    const o = await matrix();
    assert.equal(o.status, 'pass', o.detail);
    const cells = cellsOf(o);
    assert.equal(cells.length, 5 * 3, 'gateway, users, products, orders and an outsider against users, products and orders');
    assert.deepEqual([...new Set(cells.map((c) => c.caller))], ['gateway', 'users', 'products', 'orders', 'meshgw-verify-outsider']);
    const allowed = cells.filter((c) => c.observed === 'allow').map((c) => `${c.caller}→${c.callee}`).sort();
    assert.deepEqual(allowed, ['gateway→orders', 'gateway→products', 'gateway→users', 'orders→products', 'orders→users']);
    for (const c of cells) {
      assert.equal(c.observed, c.expected, `${c.caller}→${c.callee}`);
      assert.equal(c.counted, true, `${c.caller}→${c.callee} moved the callee's own counter`);
    }
    assert.match(cell(o, 'meshgw-verify-outsider', 'users').evidence, /403 RBAC_DENIED/);
    assert.match(o.detail, /15 pairs: 5 allowed, 10 not/);
    assert.match(o.detail, /\nmeshgw-verify-outsider +deny ✔ +deny ✔ +deny ✔/, 'the table is in the detail');
  });

  it('fails naming the cell when a sidecar admits a caller the table does not list', async () => {
    const o = await matrix({ allowedCallers: { orders: ['gateway', 'users'] } });
    assert.equal(o.status, 'fail');
    assert.equal(cell(o, 'users', 'orders').observed, 'allow');
    assert.match(o.detail, /1 differ from the authorization table: users→orders expected deny, saw allow \(the app answered \d{3}\)/);
    assert.match(o.detail, /users +deny ✔ +deny ✔ +allow ✖ \(expected deny\)/);
    assert.ok(o.hint);
  });

  it('fails naming the cell when a sidecar refuses a declared caller', async () => {
    const o = await matrix({ allowedCallers: { products: ['gateway'] } });
    assert.equal(o.status, 'fail');
    assert.match(o.detail, /orders→products expected allow, saw deny \(403 RBAC_DENIED\)/);
  });
});
