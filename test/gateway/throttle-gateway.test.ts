// The real gateway on 127.0.0.1 (upstream on 127.0.0.1 too) with several API Gateway methods
// loaded at once: each method has its own bucket, as API Gateway's per-method throttling does,
// and the verify model predicts the same count. The gateway's clock is faked so counts are exact.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pool } from 'undici';
import { createGateway } from '../../src/gateway/gateway.js';
import type { ThrottledRequest } from '../../src/gateway/throttle-levels.js';
import { FakeClock } from './fake-clock.js';
import { gatewayConfig, gatewaySpec, LogCollector, route, startUpstream } from './helpers.js';
import { GET_ORDERS, GET_PRODUCTS, modelled, POST_ORDERS } from './throttle-support.js';

describe('gateway throttling per method, end to end', () => {
  it('serves several methods loaded at once through the real gateway, each to its own limit, as the model predicts', async () => {
    const upstream = await startUpstream();
    const gateway = gatewayConfig({ throttle: { rate: 10, burst: 3 }, methodThrottles: [{ method: 'POST', path: '/orders', rate: 20, burst: 5 }], usagePlans: [] });
    const spec = gatewaySpec([route('orders', upstream.origin, false), route('products', upstream.origin, false)], gateway);
    const log = new LogCollector();
    const gw = createGateway({ ...spec, apiKeys: [] }, { log, clock: new FakeClock() });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`, { connections: 8 });
    try {
      const load = [POST_ORDERS, GET_ORDERS, GET_PRODUCTS, { method: 'PUT', path: '/products/p-2' }].flatMap((r) => Array.from({ length: 8 }, () => r));
      // All at once and interleaved; the clock stands still, so only the buckets decide.
      const statuses = await Promise.all(
        load.map(async (r) => {
          const res = await client.request({ method: r.method as 'GET', path: `/prod${r.path}` });
          await res.body.dump();
          return `${r.method} ${r.path} ${res.statusCode}`;
        }),
      );
      const count = (prefix: string, status: number) => statuses.filter((s) => s.startsWith(prefix) && s.endsWith(` ${status}`)).length;
      assert.equal(count('POST /orders', 200), 5, 'POST /orders: its override, burst 5');
      assert.equal(count('GET /orders', 200), 3, 'ANY /orders: the stage default, burst 3');
      assert.equal(count('GET /products', 200) + count('PUT /products', 200), 3, 'ANY /products/{proxy+}: one bucket for both verbs');
      assert.equal(count('', 429), 32 - 11);
      assert.equal(modelled(gateway, load.map((r) => [0, 1, r] as [number, number, ThrottledRequest])), 11);
      await log.waitFor(32);
      assert.equal(log.records.filter((r) => r.throttled).length, 21);
    } finally {
      await client.close();
      await gw.close();
      await upstream.close();
    }
  });
});
