// Which API Gateway layer refused a request: the throttle's decision (fake clock, exact), then the
// real gateway on 127.0.0.1 (a plain-HTTP upstream on 127.0.0.1) writing it into the access log
// and into meshgw_gateway_throttled_requests_total on its stats listener's /stats/prometheus.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pool } from 'undici';
import { createGateway } from '../../src/gateway/gateway.js';
import { GatewayThrottle } from '../../src/gateway/throttle.js';
import { throttleLayerOf, throttleLevelsFor } from '../../src/gateway/throttle-levels.js';
import type { ThrottleLayer } from '../../src/metrics/contract.js';
import { GATEWAY_THROTTLED_METRIC, IstioMetric, PROMETHEUS_PATH } from '../../src/metrics/contract.js';
import { parsePrometheusText } from '../../src/metrics/prom-text.js';
import { FakeClock } from './fake-clock.js';
import { API_KEYS, gatewayConfig, gatewaySpec, LogCollector, route, startUpstream } from './helpers.js';

const LIMITED = API_KEYS[1];
const STANDARD = API_KEYS[0];

/** Sends `count` requests at one instant; the layer of each refusal, in order. */
function refusals(throttle: GatewayThrottle, clock: FakeClock, count: number, method: string, path: string, keyId?: string): (ThrottleLayer | null)[] {
  return Array.from({ length: count }, () => throttle.decide(method, path, keyId, clock.nowMs(), clock.epochMs()));
}

describe('throttle layer attribution', () => {
  it('names the usage plan when the key bucket is the one that runs dry', () => {
    // limited: burst 2, quota 3; every other level is wide open.
    const throttle = new GatewayThrottle(gatewayConfig(), API_KEYS);
    assert.deepEqual(refusals(throttle, new FakeClock(), 3, 'GET', '/products', LIMITED.id), [null, null, 'usagePlan']);
  });

  it('names the quota once the period is used up, before any bucket', () => {
    const clock = new FakeClock();
    const throttle = new GatewayThrottle(gatewayConfig(), API_KEYS);
    assert.deepEqual(refusals(throttle, clock, 2, 'GET', '/products', LIMITED.id), [null, null]);
    clock.advance(10_000);
    // The third request fits the quota of 3, the fourth does not, even with the bucket full again.
    assert.deepEqual(refusals(throttle, clock, 2, 'GET', '/products', LIMITED.id), [null, 'quota']);
  });

  it('names the method when its override runs dry first', () => {
    const gateway = gatewayConfig({ methodThrottles: [{ method: 'POST', path: '/orders', rate: 1, burst: 2 }] });
    const throttle = new GatewayThrottle(gateway, API_KEYS);
    assert.deepEqual(refusals(throttle, new FakeClock(), 3, 'POST', '/orders', STANDARD.id), [null, null, 'method']);
    // Another method is untouched by that bucket.
    assert.deepEqual(refusals(throttle, new FakeClock(), 1, 'GET', '/orders', STANDARD.id), [null]);
  });

  it('names the account when only the account bucket is empty', () => {
    const throttle = new GatewayThrottle(gatewayConfig(), API_KEYS, { account: { rate: 1, burst: 3 } });
    const clock = new FakeClock();
    // Three different methods (three method buckets, each far from empty) share the account's 3 tokens.
    const got = [refusals(throttle, clock, 1, 'GET', '/orders', STANDARD.id), refusals(throttle, clock, 1, 'POST', '/orders', STANDARD.id), refusals(throttle, clock, 1, 'GET', '/products', STANDARD.id), refusals(throttle, clock, 1, 'PUT', '/users/x', STANDARD.id)].flat();
    assert.deepEqual(got, [null, null, null, 'account']);
  });

  it('names the first empty layer in API Gateway order when several are empty at once', () => {
    // Key bucket (burst 2) and account (burst 2) both run dry on the same requests: the plan is named.
    const throttle = new GatewayThrottle(gatewayConfig(), API_KEYS, { account: { rate: 1, burst: 2 } });
    assert.deepEqual(refusals(throttle, new FakeClock(), 3, 'GET', '/products', LIMITED.id), [null, null, 'usagePlan']);
  });

  it('maps every level id throttleLevelsFor makes to its layer', () => {
    const gateway = gatewayConfig({ methodThrottles: [{ method: 'POST', path: '/orders', rate: 1, burst: 2 }] });
    const levels = throttleLevelsFor(gateway, { method: 'POST', path: '/orders', keyId: LIMITED.id, plan: LIMITED.plan });
    assert.deepEqual(levels.map((l) => throttleLayerOf(l.id)), ['usagePlan', 'method', 'account']);
    assert.throws(() => throttleLayerOf('stage'), /not a throttle level id/);
  });
});

