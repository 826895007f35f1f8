import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GatewayConfig } from '../../src/config/schema.js';
import { ApiMethodTable } from '../../src/gateway/api-methods.js';
import { GatewayThrottle } from '../../src/gateway/throttle.js';
import { throttleLevelsFor, type ThrottleLevel } from '../../src/gateway/throttle-levels.js';
import { predictAdmissions, type ModelArrival } from '../../src/gateway/token-bucket-model.js';
import { admitAll, TokenBucket } from '../../src/gateway/token-bucket.js';
import { FakeClock } from './fake-clock.js';

/** Runs arrivals through runtime buckets (one per level id), in time order. */
function runRuntime(arrivals: ModelArrival[]): number {
  const buckets = new Map<string, TokenBucket>();
  let admitted = 0;
  const sorted = [...arrivals].sort((a, b) => a.tMs - b.tMs);
  for (const a of sorted) {
    const list = a.levels.map((l) => {
      let b = buckets.get(l.id);
      if (!b) buckets.set(l.id, (b = new TokenBucket(l.rate, l.burst)));
      return b;
    });
    if (admitAll(list, a.tMs) < 0) admitted++;
  }
  return admitted;
}

function steady(startMs: number, rps: number, count: number, levels: ThrottleLevel[]): ModelArrival[] {
  return Array.from({ length: count }, (_, i) => ({ tMs: startMs + (i * 1000) / rps, levels }));
}

function assertAgree(arrivals: ModelArrival[]): number {
  const runtime = runRuntime(arrivals);
  const model = predictAdmissions(arrivals).admittedCount;
  assert.ok(Math.abs(runtime - model) <= 1, `runtime admitted ${runtime}, model ${model}`);
  return runtime;
}

