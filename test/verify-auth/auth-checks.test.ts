import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forgeSignature, authChecks } from '../../src/verify/auth/checks.js';
import { runChecks } from '../../src/verify/checks.js';
import { shopConfig, ShopClock, startFakeShop, startShopGateway, type ShopBehaviour } from './fake-shop.js';

async function runAuth(behaviour: ShopBehaviour) {
  const clock = new ShopClock();
  const shop = await startFakeShop(behaviour, clock);
  const { endpoint, gateway } = await startShopGateway(shopConfig({}), shop.origin);
  const slept: number[] = [];
  try {
    const checks = authChecks({
      now: () => clock.epochMs,
      sleep: async (ms) => {
        slept.push(ms);
        clock.advance(ms);
      },
    });
    const report = await runChecks('auth', 'local', checks, endpoint);
    return { report, slept, orders: shop.orders };
  } finally {
    await gateway.close();
    await shop.close();
  }
}

describe('verify auth', () => {
  it('passes every check against a gateway and a shop that enforce keys and tokens', async () => {
    const { report, slept, orders } = await runAuth({ checkSignature: true, checkExpiry: true });
    const failed = report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.detail}`);
    assert.deepEqual(failed, []);
    assert.equal(report.checks.length, 7);
    assert.equal(report.ok, true);
    assert.equal(orders, 1, 'only the real token created an order');
    assert.equal(slept.length, 1, 'waited once, for the short-lived token');
    assert.ok(slept[0] >= 1000 && slept[0] <= 3000, `waited ${slept[0]} ms past a 1 s token`);
    assert.match(report.checks.find((c) => c.id === 'auth.no-key')!.detail, /403 Forbidden/);
  });

  it('fails the forged-token check when the shop does not check signatures', async () => {
    const { report } = await runAuth({ checkSignature: false, checkExpiry: true });
    const forged = report.checks.find((c) => c.id === 'auth.forged-token')!;
    assert.equal(forged.status, 'fail');
    assert.match(forged.detail, /201/);
    assert.equal(report.ok, false);
  });

  it('fails the expired-token check when the shop ignores expiry', async () => {
    const { report } = await runAuth({ checkSignature: true, checkExpiry: false });
    assert.equal(report.checks.find((c) => c.id === 'auth.expired-token')!.status, 'fail');
    assert.equal(report.checks.find((c) => c.id === 'auth.forged-token')!.status, 'pass');
  });

  it('forges a token of the same shape with another signature', () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtMTIz';
    const forged = forgeSignature(token);
    const [h, p, s] = forged.split('.');
    assert.equal(`${h}.${p}`, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEifQ');
    assert.equal(s.length, token.split('.')[2].length);
    assert.notEqual(s, token.split('.')[2]);
    assert.match(s, /^[A-Za-z0-9_-]+$/);
  });
});
