// The gateway's limiter against API Gateway's documented throttling (developer guide, "Throttle
// requests to your REST APIs"): per-method buckets at the stage default, method settings that
// replace that default, per-key usage-plan buckets, and the account's 10,000 rps / 5,000 burst
// with the guide's own worked examples. No AWS runs here: the limiter runs in-process on a fake
// clock, and the verify model is checked against it on the same arrivals (throttle-gateway.test.ts
// drives the real gateway).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayThrottle } from '../../src/gateway/throttle.js';
import { FakeClock } from './fake-clock.js';
import { API_KEYS, gatewayConfig } from './helpers.js';
import { GET_ORDERS, GET_PRODUCTS, modelled, POST_ORDERS, spike } from './throttle-support.js';

describe('throttling as API Gateway applies it', () => {
  it('gives every method its own bucket at the stage default, so two methods together admit twice what one does', () => {
    const gateway = gatewayConfig({ throttle: { rate: 10, burst: 6 }, usagePlans: [] });
    const clock = new FakeClock();
    const throttle = new GatewayThrottle(gateway, []);
    assert.equal(spike(throttle, clock, 20, GET_ORDERS), 6);
    assert.equal(spike(throttle, clock, 20, GET_PRODUCTS), 6, 'GET /products/p-1 has its own bucket, still full');
    assert.equal(spike(throttle, clock, 20, { method: 'DELETE', path: '/products/p-2' }), 0, 'same ANY /products/{proxy+} method, same bucket');
    assert.equal(modelled(gateway, [[0, 20, GET_ORDERS], [0, 20, GET_PRODUCTS]]), 12, 'the model agrees');
  });

  it('applies a method override instead of the stage default, whether higher or lower', () => {
    const gateway = gatewayConfig({
      throttle: { rate: 5, burst: 2 },
      methodThrottles: [
        { method: 'POST', path: '/orders', rate: 20, burst: 8 },
        { method: 'GET', path: '/products', rate: 1, burst: 1 },
      ],
      usagePlans: [],
    });
    const clock = new FakeClock();
    const throttle = new GatewayThrottle(gateway, []);
    // A stage-wide bucket in front would cap this at the stage's burst of 2.
    assert.equal(spike(throttle, clock, 20, POST_ORDERS), 8);
    assert.equal(spike(throttle, clock, 20, { method: 'GET', path: '/products' }), 1);
    assert.equal(spike(throttle, clock, 20, GET_ORDERS), 2, 'GET /orders keeps the stage default');
    clock.advance(500);
    // Half a second refills 10 of POST /orders' 20/s (capped at 8) and 2.5 of GET /orders' 5/s.
    assert.equal(spike(throttle, clock, 20, POST_ORDERS), 8);
    assert.equal(spike(throttle, clock, 20, GET_ORDERS), 2);
    assert.equal(modelled(gateway, [[0, 20, POST_ORDERS], [0, 20, GET_ORDERS], [500, 20, POST_ORDERS], [500, 20, GET_ORDERS]]), 20);
  });

  it('throttles each API key to its own usage plan across all methods', () => {
    const gateway = gatewayConfig({ throttle: { rate: 1000, burst: 1000 } });
    const [std, lim] = API_KEYS;
    const clock = new FakeClock();
    const throttle = new GatewayThrottle(gateway, API_KEYS);
    // The limited plan's burst of 2 is shared by the key's calls to every method.
    assert.equal(spike(throttle, clock, 5, { ...GET_ORDERS, keyId: lim.id }), 2);
    assert.equal(spike(throttle, clock, 5, { ...GET_PRODUCTS, keyId: lim.id }), 0);
    assert.equal(spike(throttle, clock, 5, { ...GET_PRODUCTS, keyId: std.id }), 5, 'another key is not affected');
  });

  it('applies the account limit above every method, as in the guide: 10,000 at once serve 5,000', () => {
    const gateway = gatewayConfig({ throttle: { rate: 100_000, burst: 100_000 }, usagePlans: [] });
    const clock = new FakeClock();
    const throttle = new GatewayThrottle(gateway, []);
    // Spread over two methods: the account bucket is shared by all of them.
    assert.equal(spike(throttle, clock, 5_000, GET_ORDERS) + spike(throttle, clock, 5_000, GET_PRODUCTS), 5_000);
    assert.equal(modelled(gateway, [[0, 5_000, GET_ORDERS], [0, 5_000, GET_PRODUCTS]]), 5_000);
  });

  it('serves 6,000 of 5,000 at once and 5,000 more at the 101st millisecond, as in the guide', () => {
    const gateway = gatewayConfig({ throttle: { rate: 100_000, burst: 100_000 }, usagePlans: [] });
    const clock = new FakeClock();
    const throttle = new GatewayThrottle(gateway, []);
    let admitted = spike(throttle, clock, 5_000, GET_ORDERS);
    clock.advance(100);
    admitted += spike(throttle, clock, 5_000, GET_PRODUCTS);
    assert.equal(admitted, 6_000);
    assert.equal(modelled(gateway, [[0, 5_000, GET_ORDERS], [100, 5_000, GET_PRODUCTS]]), 6_000);
  });

  it('serves all of 10,000 requests spread evenly over one second, as in the guide', () => {
    const gateway = gatewayConfig({ throttle: { rate: 100_000, burst: 100_000 }, usagePlans: [] });
    const clock = new FakeClock();
    const throttle = new GatewayThrottle(gateway, []);
    let admitted = 0;
    for (let ms = 0; ms < 1000; ms++) {
      admitted += spike(throttle, clock, 10, ms % 2 === 0 ? GET_ORDERS : GET_PRODUCTS);
      clock.advance(1);
    }
    assert.equal(admitted, 10_000);
  });
});