/** A deterministic pseudo-random source so a failing sequence can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const stage: ThrottleLevel = { id: 'stage', rate: 100, burst: 20 };
const small: ThrottleLevel = { id: 'key:small', rate: 10, burst: 5 };

describe('token bucket against the model', () => {
  it('admits exactly the burst from a simultaneous spike', () => {
    const arrivals = Array.from({ length: 40 }, () => ({ tMs: 0, levels: [stage] }));
    assert.equal(assertAgree(arrivals), 20);
    assert.equal(predictAdmissions(arrivals).admittedCount, 20);
  });

  it('admits every request of a steady stream below the rate', () => {
    assert.equal(assertAgree(steady(0, 50, 500, [stage])), 500);
  });

  it('admits rate × time + burst from a steady stream above the rate', () => {
    const admitted = assertAgree(steady(0, 150, 150 * 15, [stage]));
    // 15 s of arrivals span 14.993 s: about 100 × 14.993 + 20 admitted.
    assert.ok(Math.abs(admitted - (100 * (14 * 1000 + 993.3) / 1000 + 20)) <= 2, `admitted ${admitted}`);
  });

  it('refills while idle but never beyond the burst', () => {
    const arrivals = [
      ...Array.from({ length: 10 }, () => ({ tMs: 0, levels: [small] })),
      // 60 s idle refills to 5, not 600.
      ...Array.from({ length: 10 }, () => ({ tMs: 60_000, levels: [small] })),
      // 250 ms later: 2.5 tokens, so 2 whole ones.
      ...Array.from({ length: 10 }, () => ({ tMs: 60_250, levels: [small] })),
    ];
    assert.equal(assertAgree(arrivals), 5 + 5 + 2);
  });

  it('handles fractional rates', () => {
    const slow: ThrottleLevel = { id: 'slow', rate: 0.5, burst: 1 };
    // One token every 2 s, arrivals every 700 ms up to 9.8 s: admitted at 0, 2.1, 4.2, 6.3 and 8.4 s.
    assert.equal(assertAgree(steady(0, 1000 / 700, 15, [slow])), 5);
    const odd: ThrottleLevel = { id: 'odd', rate: 7.3, burst: 3 };
    assertAgree(steady(0, 23.7, 300, [odd]));
  });

  it('does not let a level that refuses consume the tokens of the others', () => {
    // The small key saturates its own bucket; the stage bucket must still hold for another key.
    const other: ThrottleLevel = { id: 'key:other', rate: 100, burst: 20 };
    const arrivals = [
      ...steady(0, 30, 90, [stage, small]),
      ...steady(1, 60, 180, [stage, other]),
    ];
    const prediction = predictAdmissions(arrivals);
    const otherAdmitted = prediction.admitted.filter((ok, i) => ok && arrivals[i].levels.includes(other)).length;
    assert.equal(otherAdmitted, 180, 'the other key is fully served');
    assertAgree(arrivals);
  });

  it('agrees on random multi-level sequences with idle gaps and bursts', () => {
    const rnd = lcg(42);
    const method: ThrottleLevel = { id: 'method:POST /orders', rate: 40, burst: 8 };
    const keys: ThrottleLevel[] = [
      { id: 'key:a', rate: 25, burst: 10 },
      { id: 'key:b', rate: 3.5, burst: 2 },
    ];
    for (let round = 0; round < 20; round++) {
      const arrivals: ModelArrival[] = [];
      let t = 0;
      for (let i = 0; i < 400; i++) {
        const r = rnd();
        t += r < 0.1 ? rnd() * 2000 : r < 0.3 ? 0 : rnd() * 15;
        const levels = [{ ...stage, rate: 60, burst: 12 }, ...(rnd() < 0.6 ? [method] : []), keys[rnd() < 0.7 ? 0 : 1]];
        arrivals.push({ tMs: t, levels });
      }
      assertAgree(arrivals);
    }
  });
});

describe('gateway throttle with a fake clock', () => {
  const gateway = {
    stage: 'prod',
    throttle: { rate: 50, burst: 10 },
    methodThrottles: [{ method: 'POST', path: '/orders', rate: 20, burst: 4 }],
    usagePlans: [
      { name: 'standard', throttle: { rate: 30, burst: 6 }, apiKeys: ['k1'] },
      { name: 'limited', throttle: { rate: 5, burst: 2 }, quota: { limit: 7, period: 'DAY' }, apiKeys: ['k2'] },
    ],
    transform: { requestIdHeader: 'x-request-id', keyIdHeader: 'x-k', usagePlanHeader: 'x-p' },
    maxBodyBytes: 1024,
  } as GatewayConfig;
  const keys = [
    { id: 'id1', name: 'k1', plan: 'standard', value: 'v1' },
    { id: 'id2', name: 'k2', plan: 'limited', value: 'v2' },
  ];

  it('admits what the model predicts for the key, method and account levels together, over several methods', () => {
    const clock = new FakeClock();
    // A small account limit so that it binds too; the model is told the same one.
    const account = { rate: 70, burst: 14 };
    const throttle = new GatewayThrottle(gateway, keys, { account });
    const table = new ApiMethodTable(gateway);
    const rnd = lcg(7);
    const requests = [
      { method: 'POST', path: '/orders' },
      { method: 'GET', path: '/orders' },
      { method: 'GET', path: '/products/p-1' },
      { method: 'POST', path: '/products' },
    ];
    const arrivals: ModelArrival[] = [];
    const admittedByMethod = new Map<string, number>();
    let admitted = 0;
    for (let i = 0; i < 1200; i++) {
      clock.advance(rnd() < 0.2 ? 0 : rnd() * 20);
      // The standard key, or a route that needs none (the limited key's quota is not modelled).
      const key = rnd() < 0.7 ? { keyId: 'id1', plan: 'standard' } : {};
      const req = { ...requests[Math.floor(rnd() * requests.length)], ...key };
      arrivals.push({ tMs: clock.nowMs(), levels: throttleLevelsFor(gateway, req, { table, account }) });
      if (throttle.admit(req.method, req.path, req.keyId, clock.nowMs(), clock.epochMs()) === 'admitted') {
        admitted++;
        const id = table.resolve(req.method, req.path).id;
        admittedByMethod.set(id, (admittedByMethod.get(id) ?? 0) + 1);
      }
    }
    const prediction = predictAdmissions(arrivals);
    assert.ok(Math.abs(admitted - prediction.admittedCount) <= 1, `gateway admitted ${admitted}, model ${prediction.admittedCount}`);
    assert.ok(admitted < 1200, 'the sequence was throttled at some level');
    assert.equal(admittedByMethod.size, 4, 'every method admitted something');
  });

  it('answers quota once the plan limit is used, and throttled requests do not use quota', () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 15, 23, 59, 0));
    const throttle = new GatewayThrottle(gateway, keys);
    const verdicts: string[] = [];
    for (let i = 0; i < 4; i++) verdicts.push(throttle.admit('GET', '/products', 'id2', clock.nowMs(), clock.epochMs()));
    assert.deepEqual(verdicts, ['admitted', 'admitted', 'throttled', 'throttled']);
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      assert.equal(throttle.admit('GET', '/products', 'id2', clock.nowMs(), clock.epochMs()), 'admitted');
    }
    clock.advance(1000);
    assert.equal(throttle.admit('GET', '/products', 'id2', clock.nowMs(), clock.epochMs()), 'quota');
    // A new UTC day resets the quota.
    clock.advance(60_000);
    assert.equal(throttle.admit('GET', '/products', 'id2', clock.nowMs(), clock.epochMs()), 'admitted');
  });
});
