// The mesh client's cluster (balancing, retries, budget, timeouts, outlier detection, pool limits)
// against real mTLS replicas: TLS servers on 127.0.0.1 with SPIFFE certificates from the test mesh
// CA (test/mesh/fixtures.ts), every connection a real mutual handshake with the identity check.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { TrafficPolicy } from '../../src/config/traffic-policy.js';
import { UNREADY_HOLD_MS } from '../../src/dataplane/cluster.js';
import { Counters } from '../../src/dataplane/counters.js';
import { MeshClient } from '../../src/dataplane/mesh-client.js';
import { loadTlsMaterial, type TlsMaterial } from '../../src/dataplane/tls-material.js';
import { OVERFLOW_CODE } from '../../src/dataplane/upstream-errors.js';
import { createTestPki, id, type TestPki } from '../mesh/fixtures.js';
import { policy, startReplica, until, type Replica } from './replicas.js';

const readText = (f: string) => readFile(f, 'utf8');
const BASE = { connections: 16, keepAliveTimeoutMs: 10_000, connectTimeoutMs: 2_000, requestTimeoutMs: 5_000, drainTimeoutMs: 200 };

describe('the mesh client across replicas', () => {
  let pki: TestPki;
  let serverTls: TlsMaterial;
  let clientTls: TlsMaterial;
  const replicas: Replica[] = [];
  const clients: MeshClient[] = [];
  before(async () => {
    pki = await createTestPki();
    serverTls = await loadTlsMaterial(await pki.files('products'), readText);
    clientTls = await loadTlsMaterial(await pki.files('gateway'), readText);
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(replicas.splice(0).map((r) => r.close()));
    await pki.cleanup();
  });

  async function replicasOf(...modes: Replica['mode'][]): Promise<Replica[]> {
    const out = await Promise.all(modes.map((m, i) => startReplica(`replica-${i}`, serverTls, m)));
    replicas.push(...out);
    return out;
  }

  function clientFor(rs: Replica[], trafficPolicy: TrafficPolicy | undefined, extra: { random?: () => number; warmConnections?: number; nowMs?: () => number } = {}): { client: MeshClient; stats: Counters } {
    const stats = new Counters();
    const upstream = { origin: rs[0].origin, replicaOrigins: rs.map((r) => r.origin), expectedSpiffeId: id('products'), warmConnections: extra.warmConnections ?? 0, ...(trafficPolicy ? { trafficPolicy } : {}) };
    const client = new MeshClient(new Map([['products', upstream]]), clientTls, { ...BASE, stats, ...(extra.random ? { random: extra.random } : {}), ...(extra.nowMs ? { nowMs: extra.nowMs } : {}) });
    clients.push(client);
    return { client, stats };
  }

  async function get(client: MeshClient, method = 'GET', headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
    const res = await client.dispatcher('products')!.request({ path: '/p', method: method as 'GET', headers, body: body ?? null });
    const text = await res.body.text();
    // The cluster counts a request as active until its body's 'close', emitted on the next tick:
    // the next request of a test must not see it still in flight (a real caller's next request
    // arrives in a later event-loop turn anyway).
    await new Promise((r) => setImmediate(r));
    return { status: res.statusCode, body: text };
  }

  /** Runs `total` requests, `concurrency` at a time; returns every status, or the error code of a request that failed. */
  async function load(client: MeshClient, total: number, concurrency: number, onEach?: (done: number) => void): Promise<(number | string)[]> {
    const statuses: (number | string)[] = [];
    let next = 0;
    async function worker(): Promise<void> {
      while (next < total) {
        next++;
        const r = await get(client).catch((err: Error & { code?: string }) => ({ status: -1, body: err.code ?? err.message }));
        statuses.push(r.status === -1 ? r.body : r.status);
        onEach?.(statuses.length);
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker));
    return statuses;
  }

  it('splits its warm connections across the replicas and spreads requests over all of them', async () => {
    const rs = await replicasOf({ type: 'ok' }, { type: 'ok' });
    const { client, stats } = clientFor(rs, policy({}), { warmConnections: 4 });
    await client.warm();
    assert.equal(client.openConnections('products'), 4);
    const statuses = await load(client, 100, 4);
    assert.deepEqual(new Set(statuses), new Set([200]));
    for (const r of rs) assert.ok(stats.get(`cluster.products.endpoint.${r.origin}.rq_total`) >= 15, `${r.origin} got ${stats.get(`cluster.products.endpoint.${r.origin}.rq_total`)} of 100`);
  });

  it('sends a slow replica a smaller share than the fast ones (least request, two choices)', async () => {
    const rs = await replicasOf({ type: 'ok' }, { type: 'ok' }, { type: 'delay', ms: 40 });
    const { client, stats } = clientFor(rs, policy({}));
    const statuses = await load(client, 240, 12);
    assert.equal(statuses.filter((s) => s === 200).length, 240);
    const share = rs.map((r) => stats.get(`cluster.products.endpoint.${r.origin}.rq_total`));
    assert.ok(share[2] > 0, 'the slow replica still gets some traffic');
    assert.ok(share[2] * 2 < Math.min(share[0], share[1]), `slow replica share ${share[2]} vs fast ${share[0]}, ${share[1]}`);
  });

  it('loses no idempotent request when a replica dies mid-load: retries absorb it and the replica is ejected', async () => {
    const rs = await replicasOf({ type: 'ok' }, { type: 'ok' });
    // The doomed replica holds every request it gets, so several die with it at once: the budget
    // must allow that many retries in flight (with Envoy's default of 3 the fourth would be lost).
    const { client, stats } = clientFor(rs, policy({ retries: { minRetryConcurrency: 10 }, outlierDetection: { consecutiveErrors: 2, baseEjectionTimeMs: 60_000 } }));
    let killed = false;
    const running = load(client, 200, 8, (done) => {
      if (done === 50) rs[1].mode = { type: 'hold' };
    });
    // The doomed replica holds answers, so requests are on it when it dies (as with a SIGKILL under load).
    await until(() => rs[1].held.length >= 3, 5_000, 'requests held on the doomed replica');
    rs[1].kill();
    killed = true;
    const statuses = await running;
    assert.ok(killed);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], `every request answered 200 (${JSON.stringify(stats.snapshot())})`);
    assert.ok(stats.get('cluster.products.upstream_rq_retry') >= 3, `retries ${stats.get('cluster.products.upstream_rq_retry')}`);
    assert.equal(stats.get('cluster.products.outlier_detection.ejections_enforced_total'), 1);
    assert.equal(stats.get('cluster.products.outlier_detection.ejections_active'), 1);
    assert.equal(client.dispatcher('products')!.ejected, 1);
  });

  it('keeps an ejected replica ejected, and its counters, across a certificate rotation (as an Envoy SDS update keeps hosts)', async () => {
    const rs = await replicasOf({ type: 'status', status: 503 }, { type: 'ok' });
    // A fixed coin: ties go to the first replica, the failing one, until it is ejected.
    const { client, stats } = clientFor(rs, policy({ retries: { attempts: 0 }, outlierDetection: { consecutiveErrors: 2, baseEjectionTimeMs: 60_000 } }), { random: () => 0 });
    const cluster = client.dispatcher('products')!;
    assert.deepEqual([(await get(client)).status, (await get(client)).status], [503, 503]);
    assert.equal(cluster.ejected, 1);
    const oldSerial = rs[0].peerSerials[0];
    const before = stats.snapshot();
    const poolBefore = cluster.endpoints[1].pool;

    const rotated = await loadTlsMaterial(await pki.files('gateway'), readText);
    await client.reload(rotated);

    assert.equal(client.dispatcher('products')!.ejected, 1, 'the rotation did not forgive the ejected replica');
    assert.equal(client.dispatcher('products'), cluster, 'the cluster itself is kept');
    assert.notEqual(cluster.endpoints[1].pool, poolBefore, 'the replica got a pool on the new certificate');
    assert.ok(cluster.endpoints[0].outlier.ejected);
    assert.equal(cluster.endpoints[0].outlier.ejectTimeBackoff, 1);
    assert.deepEqual(stats.snapshot(), before, 'counters and the ejections_active gauge are unchanged by the rotation');
    rs[0].mode = { type: 'ok' };
    for (let i = 0; i < 4; i++) assert.equal((await get(client)).body, 'replica-1', 'the ejected replica still gets nothing');
    assert.equal(stats.get('cluster.products.outlier_detection.ejections_active'), 1);
    assert.equal(stats.get('cluster.products.outlier_detection.ejections_enforced_total'), 1);
    const newSerials = new Set(rs[1].peerSerials.slice(-4));
    assert.equal(newSerials.size, 1);
    assert.notEqual([...newSerials][0], oldSerial);
    assert.equal([...newSerials][0].toUpperCase(), rotated.certificate.serialNumber.toUpperCase(), 'requests after the rotation present the new certificate');
  });

  it('sends no new request to a replica that answered `connection: close` (draining) until the hold passes', async () => {
    const rs = await replicasOf({ type: 'draining' }, { type: 'ok' });
    let now = 1_000_000;
    const { client, stats } = clientFor(rs, policy({}), { random: () => 0, nowMs: () => now });
    const rq = (r: Replica) => stats.get(`cluster.products.endpoint.${r.origin}.rq_total`);
    assert.equal((await get(client)).body, 'replica-0', 'ties go to the first replica');
    for (let i = 0; i < 5; i++) assert.equal((await get(client)).body, 'replica-1');
    assert.deepEqual([rq(rs[0]), rq(rs[1])], [1, 5]);
    now += UNREADY_HOLD_MS + 1;
    assert.equal((await get(client)).body, 'replica-0', 'back in rotation once the hold has passed');
  });

  it('retries a POST only when it carries an Idempotency-Key, sending the same body to another replica', async () => {
    const rs = await replicasOf({ type: 'status', status: 503 }, { type: 'ok' });
    // A fixed coin: ties go to the first replica, the one answering 503.
    const { client, stats } = clientFor(rs, policy({ outlierDetection: { consecutiveErrors: 10 } }), { random: () => 0 });
    const plain = await get(client, 'POST', { 'content-type': 'application/json' }, '{"n":1}');
    assert.equal(plain.status, 503);
    assert.equal(stats.get('cluster.products.upstream_rq_retry'), 0);
    assert.equal(rs[1].seen.length, 0);
    const keyed = await get(client, 'POST', { 'content-type': 'application/json', 'idempotency-key': 'k-1' }, '{"n":2}');
    assert.equal(keyed.status, 200);
    assert.equal(stats.get('cluster.products.upstream_rq_retry'), 1);
    assert.deepEqual(rs[1].seen, [{ method: 'POST', body: '{"n":2}' }]);
    assert.deepEqual(rs[0].seen.map((s) => s.body), ['{"n":1}', '{"n":2}']);
  });

  it('makes no retry beyond the retry budget and counts upstream_rq_retry_overflow', async () => {
    const rs = await replicasOf({ type: 'status', status: 503 }, { type: 'hold' });
    const { client, stats } = clientFor(rs, policy({ retries: { attempts: 2, budgetPercent: 0, minRetryConcurrency: 1 }, outlierDetection: { consecutiveErrors: 10 } }), { random: () => 0 });
    // The first request's retry is held on the second replica: the budget's one retry is in flight.
    const first = get(client);
    await until(() => rs[1].held.length === 1, 5_000, 'the first retry held');
    // One after another: each finds the held replica busier and tries the failing one first.
    const others = [await get(client), await get(client), await get(client)];
    assert.deepEqual(others.map((o) => o.status), [503, 503, 503]);
    assert.equal(stats.get('cluster.products.upstream_rq_retry_overflow'), 3);
    rs[1].release();
    assert.equal((await first).status, 200);
    assert.equal(stats.get('cluster.products.upstream_rq_retry'), 1);
  });

  it('retries a try that outlives perTryTimeoutMs on another replica, and answers a timeout when the whole request outlives timeoutMs', async () => {
    const rs = await replicasOf({ type: 'hold' }, { type: 'ok' });
    const { client, stats } = clientFor(rs, policy({ timeoutMs: 400, retries: { attempts: 2, perTryTimeoutMs: 150 }, outlierDetection: { consecutiveErrors: 10 } }), { random: () => 0 });
    assert.equal((await get(client)).status, 200);
    assert.equal(stats.get('cluster.products.upstream_rq_per_try_timeout'), 1);
    assert.equal(stats.get('cluster.products.upstream_rq_retry'), 1);
    rs[1].mode = { type: 'hold' };
    await assert.rejects(get(client), (err: Error & { code?: string }) => ['UND_ERR_HEADERS_TIMEOUT', 'MESHGW_UPSTREAM_TIMEOUT'].includes(err.code ?? ''));
    assert.equal(stats.get('cluster.products.upstream_rq_timeout'), 1);
  });

  it('refuses at once, with an overflow error, a request beyond maxConnections + maxPendingRequests', async () => {
    const [r] = await replicasOf({ type: 'hold' });
    const { client, stats } = clientFor([r], policy({ connectionPool: { maxConnections: 1, maxPendingRequests: 1 }, retries: { attempts: 0 } }));
    const held = [get(client), get(client)];
    await until(() => r.held.length === 1, 5_000, 'one request on the only connection');
    // Nothing is released before the refusal: it cannot be waiting for a connection.
    await assert.rejects(get(client), (err: Error & { code?: string }) => err.code === OVERFLOW_CODE);
    assert.equal(stats.get('cluster.products.upstream_rq_pending_overflow'), 1);
    assert.equal(r.held.length, 1);
    r.release();
    await until(() => r.held.length === 1, 5_000, 'the pending request reaching the connection');
    r.release();
    assert.deepEqual((await Promise.all(held)).map((h) => h.status), [200, 200]);
  });
});
