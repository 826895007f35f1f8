// The data plane's Prometheus metrics on a real local stack (users and products at two replicas:
// eleven processes on 127.0.0.1 ports chosen at run time, the real apps, sidecars and gateway):
// known traffic through the gateway, then /stats/prometheus scraped from the gateway's admin
// listener and every sidecar's, parsed as text, and the Istio-named series held against the traffic.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LoadedConfig } from '../../src/config/load.js';
import type { AccessLogRecord } from '../../src/gateway/access-log.js';
import { startLocalStack, stopLocalStack } from '../../src/local/stack.js';
import { localStatus } from '../../src/local/status.js';
import { readRunState } from '../../src/local/state.js';
import { GATEWAY_THROTTLED_METRIC, IstioMetric, PROMETHEUS_PATH, type Sample } from '../../src/metrics/contract.js';
import { parsePrometheusText } from '../../src/metrics/prom-text.js';
import { replicaScratch } from '../local/replica-stack.js';

const ORDERS = 12;
const BAD_TOKENS = 3;
const NO_KEY = 2;
const LIMITED_BURST = 15;
const NS = 'meshgw';
const SPIFFE = (sa: string) => `spiffe://cluster.local/ns/${NS}/sa/${sa}`;
const HOST = (svc: string) => `${svc}.${NS}.svc.cluster.local`;

interface Reply {
  status: number;
  body: string;
}

function send(agent: http.Agent, url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<Reply> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, timeout: 20_000, headers: { ...headers, ...(text ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}) } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(text);
  });
}

async function scrape(adminUrl: string): Promise<{ contentType: string | null; samples: Sample[] }> {
  const res = await fetch(`${adminUrl}${PROMETHEUS_PATH}`);
  assert.equal(res.status, 200, `${adminUrl}${PROMETHEUS_PATH}`);
  return { contentType: res.headers.get('content-type'), samples: parsePrometheusText(await res.text()) };
}

/** The sum of the samples of `name` whose labels include `match`. */
function total(samples: Sample[], name: string, match: Record<string, string>): number {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}