describe('the gateway reports the refusing layer', () => {
  it('writes throttleLayer into the access log and counts each 429 by layer, resource, method and key', async () => {
    const upstream = await startUpstream();
    const gateway = gatewayConfig({ methodThrottles: [{ method: 'POST', path: '/orders', rate: 1, burst: 1 }] });
    const spec = { ...gatewaySpec([route('orders', upstream.origin), route('products', upstream.origin)], gateway), adminPort: 0, namespace: 'meshgw' };
    const log = new LogCollector();
    const clock = new FakeClock();
    const gw = createGateway(spec, { log, clock });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`, { connections: 1 });
    const send = async (method: 'GET' | 'POST', path: string, key: string) => {
      const res = await client.request({ method, path: `/prod${path}`, headers: { 'x-api-key': key }, ...(method === 'POST' ? { body: '{}' } : {}) });
      await res.body.dump();
      return res.statusCode;
    };
    try {
      // limited: 2 admitted, the third refused by its plan's bucket; 10 s later the 4th fits the quota (3), the 5th does not.
      const statuses = [await send('GET', '/products', LIMITED.value), await send('GET', '/products', LIMITED.value), await send('GET', '/products', LIMITED.value)];
      clock.advance(10_000);
      statuses.push(await send('GET', '/products', LIMITED.value), await send('GET', '/products', LIMITED.value));
      // POST /orders: the method override (burst 1) refuses the second.
      statuses.push(await send('POST', '/orders', STANDARD.value), await send('POST', '/orders', STANDARD.value));
      assert.deepEqual(statuses, [200, 200, 429, 200, 429, 200, 429]);
      await log.waitFor(7);
      assert.deepEqual(
        log.records.map((r) => [r.status, r.throttled, r.throttleLayer]),
        [[200, false, null], [200, false, null], [429, true, 'usagePlan'], [200, false, null], [429, true, 'quota'], [200, false, null], [429, true, 'method']],
      );

      const text = await (await fetch(`http://127.0.0.1:${gw.adminPort()}${PROMETHEUS_PATH}`)).text();
      const samples = parsePrometheusText(text);
      const throttled = samples.filter((s) => s.name === GATEWAY_THROTTLED_METRIC).map((s) => [s.labels.layer, s.labels.resource, s.labels.http_method, s.labels.api_key_id, s.value]);
      assert.deepEqual(throttled.sort(), [
        ['method', '/orders', 'POST', STANDARD.id, 1],
        ['quota', '/products', 'GET', LIMITED.id, 1],
        ['usagePlan', '/products', 'GET', LIMITED.id, 1],
      ]);
      // limited's quota of 3 is used up; standard's plan has none.
      assert.deepEqual(samples.filter((s) => s.name === 'meshgw_gateway_quota_remaining').map((s) => [s.labels.api_key_id, s.labels.usage_plan, s.value]), [[LIMITED.id, 'limited', 0]]);
      const rateLimited = samples.filter((s) => s.name === IstioMetric.requests && s.labels.response_code === '429');
      assert.equal(rateLimited.reduce((n, s) => n + s.value, 0), 3);
      assert.ok(rateLimited.every((s) => s.labels.response_flags === 'RL' && s.labels.reporter === 'source' && s.labels.source_workload === 'gateway'));
      assert.deepEqual(rateLimited.map((s) => s.labels.destination_service).sort(), ['orders.meshgw.svc.cluster.local', 'products.meshgw.svc.cluster.local']);
    } finally {
      await client.close();
      await gw.close();
      await upstream.close();
    }
  });
});
