import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quotaPeriodStart } from '../../src/gateway/quota.js';
import { ACCOUNT_THROTTLE, throttleLevelsFor } from '../../src/gateway/throttle-levels.js';
import { gatewayConfig } from './helpers.js';

describe('throttle levels', () => {
  const gateway = gatewayConfig({
    throttle: { rate: 100, burst: 20 },
    methodThrottles: [
      { method: 'POST', path: '/orders', rate: 50, burst: 10 },
      { method: 'POST', path: '/orders/bulk', rate: 5, burst: 1 },
    ],
  });
  const levels = (method: string, path: string, keyId?: string, plan?: string) => throttleLevelsFor(gateway, { method, path, keyId, plan }).map((l) => [l.id, l.rate, l.burst]);

  it('lists the key, the method and the account, in the order API Gateway applies them, with no stage-wide level', () => {
    assert.deepEqual(levels('POST', '/orders', 'k1', 'limited'), [
      ['key:k1', 10, 2],
      ['method:POST /orders', 50, 10],
      ['account', ACCOUNT_THROTTLE.rate, ACCOUNT_THROTTLE.burst],
    ]);
    assert.deepEqual(ACCOUNT_THROTTLE, { rate: 10_000, burst: 5_000 });
  });

  it('gives a method without an override its own level at the stage default', () => {
    assert.deepEqual(levels('GET', '/orders'), [
      ['method:ANY /orders', 100, 20],
      ['account', 10_000, 5_000],
    ]);
    assert.deepEqual(levels('POST', '/orders/42')[0], ['method:ANY /orders/{proxy+}', 100, 20], 'POST /orders/42 is not POST /orders');
    assert.deepEqual(levels('POST', '/orders/bulk')[0], ['method:POST /orders/bulk', 5, 1]);
    assert.deepEqual(levels('GET', '/users', 'k1', 'gone').map((l) => l[0]), ['method:ANY /users', 'account'], 'a key of an unknown plan has no level');
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