async function gatewayLog(stateDir: string, want: (records: AccessLogRecord[]) => boolean, timeoutMs = 10_000): Promise<AccessLogRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(path.join(stateDir, 'local', 'logs', 'gateway.log'), 'utf8');
    const records = text
      .split('\n')
      .filter((l) => l.startsWith('{') && l.includes('"requestId"'))
      .map((l) => JSON.parse(l) as AccessLogRecord);
    if (want(records)) return records;
    if (Date.now() > deadline) throw new Error(`the gateway's access log never showed the traffic (${records.length} records)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Istio metrics from the local data plane', { timeout: 240_000 }, () => {
  let dir: string;
  let loaded: LoadedConfig;

  before(async () => {
    ({ dir, loaded } = await replicaScratch('meshgw-metrics-'));
    const started = await startLocalStack(loaded, { port: 0 });
    assert.equal(started.type, 'started');
  });
  after(async () => {
    await stopLocalStack(loaded.stateDir);
    await rm(dir, { recursive: true, force: true });
  });

  it('counts every edge of known traffic once per reporter, with the response codes, flags and layers it had', async () => {
    const s = await localStatus(loaded);
    const run = (await readRunState(loaded.stateDir))!;
    const base = s.gatewayUrl!;
    const standard = s.apiKeys.find((k) => k.name === 'demo-standard')!;
    const limited = s.apiKeys.find((k) => k.name === 'demo-limited')!;
    const gatewayAdmin = run.workloads.find((w) => w.kind === 'gateway')?.adminUrl;
    assert.ok(gatewayAdmin, 'run.json gives the gateway an admin address');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    try {
      const auth = { 'x-api-key': standard.value };
      const user = `metrics-${Date.now()}`;
      assert.equal((await send(agent, `${base}/users`, 'POST', auth, { username: user, password: 'metrics-password-1' })).status, 201);
      const token = (JSON.parse((await send(agent, `${base}/users/login`, 'POST', auth, { username: user, password: 'metrics-password-1' })).body) as { token: string }).token;
      const productId = (JSON.parse((await send(agent, `${base}/products`, 'GET', auth)).body) as { products: { id: string }[] }).products[0].id;
      for (let i = 0; i < ORDERS; i++) {
        const r = await send(agent, `${base}/orders`, 'POST', { ...auth, authorization: `Bearer ${token}`, 'idempotency-key': `metrics-${i}` }, { productId, quantity: 1 });
        assert.equal(r.status, 201, r.body);
      }
      // A token users rejects: orders asks users (401) and answers 401.
      for (let i = 0; i < BAD_TOKENS; i++) assert.equal((await send(agent, `${base}/orders`, 'POST', { ...auth, authorization: 'Bearer not-a-token' }, { productId, quantity: 1 })).status, 401);
      // No API key: the gateway answers 403 itself.
      for (let i = 0; i < NO_KEY; i++) assert.equal((await send(agent, `${base}/products`, 'GET', {})).status, 403);
      assert.equal((await send(agent, `${base}/nowhere`, 'GET', auth)).status, 403);
      // The limited plan (burst 5): a burst of 15 at once, the rest refused by its bucket.
      const burst = await Promise.all(Array.from({ length: LIMITED_BURST }, () => send(agent, `${base}/products`, 'GET', { 'x-api-key': limited.value })));
      const refused = burst.filter((r) => r.status === 429).length;
      assert.ok(refused > 0 && burst.every((r) => r.status === 200 || r.status === 429), `burst answered ${burst.map((r) => r.status).join(',')}`);

      // The gateway: reporter=source, one series family per routed service.
      const gw = await scrape(gatewayAdmin);
      assert.equal(gw.contentType, 'text/plain; version=0.0.4; charset=utf-8');
      const g = (match: Record<string, string>) => total(gw.samples, IstioMetric.requests, { reporter: 'source', source_workload: 'gateway', ...match });
      assert.equal(g({ destination_service: HOST('orders'), response_code: '201', destination_workload: 'orders', destination_principal: SPIFFE('orders'), source_principal: SPIFFE('gateway') }), ORDERS);
      assert.equal(g({ destination_service: HOST('orders'), response_code: '401' }), BAD_TOKENS);
      assert.equal(g({ destination_service: HOST('products'), response_code: '403', response_flags: '-', destination_workload: 'unknown' }), NO_KEY, 'refused by the gateway: no upstream, so no destination workload');
      assert.equal(g({ destination_service: HOST('products'), response_code: '429', response_flags: 'RL' }), refused);
      assert.ok(g({ destination_service: 'unknown', response_code: '403', response_flags: 'NR' }) >= 1, 'a path no route serves');
      assert.equal(total(gw.samples, GATEWAY_THROTTLED_METRIC, { layer: 'usagePlan', resource: '/products', http_method: 'GET', api_key_id: limited.id }), refused);
      assert.ok(gw.samples.filter((x) => x.name === IstioMetric.requests).every((x) => x.labels.connection_security_policy === 'unknown'), 'a source report never knows the policy');
      for (const series of gw.samples.filter((x) => x.name === IstioMetric.requests)) {
        const same = (name: string) => gw.samples.find((x) => x.name === name && Object.entries(series.labels).every(([k, v]) => x.labels[k] === v))?.value;
        assert.equal(same(`${IstioMetric.duration}_count`), series.value, 'one duration per request');
        assert.equal(same(`${IstioMetric.responseBytes}_count`), series.value);
      }
      assert.ok(gw.samples.some((x) => x.name === 'envoy_cluster_upstream_rq_retry' && x.labels.cluster_name === 'outbound|8080||orders.meshgw.svc.cluster.local'));
      const log = await gatewayLog(loaded.stateDir, (records) => records.filter((r) => r.status === 429).length >= refused);
      assert.equal(log.filter((r) => r.throttleLayer === 'usagePlan').length, refused, 'the access log names the same layer');
      assert.ok(log.filter((r) => r.status !== 429).every((r) => r.throttleLayer === null));

      // Every sidecar: its destination reports, its source reports and its Envoy stats.
      const sidecars = await Promise.all(
        run.workloads
          .filter((w) => w.kind === 'service')
          .map(async (w) => ({ name: w.name, service: w.service ?? w.name, admin: w.adminUrl!, port: new URL(w.inboundUrl!).port, ...(await scrape(w.adminUrl!)) })),
      );
      const dest = (svc: string, match: Record<string, string>) =>
        sidecars.filter((x) => x.service === svc).reduce((n, x) => n + total(x.samples, IstioMetric.requests, { reporter: 'destination', ...match }), 0);
      const src = (svc: string, match: Record<string, string>) =>
        sidecars.filter((x) => x.service === svc).reduce((n, x) => n + total(x.samples, IstioMetric.requests, { reporter: 'source', ...match }), 0);

      // gateway → orders, as orders' sidecar saw it: mutual TLS, the gateway's principal.
      const fromGateway = { source_workload: 'gateway', source_principal: SPIFFE('gateway'), source_workload_namespace: NS, connection_security_policy: 'mutual_tls', destination_workload: 'orders', destination_service: HOST('orders') };
      assert.equal(dest('orders', { ...fromGateway, response_code: '201' }), ORDERS);
      assert.equal(dest('orders', { ...fromGateway, response_code: '401' }), BAD_TOKENS);
      // orders → users and orders → products, once per reporter on each side.
      const toUsers = { source_workload: 'orders', destination_service: HOST('users'), destination_service_name: 'users', destination_service_namespace: NS };
      assert.equal(src('orders', { ...toUsers, response_code: '200', source_principal: SPIFFE('orders'), destination_principal: SPIFFE('users'), connection_security_policy: 'unknown' }), ORDERS);
      assert.equal(src('orders', { ...toUsers, response_code: '401' }), BAD_TOKENS);
      assert.equal(dest('users', { ...toUsers, response_code: '200', source_principal: SPIFFE('orders'), connection_security_policy: 'mutual_tls', destination_workload: 'users' }), ORDERS);
      assert.equal(dest('users', { ...toUsers, response_code: '401' }), BAD_TOKENS);
      const toProducts = { source_workload: 'orders', destination_service: HOST('products'), response_code: '200' };
      assert.equal(src('orders', toProducts), ORDERS);
      assert.equal(dest('products', { ...toProducts, connection_security_policy: 'mutual_tls', destination_workload: 'products' }), ORDERS);
      // Every replica reports the service, never the replica, as its workload.
      for (const x of sidecars) {
        const own = x.samples.filter((y) => y.name === IstioMetric.requests && y.labels.reporter === 'destination');
        assert.ok(own.every((y) => y.labels.destination_workload === x.service && y.labels.destination_app === x.service && y.labels.destination_canonical_service === x.service), `${x.name} names its workload ${x.service}`);
        // Each admitted inbound request passed RBAC: Envoy's counter and Istio's series agree.
        const admitted = own.filter((y) => y.labels.response_code !== '403').reduce((n, y) => n + y.value, 0);
        assert.equal(total(x.samples, 'envoy_http_rbac', { authz_enforce_result: 'allowed', http_conn_manager_prefix: `inbound_127.0.0.1_${x.port}` }), admitted, `${x.name}: rbac.allowed`);
        assert.equal(total(x.samples, 'envoy_listener_ssl_handshake', { listener_address: `127.0.0.1_${x.port}` }) >= 1, true, `${x.name}: handshakes under its listener address`);
        const opened = total(x.samples, IstioMetric.tcpOpened, { reporter: 'destination', connection_security_policy: 'mutual_tls', request_protocol: 'tcp' });
        assert.ok(opened >= 1 && opened >= total(x.samples, IstioMetric.tcpClosed, {}), `${x.name}: TCP connections opened ${opened}`);
      }
    } finally {
      agent.destroy();
    }
  });
});
