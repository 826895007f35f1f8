import assert from 'node:assert/strict';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { runOpenLoop, type LoadSample } from '../../src/loadgen/open-loop.js';
import { percentile, perSecond, summarize } from '../../src/loadgen/summary.js';

interface Target {
  baseUrl: string;
  paths: string[];
  close(): Promise<void>;
}

/** Answers 200 at once, or holds every answer until `holdUntil` requests have arrived. */
async function startTarget(holdUntil = 0): Promise<Target> {
  const paths: string[] = [];
  const held: ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    if (holdUntil === 0) return void res.end('ok');
    held.push(res);
    if (held.length >= holdUntil) for (const r of held.splice(0)) r.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`,
    paths,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('open-loop load generator', () => {
  it('sends every request on its schedule, never before it is due, through the base path', async () => {
    const target = await startTarget();
    try {
      const result = await runOpenLoop({ baseUrl: target.baseUrl, rate: 100, count: 40, request: (i) => ({ method: 'GET', path: `/r/${i}` }) });
      assert.equal(result.samples.length, 40);
      assert.equal(target.paths.length, 40);
      assert.deepEqual(new Set(target.paths), new Set(Array.from({ length: 40 }, (_, i) => `/prod/r/${i}`)));
      result.samples.forEach((s, i) => {
        assert.equal(s.status, 200);
        assert.equal(s.scheduledMs, i * 10);
        assert.ok(s.sentMs >= s.scheduledMs, `request ${i} sent at ${s.sentMs} before its time ${s.scheduledMs}`);
        if (i > 0) assert.ok(s.sentMs >= result.samples[i - 1].sentMs, 'sent in order');
      });
      assert.ok(result.durationMs >= 390, 'the last request was due at 390 ms');
      assert.equal(result.skippedForInFlightBound, 0);
    } finally {
      await target.close();
    }
  });

  it('does not wait for answers before sending the next request', async () => {
    // The server answers nothing until all 12 have arrived: a closed loop would stall here.
    const target = await startTarget(12);
    try {
      const result = await runOpenLoop({ baseUrl: target.baseUrl, rate: 200, count: 12, timeoutMs: 5000, request: () => ({ method: 'POST', path: '/orders', body: '{}' }) });
      assert.equal(result.samples.filter((s) => s.status === 200).length, 12);
      assert.equal(result.maxInFlightSeen, 12);
    } finally {
      await target.close();
    }
  });

  it('records requests it could not send because the in-flight bound was reached', async () => {
    const target = await startTarget(4);
    try {
      const result = await runOpenLoop({ baseUrl: target.baseUrl, rate: Infinity, count: 10, maxInFlight: 4, request: () => ({ method: 'GET', path: '/' }) });
      assert.equal(result.skippedForInFlightBound, 6);
      assert.equal(result.samples.filter((s) => s.sentMs < 0 && s.error === 'in-flight bound reached').length, 6);
      assert.equal(target.paths.length, 4);
    } finally {
      await target.close();
    }
  });

  it('opens warm connections before the clock starts', async () => {
    const target = await startTarget();
    try {
      const result = await runOpenLoop({ baseUrl: target.baseUrl, rate: Infinity, count: 3, warmup: { path: '/__warm', connections: 5 }, request: () => ({ method: 'GET', path: '/x' }) });
      assert.equal(target.paths.filter((p) => p === '/prod/__warm').length, 5);
      assert.equal(result.samples.length, 3);
    } finally {
      await target.close();
    }
  });
});

describe('load summaries', () => {
  const sample = (second: number, status: number, latencyMs: number): LoadSample => ({ index: 0, scheduledMs: 0, sentMs: second * 1000 + 1, status, latencyMs, second });

  it('counts 2xx, 429 and others, with nearest-rank percentiles', () => {
    const samples = [sample(0, 200, 1), sample(0, 201, 2), sample(1, 429, 3), sample(1, 502, 4), sample(3, 200, 10)];
    assert.deepEqual(summarize(samples), { offered: 5, ok2xx: 3, throttled429: 1, other: 1, p50Ms: 3, p99Ms: 10 });
    assert.equal(percentile([], 50), 0);
    assert.equal(percentile([5, 1, 3, 2, 4], 20), 1);
  });

  it('buckets by second with empty seconds filled', () => {
    const samples = [sample(0, 200, 1), sample(0, 429, 1), sample(2, 200, 1)];
    assert.deepEqual(perSecond(samples), [
      { second: 0, ok: 1, throttled: 1, other: 0 },
      { second: 1, ok: 0, throttled: 0, other: 0 },
      { second: 2, ok: 1, throttled: 0, other: 0 },
    ]);
  });
});
