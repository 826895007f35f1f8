// Resilience through real sidecars: two replicas of products (each an app on its private socket
// behind a real STRICT mTLS sidecar) and an orders sidecar whose egress balances across them with a
// trafficPolicy; faults are injected with the replicas' own admin /fault switch, over real HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TrafficPolicy } from '../../src/config/traffic-policy.js';
import type { EgressListener } from '../../src/mesh/spec.js';
import { policy } from '../dataplane/replicas.js';
import { callEgress, createTestPki, getJson, id, privateSocket, sidecarSpec, startApp, startSidecar, statsDelta, type RunningSidecar, type TestApp, type TestPki } from './fixtures.js';

async function admin(sc: RunningSidecar, method: string, body?: unknown): Promise<{ status: number; body: { fault?: unknown; error?: { code: string; message: string } } }> {
  const res = await fetch(`${sc.adminUrl}/fault`, {
    method,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: res.status, body: (await res.json()) as { fault?: unknown; error?: { code: string; message: string } } };
}

describe('sidecar resilience (replicas, retries, ejection, limits, fault switch)', () => {
  let pki: TestPki;
  const apps: TestApp[] = [];
  const replicas: RunningSidecar[] = [];
  let ordersApp: TestApp;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    pki = await createTestPki();
    ordersApp = await startApp('orders');
    const files = await pki.files('products');
    for (let i = 0; i < 2; i++) {
      const app = await startApp(`products-${i}`);
      apps.push(app);
      replicas.push(await startSidecar(sidecarSpec('products', files, app.socketPath, [id('orders')])));
    }
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
    for (const r of replicas) await r.stop();
    for (const a of apps) await a.close();
    await ordersApp?.close();
    await pki?.cleanup();
  });

  /** A fresh orders sidecar (fresh outlier state) whose egress balances over the products replicas; its coin sends ties to the first. */
  async function ordersTo(trafficPolicy: TrafficPolicy, only?: RunningSidecar): Promise<RunningSidecar> {
    const origins = (only ? [only] : replicas).map((r) => r.inboundUrl);
    const egress: EgressListener = { backend: 'products', socketPath: privateSocket('to-products'), upstream: { origin: origins[0], replicaOrigins: origins, expectedSpiffeId: id('products'), trafficPolicy } };
    const sc = await startSidecar(sidecarSpec('orders', await pki.files('orders'), ordersApp.socketPath, [id('gateway')], [egress]), { random: () => 0 });
    cleanups.push(() => sc.stop());
    return sc;
  }

  async function withFault<T>(replica: RunningSidecar, fault: Record<string, number>, run: () => Promise<T>): Promise<T> {
    const set = await admin(replica, 'POST', fault);
    assert.equal(set.status, 200, JSON.stringify(set.body));
    try {
      return await run();
    } finally {
      await admin(replica, 'DELETE');
    }
  }

  it('shows, sets, validates and clears the fault switch on the admin endpoint', async () => {
    const r = replicas[0];
    assert.deepEqual((await admin(r, 'GET')).body, { fault: null });
    const bad = await admin(r, 'POST', { abortStatus: 503, abortPercent: 150 });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error!.message, /^abortPercent: expected a percentage from 0 to 100/);
    assert.equal((await admin(r, 'POST', 'not json')).status, 400);
    assert.deepEqual((await admin(r, 'GET')).body, { fault: null }, 'a refused fault changes nothing');
    const fault = { delayMs: 10, delayPercent: 50, abortStatus: 500, abortPercent: 25 };
    assert.deepEqual((await admin(r, 'POST', fault)).body, { fault });
    assert.deepEqual((await admin(r, 'GET')).body, { fault });
    assert.deepEqual((await admin(r, 'DELETE')).body, { fault: null });
    assert.deepEqual((await admin(r, 'GET')).body, { fault: null });
  });

  it('answers aborted requests itself before the app, counts aborts_injected, and the caller retries on the other replica and ejects the faulty one', async () => {
    const orders = await ordersTo(policy({ outlierDetection: { consecutiveErrors: 2, baseEjectionTimeMs: 60_000 } }));
    const beforeFaulty = replicas[0].sidecar.counters.snapshot();
    const seenBefore = apps[0].seen.length;
    const statuses = await withFault(replicas[0], { abortStatus: 503, abortPercent: 100 }, async () => {
      const out: number[] = [];
      for (let i = 0; i < 10; i++) out.push((await callEgress(orders.addr.egress.products, `/products/${i}`)).status);
      return out;
    });
    assert.deepEqual(statuses, Array(10).fill(200));
    assert.equal(apps[0].seen.length, seenBefore, 'no aborted request reached the app');
    const faulty = statsDelta(beforeFaulty, replicas[0].sidecar.counters.snapshot());
    assert.equal(faulty['http.inbound.fault.aborts_injected'], 2, 'two aborts, then the replica was ejected');
    const s = orders.sidecar.counters.snapshot();
    assert.equal(s['cluster.products.upstream_rq_retry'], 2);
    assert.equal(s['cluster.products.outlier_detection.ejections_enforced_total'], 1);
    assert.equal(s['cluster.products.outlier_detection.ejections_active'], 1);
    assert.equal(s[`cluster.products.endpoint.${replicas[0].inboundUrl}.rq_total`], 2);
    assert.equal(s[`cluster.products.endpoint.${replicas[1].inboundUrl}.rq_total`], 10);
  });

  it('delays requests with the fault switch, counts delays_injected, and the caller retries a try past perTryTimeoutMs elsewhere', async () => {
    const orders = await ordersTo(policy({ retries: { perTryTimeoutMs: 150 }, outlierDetection: { consecutiveErrors: 10 } }));
    const beforeSlow = replicas[0].sidecar.counters.snapshot();
    const res = await withFault(replicas[0], { delayMs: 1_000, delayPercent: 100 }, () => callEgress(orders.addr.egress.products, '/products/1'));
    assert.equal(res.status, 200, res.body);
    assert.equal((JSON.parse(res.body) as { app: string }).app, 'products-1');
    assert.equal(statsDelta(beforeSlow, replicas[0].sidecar.counters.snapshot())['http.inbound.fault.delays_injected'], 1);
    const s = orders.sidecar.counters.snapshot();
    assert.equal(s['cluster.products.upstream_rq_per_try_timeout'], 1);
    assert.equal(s['cluster.products.upstream_rq_retry'], 1);
  });

  it('replays a POST with an Idempotency-Key on the other replica, body and all, and never a POST without one', async () => {
    const orders = await ordersTo(policy({ outlierDetection: { consecutiveErrors: 10 } }));
    const seenBefore = apps[1].seen.length;
    const [plain, keyed] = await withFault(replicas[0], { abortStatus: 503, abortPercent: 100 }, async () => [
      await callEgress(orders.addr.egress.products, '/products', { method: 'POST', body: '{"name":"a"}' }),
      await callEgress(orders.addr.egress.products, '/products', { method: 'POST', body: '{"name":"b"}', headers: { 'idempotency-key': 'key-b' } }),
    ]);
    assert.equal(plain.status, 503);
    assert.equal((JSON.parse(plain.body) as { error: { code: string } }).error.code, 'FAULT_ABORT');
    assert.equal(keyed.status, 200, keyed.body);
    assert.deepEqual(apps[1].seen.slice(seenBefore).map((s) => [s.method, s.body, s.headers['idempotency-key']]), [['POST', '{"name":"b"}', 'key-b']]);
    assert.equal(orders.sidecar.counters.get('cluster.products.upstream_rq_retry'), 1);
  });

  it('answers 503 at once with Envoy\'s overflow reason beyond maxConnections + maxPendingRequests, and counts upstream_rq_pending_overflow', async () => {
    const orders = await ordersTo(policy({ connectionPool: { maxConnections: 1, maxPendingRequests: 0 }, retries: { attempts: 0 } }), replicas[0]);
    await withFault(replicas[0], { delayMs: 1_500, delayPercent: 100 }, async () => {
      let firstDone = false;
      const first = callEgress(orders.addr.egress.products, '/products/slow').finally(() => (firstDone = true));
      const faulty = replicas[0].sidecar.counters;
      const deadline = Date.now() + 5_000;
      while (faulty.get('http.inbound.fault.delays_injected') === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const second = await callEgress(orders.addr.egress.products, '/products/fast');
      assert.equal(firstDone, false, 'refused while the first request was still in flight');
      assert.equal(second.status, 503);
      assert.deepEqual(JSON.parse(second.body), { error: { code: 'UPSTREAM_OVERFLOW', message: 'upstream connect error or disconnect/reset before headers. reset reason: overflow' } });
      assert.equal(orders.sidecar.counters.get('cluster.products.upstream_rq_pending_overflow'), 1);
      assert.equal((await first).status, 200);
    });
  });

  it('reports the replicas and the traffic policy in /config_dump', async () => {
    const p = policy({ timeoutMs: 1234 });
    const orders = await ordersTo(p);
    const { body } = await getJson<{ egress: { replicas: string[]; trafficPolicy: TrafficPolicy }[] }>(`${orders.adminUrl}/config_dump`);
    assert.deepEqual(body.egress[0].replicas, replicas.map((r) => r.inboundUrl));
    assert.deepEqual(body.egress[0].trafficPolicy, p);
  });
});
