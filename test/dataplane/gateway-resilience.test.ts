// The gateway's use of the mesh client's clusters, against real mTLS replicas (TLS servers with
// SPIFFE certificates from the test mesh CA): retries across replicas, the overflow answer, and
// the counters on the gateway's loopback stats listener (spec.adminPort, GET /__meshgw/stats).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { loadTlsMaterial, type TlsMaterial } from '../../src/dataplane/tls-material.js';
import { createGateway, type GatewayHandle } from '../../src/gateway/gateway.js';
import type { GatewaySpec } from '../../src/gateway/spec.js';
import { gatewaySpec, LogCollector, route } from '../gateway/helpers.js';
import { createTestPki, getJson, id, type TestPki } from '../mesh/fixtures.js';
import { policy, startReplica, until, type Replica } from './replicas.js';

const readText = (f: string) => readFile(f, 'utf8');

describe('the gateway across service replicas', () => {
  let pki: TestPki;
  let serverTls: TlsMaterial;
  let gatewayTls: TlsMaterial;
  const replicas: Replica[] = [];
  const gateways: GatewayHandle[] = [];
  before(async () => {
    pki = await createTestPki();
    serverTls = await loadTlsMaterial(await pki.files('orders'), readText);
    gatewayTls = await loadTlsMaterial(await pki.files('gateway'), readText);
  });
  after(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
    await Promise.all(replicas.splice(0).map((r) => r.close()));
    await pki.cleanup();
  });

  async function start(rs: Replica[], p: Parameters<typeof policy>[0]): Promise<{ gw: GatewayHandle; client: Pool; statsUrl: string }> {
    const r = route('orders', rs[0].origin, false);
    r.upstream = { ...r.upstream, expectedSpiffeId: id('orders'), replicaOrigins: rs.map((x) => x.origin), trafficPolicy: policy(p) };
    const spec: GatewaySpec = { ...gatewaySpec([r]), adminPort: 0 };
    const gw = createGateway(spec, { log: new LogCollector(), tlsMaterial: gatewayTls });
    gateways.push(gw);
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`);
    return { gw, client, statsUrl: `http://127.0.0.1:${gw.adminPort()}/__meshgw/stats` };
  }

  it('answers every GET while one replica is gone, retrying on the other, and shows the counters on its stats listener', async () => {
    const rs = await Promise.all([startReplica('dead', serverTls), startReplica('alive', serverTls)]);
    replicas.push(...rs);
    rs[0].kill();
    const { client, statsUrl } = await start(rs, { outlierDetection: { consecutiveErrors: 1, baseEjectionTimeMs: 60_000 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await client.request({ path: '/prod/orders', method: 'GET' });
        statuses.push(res.statusCode);
        await res.body.dump();
      }
      assert.deepEqual(statuses, Array(20).fill(200));
      const { status, body } = await getJson<Record<string, number>>(statsUrl);
      assert.equal(status, 200);
      assert.ok(body['cluster.orders.upstream_rq_retry'] >= 1, JSON.stringify(body));
      assert.ok(body['cluster.orders.upstream_cx_connect_fail'] >= 1);
      assert.equal(body['cluster.orders.outlier_detection.ejections_active'], 1);
      assert.equal(body[`cluster.orders.endpoint.${rs[1].origin}.rq_total`], 20);
      assert.equal(body['cluster.orders.upstream_rq_pending_overflow'], 0, 'reported at zero');
    } finally {
      await client.close();
    }
  });

  it('answers 503 at once with Envoy\'s overflow reason when the service\'s pool and queue are full', async () => {
    const [r] = await Promise.all([startReplica('held', serverTls, { type: 'hold' })]);
    replicas.push(r);
    const { client, statsUrl } = await start([r], { connectionPool: { maxConnections: 1, maxPendingRequests: 0 }, retries: { attempts: 0 } });
    try {
      const first = client.request({ path: '/prod/orders', method: 'GET' });
      await until(() => r.held.length === 1, 5_000, 'the first request held');
      const second = await client.request({ path: '/prod/orders', method: 'GET' });
      assert.equal(second.statusCode, 503);
      assert.deepEqual(await second.body.json(), { message: 'upstream connect error or disconnect/reset before headers. reset reason: overflow' });
      assert.equal(r.held.length, 1, 'refused while the first was still held');
      assert.equal((await getJson<Record<string, number>>(statsUrl)).body['cluster.orders.upstream_rq_pending_overflow'], 1);
      r.release();
      const done = await first;
      assert.equal(done.statusCode, 200);
      await done.body.dump();
    } finally {
      await client.close();
    }
  });
});
