// Every 429 attributed to its layer, end to end: the real gateway (createGateway, on 127.0.0.1)
// in front of the fake shop, writing its JSON-lines access log to a real file as the local stack
// does (<stateDir>/logs/gateway.log), read back by verify's file reader. The first test freezes the
// gateway's clock so that the counts by layer are exact; the second runs the whole throttle
// scenario on the real clock.
import assert from 'node:assert/strict';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MeshgwConfig } from '../../src/config/schema.js';
import type { Clock } from '../../src/gateway/clock.js';
import { createGateway, type GatewayHandle } from '../../src/gateway/gateway.js';
import type { ApiKeyRecord, GatewaySpec } from '../../src/gateway/spec.js';
import { openSession } from '../../src/verify/auth/session.js';
import { ShopClient } from '../../src/verify/auth/shop-client.js';
import { runChecks } from '../../src/verify/checks.js';
import { fileThrottleLog } from '../../src/verify/throttle/access-log.js';
import { runAttributedPhase, throttleChecks } from '../../src/verify/throttle/checks.js';
import type { PhaseRun } from '../../src/verify/throttle/phase.js';
import { renderThrottleReportHtml } from '../../src/verify/throttle/report-html.js';
import { FakeClock } from '../gateway/fake-clock.js';
import { SHOP_KEYS, shopConfig, ShopClock, startFakeShop } from '../verify-auth/fake-shop.js';

const CAPPED: ApiKeyRecord = { id: 'k-capped', name: 'demo-capped', plan: 'capped', value: 'capped-secret-value-0003' };
const KEYS = [...SHOP_KEYS, CAPPED];
const [STANDARD, LIMITED] = SHOP_KEYS;

/** The real gateway in front of the shop, its access log going to `logFile`. */
async function startLoggedGateway(config: MeshgwConfig, shopOrigin: string, logFile: string, clock?: Clock): Promise<{ gateway: GatewayHandle; baseUrl: string; log: WriteStream }> {
  const spec: GatewaySpec = {
    kind: 'gateway',
    host: '127.0.0.1',
    port: 0,
    stage: config.gateway.stage,
    gateway: config.gateway,
    routes: Object.entries(config.services).map(([service, s]) => ({
      service,
      pathPrefix: s.pathPrefix,
      requireApiKey: s.requireApiKey,
      upstream: { origin: shopOrigin, expectedSpiffeId: `spiffe://cluster.local/ns/meshgw/sa/${service}` },
    })),
    apiKeys: KEYS,
    tls: { caFile: '', certFile: '', keyFile: '' },
    spiffeId: 'spiffe://cluster.local/ns/meshgw/sa/gateway',
  };
  const log = createWriteStream(logFile, { flags: 'a' });
  const gateway = createGateway(spec, { log, ...(clock ? { clock } : {}) });
  const port = await gateway.listen();
  return { gateway, baseUrl: `http://127.0.0.1:${port}/${config.gateway.stage}`, log };
}

