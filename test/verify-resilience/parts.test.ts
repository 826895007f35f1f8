// The pure parts of verify resilience: counter arithmetic over Envoy-named /stats, replicas found
// in a run record made by the real local plan (buildLocalPlan), and the fatal first check on a
// stack with one replica. No process runs here; the end-to-end run is in checks.test.ts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { buildLocalPlan, portsNeeded } from '../../src/local/plan.js';
import type { LocalRunState } from '../../src/local/state.js';
import { runChecks } from '../../src/verify/checks.js';
import { counterDelta, describeCounters, endpointRequests, resilienceCounters, sumStats } from '../../src/verify/resilience/counters.js';
import { resilienceChecks, type ResilienceContext } from '../../src/verify/resilience/index.js';
import { replicasOf, unhealthy } from '../../src/verify/resilience/replicas.js';

async function runRecord(replicas: number): Promise<LocalRunState> {
  const base = parseConfigText(await readFile(new URL('../../../meshgw.yaml', import.meta.url), 'utf8'), 'meshgw.yaml');
  const config = { ...base, services: { ...base.services, users: { ...base.services.users, replicas }, products: { ...base.services.products, replicas } } };
  const plan = buildLocalPlan({ config, stateDir: '/state', gatewayPort: 8080, freePorts: Array.from({ length: portsNeeded(config) }, (_, i) => 42000 + i), apiKeys: [], tokenSecret: 's'.repeat(40), root: '/m' });
  let pid = 1000;
  const workloads = plan.workloads.map((w) => ({
    ...w,
    processes: plan.processes.filter((p) => p.workload === w.name).map((p) => ({ name: p.name, role: p.role, pid: pid++, health: 'healthy' as const, restarts: 0, logFile: p.logFile })),
  }));
  return { version: 1, configFile: '/c', startedAt: '', supervisorPid: 1, gatewayUrl: plan.gatewayUrl, ready: true, workloads };
}

describe('verify resilience, its parts', () => {
  it('adds up every sidecar\'s counters and shows gauges as read, counters as a change', () => {
    const total = sumStats([{ 'cluster.users.upstream_rq_retry': 2, 'cluster.users.outlier_detection.ejections_active': 1 }, { 'cluster.users.upstream_rq_retry': 3 }]);
    assert.equal(total['cluster.users.upstream_rq_retry'], 5);
    const before = resilienceCounters({ 'cluster.users.upstream_rq_retry': 1 }, 'users');
    const after = resilienceCounters(total, 'users');
    assert.equal(after['cluster.users.upstream_rq_timeout'], 0, 'a counter a sidecar does not report reads as zero');
    const delta = counterDelta(before, after);
    assert.equal(delta['cluster.users.upstream_rq_retry'], 4);
    assert.equal(delta['cluster.users.outlier_detection.ejections_active'], 1);
    assert.equal(describeCounters(delta), 'users.upstream_rq_retry +4, users.outlier_detection.ejections_active 1');
    assert.equal(describeCounters(counterDelta(after, after)), 'users.outlier_detection.ejections_active 1');
  });

  it('counts requests per replica by its origin, with or without the scheme in the counter name', () => {
    const origins = ['https://127.0.0.1:4001', 'https://127.0.0.1:4002'];
    const stats = { 'cluster.products.endpoint.https://127.0.0.1:4001.rq_total': 7, 'cluster.products.endpoint.127.0.0.1:4002.rq_total': 3, 'cluster.users.endpoint.https://127.0.0.1:4001.rq_total': 100 };
    assert.deepEqual(endpointRequests(stats, 'products', origins), { 'https://127.0.0.1:4001': 7, 'https://127.0.0.1:4002': 3 });
  });

  it('finds every replica of a service in the run record, replica 1 first, and names processes not healthy', async () => {
    const run = await runRecord(2);
    assert.deepEqual(replicasOf(run, 'users').map((r) => r.name), ['users', 'users-2']);
    assert.deepEqual(replicasOf(run, 'orders').map((r) => r.name), ['orders']);
    assert.equal(replicasOf(run, 'users')[1].appPid, run.workloads.find((w) => w.name === 'users-2')!.processes[0].pid);
    assert.deepEqual(unhealthy(run), []);
    run.workloads[1].processes[0] = { ...run.workloads[1].processes[0], pid: null, health: 'restarting' };
    assert.deepEqual(unhealthy(run), ['users-2']);
  });

  it('fails at once, naming the setting, on a stack with one replica of a backend, and skips the rest', async () => {
    const run = await runRecord(1);
    const ctx: ResilienceContext = {
      endpoint: { target: 'local', config: parseConfigText(await readFile(new URL('../../../meshgw.yaml', import.meta.url), 'utf8'), 'meshgw.yaml'), baseUrl: 'http://127.0.0.1:1/prod', apiKeys: [] },
      readRun: async () => run,
      kill: () => assert.fail('nothing may be killed'),
      admin: { stats: async () => assert.fail('no admin call'), setFault: async () => assert.fail('no fault'), clearFault: async () => undefined },
      egress: { get: async () => assert.fail('no request') },
    };
    const report = await runChecks('resilience', 'local', resilienceChecks({ quick: true }), ctx);
    assert.equal(report.ok, false);
    assert.equal(report.checks[0].status, 'fail');
    assert.match(report.checks[0].detail, /users ×1, products ×1/);
    assert.match(report.checks[0].hint ?? '', /services\.users\.replicas: 2 and services\.products\.replicas: 2/);
    assert.ok(report.checks.slice(1).every((c) => c.status === 'skip'));
  });
});
