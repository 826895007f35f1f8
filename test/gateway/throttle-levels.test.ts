import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quotaPeriodStart } from '../../src/gateway/quota.js';
import { methodThrottleFor, throttleLevelsFor } from '../../src/gateway/throttle-levels.js';
import { gatewayConfig } from './helpers.js';

describe('throttle levels', () => {
  const gateway = gatewayConfig({
    throttle: { rate: 100, burst: 20 },
    methodThrottles: [
      { method: 'POST', path: '/orders', rate: 50, burst: 10 },
      { method: 'POST', path: '/orders/bulk', rate: 5, burst: 1 },
    ],
  });

  it('applies a method override to its path and below, for its method only', () => {
    assert.equal(methodThrottleFor(gateway, 'POST', '/orders')?.rate, 50);
    assert.equal(methodThrottleFor(gateway, 'POST', '/orders/42')?.rate, 50);
    assert.equal(methodThrottleFor(gateway, 'POST', '/orders/bulk/1')?.rate, 5, 'the longest path wins');
    assert.equal(methodThrottleFor(gateway, 'GET', '/orders'), undefined);
    assert.equal(methodThrottleFor(gateway, 'POST', '/ordersx'), undefined);
  });

  it('lists stage, method and key levels, the key only with a known plan', () => {
    assert.deepEqual(
      throttleLevelsFor(gateway, { method: 'POST', path: '/orders', keyId: 'k1', plan: 'limited' }).map((l) => [l.id, l.rate, l.burst]),
      [
        ['stage', 100, 20],
        ['method:POST /orders', 50, 10],
        ['key:k1', 10, 2],
      ],
    );
    assert.deepEqual(throttleLevelsFor(gateway, { method: 'GET', path: '/users', keyId: 'k1', plan: 'gone' }).map((l) => l.id), ['stage']);
  });
});

describe('quota periods', () => {
  const at = Date.UTC(2026, 10, 26, 15, 30); // a Thursday
  it('starts days at UTC midnight, weeks on Monday and months on the 1st', () => {
    assert.equal(quotaPeriodStart(at, 'DAY'), Date.UTC(2026, 10, 26));
    assert.equal(quotaPeriodStart(at, 'WEEK'), Date.UTC(2026, 10, 23));
    assert.equal(quotaPeriodStart(Date.UTC(2026, 10, 29, 23), 'WEEK'), Date.UTC(2026, 10, 23), 'Sunday is the end of the week');
    assert.equal(quotaPeriodStart(at, 'MONTH'), Date.UTC(2026, 10, 1));
  });
});
