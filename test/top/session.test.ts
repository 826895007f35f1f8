/**
 * top's loop with a scripted scrape source and a sleep that returns at once (STYLE rule 3: the
 * clock, sleep and source are passed in); no process or socket. The real targets are in
 * local-top.test.ts, eks-source.test.ts and eks-proxy.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeshgwError } from '../../src/errors.js';
import type { Scrape } from '../../src/metrics/contract.js';
import { measureTop, watchTop } from '../../src/top/session.js';
import type { ScrapeRound, ScrapeSource, TopSnapshot } from '../../src/top/types.js';

const labels = { reporter: 'source', source_workload: 'gateway', destination_workload: 'users', response_code: '200' };

function round(at: number, value: number): ScrapeRound {
  const scrape: Scrape = { at, target: { namespace: 'meshgw', pod: 'gateway', app: 'gateway', url: 'http://x/stats/prometheus' }, samples: [{ name: 'istio_requests_total', labels, value }] };
  return { scrapes: [scrape], down: [] };
}

function scripted(rounds: ScrapeRound[]): ScrapeSource & { calls: number } {
  const source = {
    target: 'local' as const,
    calls: 0,
    async scrapeAll() {
      const r = rounds[Math.min(source.calls, rounds.length - 1)];
      source.calls++;
      return r;
    },
  };
  return source;
}

describe("top's loop", () => {
  it('measures one window and marks the edges the alert evaluator names, handing it every scrape of the window', async () => {
    const seen: { count: number; at: number }[] = [];
    const snapshot = await measureTop(
      {
        source: scripted([round(1_000, 5), round(3_000, 25)]),
        sleep: async () => undefined,
        alerts: (scrapes, at) => {
          seen.push({ count: scrapes.length, at });
          return [{ alert: 'MeshEdgeErrorRate', labels: { source_workload: 'gateway', destination_workload: 'users' } }];
        },
      },
      { intervalMs: 2_000 },
    );
    assert.deepEqual(seen, [{ count: 2, at: 3_000 }]);
    assert.equal(snapshot.at, new Date(3_000).toISOString());
    assert.equal(snapshot.windowSeconds, 2);
    assert.deepEqual(snapshot.edges.map((e) => [e.source, e.destination, e.requests, e.rps, e.alerts]), [['gateway', 'users', 20, 10, ['MeshEdgeErrorRate']]]);
  });

  it('fails with the reasons when no target answers the first round', async () => {
    const source = scripted([{ scrapes: [], down: [{ pod: 'users', url: 'http://127.0.0.1:1/stats/prometheus', reason: 'ECONNREFUSED' }] }]);
    await assert.rejects(measureTop({ source, sleep: async () => undefined }, { intervalMs: 1 }), (err: unknown) => err instanceof MeshgwError && /no metrics endpoint answered: users \(ECONNREFUSED\)/.test(err.message));
  });

  it('shows a frame per interval and returns, without an error, once aborted', async () => {
    const controller = new AbortController();
    const frames: TopSnapshot[] = [];
    const source = scripted([round(0, 0), round(1_000, 10), round(2_000, 30), round(3_000, 60)]);
    await watchTop({ source, sleep: async () => undefined }, { intervalMs: 1_000, signal: controller.signal }, (s) => {
      frames.push(s);
      if (frames.length === 3) controller.abort();
    });
    assert.deepEqual(frames.map((f) => f.edges[0].requests), [10, 20, 30]);
    assert.equal(source.calls, 4);
  });
});
