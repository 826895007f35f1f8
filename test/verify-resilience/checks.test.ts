// meshgw verify resilience end to end against a real local stack: users and products at two
// replicas (eleven processes, mTLS on 127.0.0.1), real SIGKILLs, the sidecars' real fault switch
// and counters, and small connection limits on products so that the circuit-breaking check runs.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { LoadedConfig } from '../../src/config/load.js';
import { ensureApiKeys } from '../../src/local/secrets.js';
import { startLocalStack, stopLocalStack } from '../../src/local/stack.js';
import { localStatus } from '../../src/local/status.js';
import { runChecks } from '../../src/verify/checks.js';
import { localResilienceContext, resilienceChecks } from '../../src/verify/resilience/index.js';
import { replicaScratch } from '../local/replica-stack.js';

describe('meshgw verify resilience on the local target', { timeout: 300_000 }, () => {
  let dir: string;
  let loaded: LoadedConfig;

  before(async () => {
    ({ dir, loaded } = await replicaScratch('meshgw-verify-resilience-', { productsExtra: '    trafficPolicy: { connectionPool: { maxConnections: 16, maxPendingRequests: 16 } }\n' }));
    await startLocalStack(loaded, { port: 0 });
  });
  after(async () => {
    await stopLocalStack(loaded.stateDir);
    await rm(dir, { recursive: true, force: true });
  });

  it('passes every check: no order lost to a kill, traffic away from a slow replica, a failing one ejected, the excess over the limits refused at once', async (t) => {
    const s = await localStatus(loaded);
    const apiKeys = await ensureApiKeys(loaded.config, loaded.stateDir);
    const ctx = localResilienceContext(loaded.stateDir, { target: 'local', config: loaded.config, baseUrl: s.gatewayUrl!, apiKeys });
    const report = await runChecks('resilience', 'local', resilienceChecks({ quick: true }), ctx);
    for (const c of report.checks) t.diagnostic(`${c.status} ${c.id} (${c.durationMs} ms): ${c.detail}${c.hint && c.status === 'fail' ? `\n  hint: ${c.hint}` : ''}`);
    assert.deepEqual(report.checks.map((c) => [c.id, c.status]), [
      ['resilience.replicas', 'pass'],
      ['resilience.latency', 'pass'],
      ['resilience.errors', 'pass'],
      ['resilience.kill', 'pass'],
      ['resilience.limits', 'pass'],
    ]);
    const kill = report.checks[3].data as { answers: { offered: number; created201: number }; killed: unknown[]; recoveryMs: number };
    assert.equal(kill.answers.created201, kill.answers.offered);
    assert.equal(kill.killed.length, 2);
    assert.ok(kill.recoveryMs > 0);
    const after = await localStatus(loaded);
    assert.equal(after.healthy, true, 'the stack is whole again after the run');
  });
});
