import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChecks } from '../../src/verify/checks.js';
import { throttleChecks } from '../../src/verify/throttle/checks.js';
import { allowedDeviation, resolveThrottleOptions } from '../../src/verify/throttle/options.js';
import { renderThrottleReportHtml } from '../../src/verify/throttle/report-html.js';
import { shopConfig, ShopClock, startFakeShop, startShopGateway } from '../verify-auth/fake-shop.js';

// Small limits and short phases keep the load light on a shared machine.
const SMALL_LIMITS = {
  throttle: { rate: 40, burst: 8 },
  methodThrottles: [{ method: 'POST', path: '/orders', rate: 30, burst: 6 }],
  usagePlans: [
    { name: 'standard', throttle: { rate: 30, burst: 6 }, apiKeys: ['demo-standard'] },
    { name: 'limited', throttle: { rate: 5, burst: 3 }, apiKeys: ['demo-limited'] },
  ],
};
const SMALL_OPTIONS = { normalRps: 10, normalSeconds: 1, overRps: 50, overSeconds: 1.5, isolationSeconds: 1.5 };

describe('verify throttle', () => {
  it('passes every phase against a gateway that enforces the configured limits', async () => {
    const shop = await startFakeShop({ checkSignature: true, checkExpiry: true }, new ShopClock());
    const config = shopConfig(SMALL_LIMITS);
    const { endpoint, gateway } = await startShopGateway(config, shop.origin);
    try {
      const report = await runChecks('throttle', 'local', throttleChecks(SMALL_OPTIONS), endpoint);
      const failed = report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.detail}`);
      assert.deepEqual(failed, []);
      const by = (id: string) => report.checks.find((c) => c.id === id)!.data as Record<string, number>;

      const normal = by('throttle.normal');
      assert.equal(normal.offered, 10);
      assert.equal(normal.ok2xx, 10);

      const burst = by('throttle.burst');
      assert.equal(burst.offered, 12, 'twice the binding burst of 6');
      assert.equal(burst.predicted, 6, 'sent together, the model admits exactly the burst');
      assert.ok(Math.abs(burst.ok2xx - 6) <= 1, `burst admitted ${burst.ok2xx}, the bucket holds 6`);
      assert.equal(burst.ok2xx + burst.throttled429, 12);

      const over = by('throttle.over-limit');
      assert.equal(over.offered, 75);
      // 75 requests at 50/s span 1.48 s: about 30 × 1.48 + 6 = 50 admitted.
      assert.ok(Math.abs(over.predicted - 50) <= 6, `the model predicts ${over.predicted}`);
      assert.ok(over.throttled429 > 0 && over.ok2xx + over.throttled429 === 75, `over-limit admitted ${over.ok2xx}`);
      assert.deepEqual((over as unknown as { limit: unknown }).limit, { rate: 30, burst: 6 });

      const isolation = by('throttle.isolation') as unknown as { ok2xx: number; offered: number; served: { ok2xx: number; offered: number } };
      assert.ok(isolation.ok2xx < isolation.offered, 'the limited key was throttled');
      assert.equal(isolation.served.ok2xx, isolation.served.offered, 'the standard key was fully served');

      const html = renderThrottleReportHtml(report, config);
      assert.match(html, /^<!DOCTYPE html>/);
      // One chart per phase, and one per key where a phase drove two keys (isolation; no access log, so no layers).
      assert.equal((html.match(/<svg/g) ?? []).length, 4 + 2, 'one chart per phase, plus one per key of the isolation phase');
      assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'no scripts or external assets');
    } finally {
      await gateway.close();
      await shop.close();
    }
  });

  it('fails the burst and over-limit phases when the gateway does not enforce the configured limits', async () => {
    const shop = await startFakeShop({ checkSignature: true, checkExpiry: true }, new ShopClock());
    const config = shopConfig(SMALL_LIMITS);
    // The gateway runs with far higher limits than the config verify reads.
    const { endpoint, gateway } = await startShopGateway(config, shop.origin, shopConfig({}).gateway);
    try {
      const checks = throttleChecks(SMALL_OPTIONS).filter((c) => ['throttle.session', 'throttle.burst', 'throttle.over-limit'].includes(c.id));
      const report = await runChecks('throttle', 'local', checks, endpoint);
      assert.deepEqual(
        report.checks.map((c) => c.status),
        ['pass', 'fail', 'fail'],
      );
      assert.match(report.checks[1].detail, /429 0/);
    } finally {
      await gateway.close();
      await shop.close();
    }
  });

  it('fails fast when no user can log in through the gateway', async () => {
    const config = shopConfig(SMALL_LIMITS);
    const shop = await startFakeShop({ checkSignature: true, checkExpiry: true }, new ShopClock());
    const { endpoint, gateway } = await startShopGateway(config, shop.origin);
    try {
      const report = await runChecks('throttle', 'local', throttleChecks(SMALL_OPTIONS), { ...endpoint, apiKeys: endpoint.apiKeys.map((k) => ({ ...k, value: 'revoked' })) });
      assert.equal(report.checks[0].status, 'fail');
      assert.match(report.checks[0].detail, /registering .* answered 403/);
      assert.ok(report.checks.slice(1).every((c) => c.status === 'skip'));
    } finally {
      await gateway.close();
      await shop.close();
    }
  });
});

describe('throttle options', () => {
  it('shortens phases with quick unless a length is given, and allows at least 2 requests of deviation', () => {
    const quick = resolveThrottleOptions({ quick: true, overSeconds: 9 });
    assert.equal(quick.normalSeconds, 3);
    assert.equal(quick.overSeconds, 9);
    assert.equal(resolveThrottleOptions({}).overRps, 150);
    assert.equal(allowedDeviation(40, 0.02), 2);
    assert.equal(allowedDeviation(2250, 0.02), 45);
  });
});
