// Persistent usage-plan quotas (issue 14, item 4) in process: the real gateway on 127.0.0.1 with a
// plain-HTTP upstream, and the real quota file on disk (temp + fsync + rename). Only the failing
// disk is a fake: a QuotaFile whose write rejects with ENOSPC, as fs.promises does on a full disk.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Pool } from 'undici';
import { MeshgwError } from '../../src/errors.js';
import { createGateway } from '../../src/gateway/gateway.js';
import { quotaFileAt, type QuotaFile } from '../../src/gateway/quota-file.js';
import { QuotaStore, reservationBlock } from '../../src/gateway/quota-store.js';
import { FakeClock } from './fake-clock.js';
import { API_KEYS, gatewayConfig, gatewaySpec, LogCollector, route, startUpstream, type FakeUpstream } from './helpers.js';

const LIM = API_KEYS[1];
const HIGH = { rate: 100_000, burst: 100_000 };

/** The limited key with quota `limit`/DAY and throttles too high to bind. */
function spec(upstream: FakeUpstream, limit: number) {
  const gateway = gatewayConfig({
    throttle: HIGH,
    usagePlans: [
      { name: 'standard', throttle: HIGH, apiKeys: ['demo-standard'] },
      { name: 'limited', throttle: HIGH, quota: { limit, period: 'DAY' }, apiKeys: ['demo-limited'] },
    ],
  });
  return gatewaySpec([route('products', upstream.origin)], gateway);
}

/** The real file, counting its writes. */
function countingFile(file: string): QuotaFile & { writes: number } {
  const real = quotaFileAt(file);
  const counted = { path: real.path, writes: 0, read: () => real.read(), write: (text: string) => (counted.writes++, real.write(text)) };
  return counted;
}

async function get(client: Pool, key = LIM.value): Promise<{ status: number; errorType: string | undefined; body: string }> {
  const res = await client.request({ path: '/prod/products', method: 'GET', headers: { 'x-api-key': key } });
  return { status: res.statusCode, errorType: res.headers['x-amzn-errortype'] as string | undefined, body: await res.body.text() };
}

async function storedCount(file: string): Promise<{ periodStart: string; used: number }> {
  const doc = JSON.parse(await readFile(file, 'utf8')) as { counters: Record<string, { periodStart: string; used: number }> };
  return doc.counters[LIM.id];
}

/** What the quota file on disk counts for the limited key right now (0 without a file or a count). */
function usedOnDisk(file: string): { periodStart: string; used: number } {
  try {
    const c = (JSON.parse(readFileSync(file, 'utf8')) as { counters: Record<string, { periodStart: string; used: number }> }).counters[LIM.id];
    return c ? { periodStart: c.periodStart, used: c.used } : { periodStart: '', used: 0 };
  } catch {
    return { periodStart: '', used: 0 };
  }
}