describe('verify throttle attributes every 429 to its layer from the access log', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'meshgw-throttle-layers-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('counts exactly the refusals the crafted limits must produce, by method, usage plan and quota', async () => {
    // POST /orders: the method's bucket (4) is below the standard plan's (20), above the limited
    // plan's (3); the capped plan's quota (2) runs out first. All buckets far above the loads otherwise.
    const config = shopConfig({
      throttle: { rate: 1000, burst: 1000 },
      methodThrottles: [{ method: 'POST', path: '/orders', rate: 2, burst: 4 }],
      usagePlans: [
        { name: 'standard', throttle: { rate: 100, burst: 20 }, apiKeys: ['demo-standard'] },
        { name: 'limited', throttle: { rate: 1, burst: 3 }, apiKeys: ['demo-limited'] },
        { name: 'capped', throttle: { rate: 100, burst: 20 }, quota: { limit: 2, period: 'DAY' }, apiKeys: ['demo-capped'] },
      ],
    });
    const logFile = path.join(dir, 'exact-gateway.log');
    await writeFile(logFile, '{"event":"listening","port":0}\n');
    const shop = await startFakeShop({ checkSignature: true, checkExpiry: true }, new ShopClock());
    // Frozen: no bucket refills during a burst, so the counts depend on the limits alone.
    const clock = new FakeClock();
    const { gateway, baseUrl, log } = await startLoggedGateway(config, shop.origin, logFile, clock);
    const client = new ShopClient(baseUrl);
    try {
      const s = await openSession(client, STANDARD.value);
      const run: PhaseRun = { token: s.login.token, productId: s.productId, baseUrl, gateway: config.gateway, warmupPath: '/__meshgw_warmup' };
      const accessLog = fileThrottleLog(logFile);
      const burst = async (key: ApiKeyRecord, count: number) => {
        clock.advance(60_000); // every bucket full again
        const p = await runAttributedPhase(run, [{ label: key.name, key, rate: Infinity, count }], accessLog);
        return { outcome: p.outcomes[0], a: p.attribution! };
      };

      const method = await burst(STANDARD, 12);
      assert.deepEqual([method.outcome.ok2xx, method.outcome.throttled429], [4, 8]);
      assert.deepEqual(method.a.byLayer, { account: 0, method: 8, usagePlan: 0, quota: 0 });

      const plan = await burst(LIMITED, 10);
      assert.deepEqual([plan.outcome.ok2xx, plan.outcome.throttled429], [3, 7]);
      assert.deepEqual(plan.a.byLayer, { account: 0, method: 0, usagePlan: 7, quota: 0 });

      const quota = await burst(CAPPED, 6);
      assert.deepEqual([quota.outcome.ok2xx, quota.outcome.throttled429], [2, 4]);
      assert.deepEqual(quota.a.byLayer, { account: 0, method: 0, usagePlan: 0, quota: 4 });

      for (const { a } of [method, plan, quota]) {
        assert.equal(a.unmatched, 0, `every 429 found in the log: ${a.unmatchedIds.join(', ')}`);
        assert.deepEqual(a.mismatches, [], 'every logged layer is the one the model expects');
      }
      // The per-key, per-second series carries the same layers.
      const points = quota.a.perSecondByKey.flatMap((k) => k.points);
      assert.deepEqual(quota.a.perSecondByKey.map((k) => k.key), ['demo-capped']);
      assert.equal(points.reduce((n, p) => n + (p.byLayer?.quota ?? 0), 0), 4);
    } finally {
      await client.close();
      await gateway.close();
      log.end();
      await shop.close();
    }
  });

  it('fails a phase whose 429s the access log does not hold', async () => {
    const config = shopConfig({ methodThrottles: [{ method: 'POST', path: '/orders', rate: 2, burst: 2 }] });
    const logFile = path.join(dir, 'elsewhere.log');
    const otherFile = path.join(dir, 'empty.log');
    await writeFile(otherFile, '');
    const shop = await startFakeShop({ checkSignature: true, checkExpiry: true }, new ShopClock());
    const { gateway, baseUrl, log } = await startLoggedGateway(config, shop.origin, logFile);
    try {
      const checks = throttleChecks({ burstCount: 6, sleep: async () => undefined }, { accessLog: fileThrottleLog(otherFile, { waitMs: 200 }) }).filter((c) => ['throttle.session', 'throttle.burst'].includes(c.id));
      const report = await runChecks('throttle', 'local', checks, { target: 'local', config, baseUrl, apiKeys: SHOP_KEYS });
      const burst = report.checks[1];
      assert.equal(burst.status, 'fail');
      assert.match(burst.detail, /\d+ without a logged layer/);
      const data = burst.data as { throttled429: number; attribution: { unmatched: number } };
      assert.ok(data.throttled429 > 0);
      assert.equal(data.attribution.unmatched, data.throttled429);
    } finally {
      await gateway.close();
      log.end();
      await shop.close();
    }
  });

  it('passes the whole scenario with every 429 attributed: the method binds the standard key, the usage plan the limited one', async () => {
    // The method's bucket (30/6) is always emptier than the standard plan's (40/8) for the same
    // admitted stream, so the method refuses the standard key; the limited plan (5/3) refuses its key.
    const config = shopConfig({
      throttle: { rate: 1000, burst: 1000 },
      methodThrottles: [{ method: 'POST', path: '/orders', rate: 30, burst: 6 }],
      usagePlans: [
        { name: 'standard', throttle: { rate: 40, burst: 8 }, apiKeys: ['demo-standard'] },
        { name: 'limited', throttle: { rate: 5, burst: 3 }, apiKeys: ['demo-limited'] },
      ],
    });
    const logFile = path.join(dir, 'scenario-gateway.log');
    await writeFile(logFile, '');
    const shop = await startFakeShop({ checkSignature: true, checkExpiry: true }, new ShopClock());
    const { gateway, baseUrl, log } = await startLoggedGateway(config, shop.origin, logFile);
    try {
      const opts = { normalRps: 10, normalSeconds: 1, overRps: 50, overSeconds: 1.5, isolationSeconds: 1.5 };
      const report = await runChecks('throttle', 'local', throttleChecks(opts, { accessLog: fileThrottleLog(logFile) }), { target: 'local', config, baseUrl, apiKeys: SHOP_KEYS });
      assert.deepEqual(report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.detail}`), []);
      type Data = { throttled429: number; byLayer: Record<string, number>; attribution: { unmatched: number; mismatchCount: number }; perSecondByKey: { key: string }[]; served?: { throttled429: number } };
      const by = (id: string) => report.checks.find((c) => c.id === id)!.data as unknown as Data;
      for (const id of ['throttle.burst', 'throttle.over-limit', 'throttle.isolation']) {
        const d = by(id);
        const total = Object.values(d.byLayer).reduce((a, b) => a + b, 0);
        assert.equal(total, d.throttled429 + (d.served?.throttled429 ?? 0), `${id}: every 429 has a layer`);
        assert.deepEqual([d.attribution.unmatched, d.attribution.mismatchCount], [0, 0], id);
      }
      const over = by('throttle.over-limit');
      assert.ok(over.throttled429 > 0);
      assert.deepEqual(over.byLayer, { account: 0, method: over.throttled429, usagePlan: 0, quota: 0 });
      const isolation = by('throttle.isolation');
      assert.deepEqual(isolation.byLayer, { account: 0, method: 0, usagePlan: isolation.throttled429, quota: 0 });
      assert.deepEqual(isolation.perSecondByKey.map((k) => k.key).sort(), ['demo-limited', 'demo-standard']);

      const html = renderThrottleReportHtml(report, config);
      // One chart per phase, plus one per key in each phase whose 429s have layers (4 phases, isolation with 2 keys).
      assert.equal((html.match(/<svg/g) ?? []).length, 4 + 5);
      assert.match(html, /key demo-limited: per second, 429 by layer/);
      assert.match(html, /429 by layer \(access log\)<\/th><td>usagePlan \d+, method 0/);
    } finally {
      await gateway.close();
      log.end();
      await shop.close();
    }
  });
});
