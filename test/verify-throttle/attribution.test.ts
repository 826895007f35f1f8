// The attribution of 429s to layers on its own: the model's binding layer (checked against the
// gateway's own model on seeded random arrivals), crafted access-log records against crafted
// client records, and the file reader over a real file being appended to (no gateway here: the
// end-to-end test is throttle-layers.test.ts).
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ThrottleLevel } from '../../src/gateway/throttle-levels.js';
import { predictAdmissions } from '../../src/gateway/token-bucket-model.js';
import { fileThrottleLog, parseAccessLine } from '../../src/verify/throttle/access-log.js';
import { attributeThrottles, describeLayers, type LoggedRequest, type SentRequest } from '../../src/verify/throttle/attribution.js';
import { predictLayers } from '../../src/verify/throttle/layer-model.js';

const key = (rate: number, burst: number): ThrottleLevel => ({ id: 'key:k1', rate, burst });
const method = (rate: number, burst: number): ThrottleLevel => ({ id: 'method:POST /orders', rate, burst });
const account = (rate: number, burst: number): ThrottleLevel => ({ id: 'account', rate, burst });

describe('the model names the binding layer', () => {
  it('refuses with the first level out of tokens in API Gateway order: usage plan, method, account', () => {
    const at0 = (levels: ThrottleLevel[], n: number) => predictLayers(Array.from({ length: n }, () => ({ tMs: 0, levels })));
    assert.deepEqual(at0([key(10, 2), method(10, 5), account(10, 9)], 3).map((p) => `${p.admitted} ${p.layer}`), ['true usagePlan', 'true usagePlan', 'false usagePlan']);
    assert.deepEqual(at0([key(10, 5), method(10, 2), account(10, 9)], 3).at(-1), { admitted: false, layer: 'method' });
    assert.deepEqual(at0([key(10, 5), method(10, 5), account(10, 2)], 3).at(-1), { admitted: false, layer: 'account' });
    // Equal buckets refuse together: the gateway reports the first, the usage plan.
    assert.deepEqual(at0([key(10, 2), method(10, 2), account(10, 9)], 3).at(-1), { admitted: false, layer: 'usagePlan' });
  });

  it('admits exactly what the gateway model admits, over seeded random arrivals on shared levels', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const shared = method(20, 4);
    const a = [key(8, 3), shared, account(30, 6)];
    const b = [{ id: 'key:k2', rate: 15, burst: 2 }, shared, account(30, 6)];
    for (let round = 0; round < 20; round++) {
      let t = 0;
      const arrivals = Array.from({ length: 200 }, () => ({ tMs: (t += rnd() * 40), levels: rnd() < 0.5 ? a : b }));
      assert.deepEqual(predictLayers(arrivals).map((p) => p.admitted), predictAdmissions(arrivals).admitted);
    }
  });
});

function sent(requestId: string | undefined, status: number, expected: SentRequest['expected'], extra: Partial<SentRequest> = {}): SentRequest {
  return { key: 'demo-standard', second: 0, status, requestId, expected, quotaPossible: false, ...extra };
}
const logged = (requestId: string, throttleLayer: LoggedRequest['throttleLayer'], status = 429): [string, LoggedRequest] => [requestId, { requestId, status, throttleLayer }];

describe('attributing 429s to layers', () => {
  it("counts each 429 by its logged layer and agrees when it is the model's", () => {
    const a = attributeThrottles(
      [sent('a', 200, 'method'), sent('b', 429, 'method'), sent('c', 429, 'usagePlan', { key: 'demo-limited', second: 1 }), sent('d', 429, 'method', { quotaPossible: true, second: 1 })],
      new Map([logged('a', null, 200), logged('b', 'method'), logged('c', 'usagePlan'), logged('d', 'quota')]),
    );
    assert.deepEqual(a.byLayer, { account: 0, method: 1, usagePlan: 1, quota: 1 });
    assert.deepEqual([a.unmatched, a.mismatchCount], [0, 0]);
    assert.equal(describeLayers(a.byLayer), 'method 1, usagePlan 1, quota 1');
    assert.deepEqual(
      a.perSecondByKey.map((k) => [k.key, k.points.map((p) => `${p.second}:${p.ok}/${p.throttled}/${p.other} ${p.byLayer!.method}m${p.byLayer!.usagePlan}u${p.byLayer!.quota}q`)]),
      [
        ['demo-standard', ['0:1/1/0 1m0u0q', '1:0/1/0 0m0u1q']],
        ['demo-limited', ['0:0/0/0 0m0u0q', '1:0/1/0 0m1u0q']],
      ],
    );
  });

  it('counts a 429 with no record, no request id, or a record without a layer as unmatched', () => {
    const a = attributeThrottles([sent('x', 429, 'method'), sent(undefined, 429, 'method'), sent('y', 429, 'method')], new Map([logged('y', null)]));
    assert.equal(a.unmatched, 3);
    assert.deepEqual(a.unmatchedIds, ['x', '(no request id)', 'y']);
    assert.deepEqual(a.byLayer, { account: 0, method: 0, usagePlan: 0, quota: 0 });
  });

  it("flags a layer that is not the model's, and a quota refusal for a plan without a quota", () => {
    const a = attributeThrottles([sent('m', 429, 'usagePlan'), sent('q', 429, 'method')], new Map([logged('m', 'method'), logged('q', 'quota')]));
    assert.equal(a.mismatchCount, 2);
    assert.deepEqual(a.mismatches.map((m) => `${m.requestId} ${m.expected}→${m.logged}`), ['m usagePlan→method', 'q method→quota']);
  });
});

describe('reading the gateway access log file', () => {
  it('finds records written after the mark, waits for a line still being written, and skips other lines', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-access-'));
    const file = path.join(dir, 'gateway.log');
    try {
      const rec = (id: string, layer: string | null) => JSON.stringify({ requestId: id, status: layer ? 429 : 200, throttleLayer: layer }) + '\n';
      await writeFile(file, '{"event":"listening","port":1}\n' + rec('old', 'method'));
      let polls = 0;
      const log = fileThrottleLog(file, {
        pollMs: 0,
        sleep: async () => {
          // The second record arrives in two writes, as a line may be caught half written.
          if (polls++ === 0) await appendFile(file, rec('r2', 'usagePlan').slice(0, 10));
          else if (polls === 2) await appendFile(file, rec('r2', 'usagePlan').slice(10));
        },
      });
      const from = await log.mark();
      await appendFile(file, 'not json\n' + rec('r1', 'quota') + rec('ok', null));
      const found = await log.find(['r1', 'r2', 'old'], from);
      assert.deepEqual([...found.keys()].sort(), ['r1', 'r2'], 'records before the mark are not read');
      assert.deepEqual(found.get('r2'), { requestId: 'r2', status: 429, throttleLayer: 'usagePlan' });
      assert.equal(parseAccessLine('{"requestId":"a","status":429,"throttleLayer":"bogus"}')?.throttleLayer, null);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives up after its wait with what it found', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-access-'));
    const file = path.join(dir, 'gateway.log');
    try {
      await writeFile(file, '');
      let t = 0;
      const log = fileThrottleLog(file, { waitMs: 100, pollMs: 10, now: () => t, sleep: async (ms) => void (t += ms) });
      const found = await log.find(['never'], await log.mark());
      assert.equal(found.size, 0);
      assert.ok(t >= 100);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