describe('persistent quotas in the gateway', () => {
  let dir: string;
  let upstream: FakeUpstream;
  /** Each request the upstream received (the nth of its quota period), with the count the file held when it arrived. */
  let arrivals: { periodStart: string; nth: number; onDisk: number }[];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'meshgw-quota-'));
    arrivals = [];
    upstream = await startUpstream((_req, res) => {
      const disk = usedOnDisk(path.join(dir, 'quotas.json'));
      const nth = arrivals.filter((a) => a.periodStart === disk.periodStart).length + 1;
      arrivals.push({ periodStart: disk.periodStart, nth, onDisk: disk.used });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  afterEach(async () => {
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
    // Write-ahead, in every test: no request reached the service before the file counted it.
    const uncounted = arrivals.filter((a) => a.onDisk < a.nth);
    assert.deepEqual(uncounted, [], 'requests forwarded before the quota file counted them');
  });

  /** One gateway life on the store in `file`: runs `body`, then closes gateway and store (unless told not to: a crash). */
  async function life<T>(file: QuotaFile, limit: number, clock: FakeClock, body: (client: Pool) => Promise<T>, clean = true): Promise<T> {
    const store = await QuotaStore.open(file);
    const gw = createGateway(spec(upstream, limit), { log: new LogCollector(), clock, quotaStore: store });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`, { connections: 8 });
    try {
      return await body(client);
    } finally {
      await client.close();
      await gw.close();
      if (clean) await store.close();
    }
  }

  it('starts a new UTC day at zero, and a store opened the next day does too', async () => {
    const file = quotaFileAt(path.join(dir, 'quotas.json'));
    const clock = new FakeClock(Date.UTC(2026, 0, 15, 23, 59, 58));
    await life(file, 2, clock, async (client) => {
      assert.deepEqual([(await get(client)).status, (await get(client)).status, (await get(client)).status], [200, 200, 429]);
      clock.advance(3000);
      assert.equal((await get(client)).status, 200, 'the first request of 16 January');
    });
    assert.deepEqual(await storedCount(file.path), { period: 'DAY', periodStart: '2026-01-16T00:00:00.000Z', used: 1 });
    // A day later the file still records the 16th: a new store counts the 17th from zero.
    clock.advance(86_400_000);
    const statuses = await life(file, 2, clock, async (client) => [(await get(client)).status, (await get(client)).status, (await get(client)).status]);
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.equal(upstream.seen.length, 2 + 1 + 2);
  });

  it('keeps a used-up quota used up when the store is opened again, even with no clean stop', async () => {
    const file = quotaFileAt(path.join(dir, 'quotas.json'));
    const clock = new FakeClock();
    await life(file, 3, clock, async (client) => {
      for (let i = 0; i < 3; i++) assert.equal((await get(client)).status, 200);
    }, false);
    const again = await life(file, 3, clock, (client) => get(client));
    assert.deepEqual([again.status, again.errorType, JSON.parse(again.body)], [429, 'QUOTA_EXCEEDED', { message: 'Limit Exceeded' }]);
    assert.equal(upstream.seen.length, 3);
    assert.equal((await stat(file.path)).mode & 0o777, 0o600);
  });

  it('reserves a block per write for a large limit: a crash forfeits at most the unused block, a clean stop writes the exact count', async () => {
    const limit = 5000;
    const block = reservationBlock(limit);
    assert.equal(block, 50);
    const file = countingFile(path.join(dir, 'quotas.json'));
    const clock = new FakeClock();
    await life(file, limit, clock, async (client) => {
      for (let i = 0; i < 7; i++) assert.equal((await get(client)).status, 200);
    }, false);
    assert.equal(file.writes, 1, 'one write reserved the first 50');
    assert.equal((await storedCount(file.path)).used, block, 'after a crash the unused part of the reservation counts as used');
    await life(file, limit, clock, async (client) => {
      for (let i = 0; i < 4; i++) assert.equal((await get(client)).status, 200);
    });
    assert.equal((await storedCount(file.path)).used, block + 4, 'a clean stop releases the rest of the second reservation');
  });

  it('records a simultaneous burst with a few writes, not one per request', async () => {
    const file = countingFile(path.join(dir, 'quotas.json'));
    const clock = new FakeClock();
    const statuses = await life(file, 100, clock, (client) => Promise.all(Array.from({ length: 40 }, async () => (await get(client)).status)));
    assert.deepEqual(statuses, statuses.map(() => 200));
    assert.ok(file.writes >= 2 && file.writes < 40, `${file.writes} writes for 40 requests at one write per request (block ${reservationBlock(100)})`);
    assert.equal((await storedCount(file.path)).used, 40);
  });

  it('answers 500 and forwards nothing when the quota file cannot be written, then serves again once it can', async () => {
    const real = quotaFileAt(path.join(dir, 'quotas.json'));
    let full = true;
    const errors: unknown[] = [];
    const disk: QuotaFile = {
      path: real.path,
      read: () => real.read(),
      write: (text) => (full ? Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })) : real.write(text)),
    };
    const store = await QuotaStore.open(disk, { onWriteError: (err) => errors.push(err) });
    const gw = createGateway(spec(upstream, 10), { log: new LogCollector(), clock: new FakeClock(), quotaStore: store });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`, { connections: 2 });
    try {
      const refused = await get(client);
      assert.deepEqual([refused.status, refused.errorType, JSON.parse(refused.body)], [500, 'DEFAULT_5XX', { message: 'Internal server error' }]);
      assert.equal(upstream.seen.length, 0);
      assert.equal(errors.length, 1);
      full = false;
      assert.equal((await get(client)).status, 200);
      // The refused request still counts: conservative, never generous.
      assert.equal((await storedCount(real.path)).used, 2);
    } finally {
      await client.close();
      await gw.close();
      await store.close();
    }
  });
});

describe('a quota file that is not meshgw\'s', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), 'meshgw-quota-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const cases: [string, string, RegExp][] = [
    ['half a JSON document', '{"kind":"meshgw-gateway-quotas","vers', /is not valid JSON/],
    ['another meshgw file (api-keys.json)', '[{"id":"a1","name":"demo","plan":"standard","value":"x"}]', /is not a meshgw quota file/],
    ['a negative count', JSON.stringify({ kind: 'meshgw-gateway-quotas', version: 1, counters: { k: { period: 'DAY', periodStart: '2026-01-15T00:00:00.000Z', used: -5 } } }), /counters\.k\.used/],
    ['a period start that is no period boundary', JSON.stringify({ kind: 'meshgw-gateway-quotas', version: 1, counters: { k: { period: 'WEEK', periodStart: '2026-01-15T00:00:00.000Z', used: 5 } } }), /not the start of a UTC week/],
    ['a future version', JSON.stringify({ kind: 'meshgw-gateway-quotas', version: 2, counters: {} }), /version/],
  ];
  for (const [what, text, message] of cases) {
    it(`refuses ${what}, naming the file, with a hint, and leaves it as it was`, async () => {
      const file = path.join(dir, 'quotas.json');
      await writeFile(file, text);
      await assert.rejects(QuotaStore.open(quotaFileAt(file)), (err: unknown) => {
        assert.ok(err instanceof MeshgwError);
        assert.equal(err.code, 'STATE_MISSING');
        assert.match(err.message, message);
        assert.ok(err.message.includes(file));
        assert.match(err.hint ?? '', /delete it/);
        return true;
      });
      assert.equal(await readFile(file, 'utf8'), text);
    });
  }
});
