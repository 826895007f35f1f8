/**
 * The edge model over crafted scrapes (no process runs: the inputs are Sample lists shaped as
 * Istio's standard metrics, src/metrics/contract.ts). Quantiles are checked against figures worked
 * out by hand from the bucket counts with Prometheus' documented histogram_quantile algorithm
 * (promql/quantile.go bucketQuantile): find the first bucket whose cumulative count reaches
 * rank = q × total, then interpolate linearly between its lower and upper bound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ISTIO_REQUEST_LABELS, type Sample, type Scrape } from '../../src/metrics/contract.js';
import { alertMatchesEdge, markEdges } from '../../src/top/alerts.js';
import { buildEdges } from '../../src/top/edges.js';
import { histogramQuantile } from '../../src/top/histogram-quantile.js';

const id = (sa: string) => `spiffe://cluster.local/ns/meshgw/sa/${sa}`;

function istio(reporter: 'source' | 'destination', src: string, dst: string, extra: Record<string, string> = {}): Record<string, string> {
  const labels = Object.fromEntries(ISTIO_REQUEST_LABELS.map((l) => [l, 'unknown']));
  return {
    ...labels,
    reporter,
    source_workload: src,
    source_app: src,
    destination_workload: dst,
    destination_app: dst,
    destination_service_name: dst,
    source_principal: reporter === 'destination' ? id(src) : 'unknown',
    destination_principal: id(dst),
    connection_security_policy: reporter === 'destination' ? 'mutual_tls' : 'unknown',
    response_code: '200',
    response_flags: '-',
    ...extra,
  };
}

const req = (labels: Record<string, string>, value: number): Sample => ({ name: 'istio_requests_total', labels, value });

/** Cumulative bucket samples of istio_request_duration_milliseconds for the given bounds and counts. */
function buckets(labels: Record<string, string>, counts: [string, number][]): Sample[] {
  return counts.map(([le, value]) => ({ name: 'istio_request_duration_milliseconds_bucket', labels: { ...labels, le }, value }));
}

function scrape(pod: string, at: number, samples: Sample[]): Scrape {
  return { at, target: { namespace: 'meshgw', pod, app: pod.replace(/-\d+$/, ''), url: `http://127.0.0.1/${pod}/stats/prometheus` }, samples };
}

describe('histogramQuantile (Prometheus histogram_quantile)', () => {
  // Cumulative counts: ≤1: 10, ≤5: 50, ≤10: 90, ≤50: 100, +Inf: 100.
  const b = [
    { upperBound: 1, count: 10 },
    { upperBound: 5, count: 50 },
    { upperBound: 10, count: 90 },
    { upperBound: 50, count: 100 },
    { upperBound: Infinity, count: 100 },
  ];

  it('interpolates inside the bucket that reaches the rank (by hand: p50 = 5, p95 = 30, p99 = 46, p05 = 0.5)', () => {
    // p50: rank 50 reaches the ≤5 bucket exactly: 1 + (5-1)·(50-10)/(50-10) = 5.
    assert.equal(histogramQuantile(0.5, b), 5);
    // p95: rank 95 falls in ≤50: 10 + (50-10)·(95-90)/(100-90) = 30.
    assert.equal(histogramQuantile(0.95, b), 30);
    // p99: 10 + 40·(99-90)/10 = 46.
    assert.equal(histogramQuantile(0.99, b), 46);
    // p05: rank 5 in the first bucket, which starts at 0: 0 + 1·5/10 = 0.5.
    assert.equal(histogramQuantile(0.05, b), 0.5);
  });

  it('answers the largest finite bound when the rank falls in +Inf, and NaN without +Inf or observations', () => {
    assert.equal(histogramQuantile(0.9, [{ upperBound: 1, count: 1 }, { upperBound: Infinity, count: 4 }]), 1);
    assert.ok(Number.isNaN(histogramQuantile(0.5, [{ upperBound: 1, count: 1 }])));
    assert.ok(Number.isNaN(histogramQuantile(0.5, [{ upperBound: 1, count: 0 }, { upperBound: Infinity, count: 0 }])));
  });

  it('sorts buckets and lifts a dip in the cumulative counts, as Prometheus does', () => {
    const shuffled = [{ upperBound: Infinity, count: 100 }, { upperBound: 10, count: 90 }, { upperBound: 1, count: 10 }, { upperBound: 50, count: 100 }, { upperBound: 5, count: 50 }];
    assert.equal(histogramQuantile(0.95, shuffled), 30);
    // ≤10 scraped a moment before ≤5 moved on: 48 < 50 is read as 50.
    assert.equal(histogramQuantile(0.5, [{ upperBound: 5, count: 50 }, { upperBound: 10, count: 48 }, { upperBound: Infinity, count: 100 }]), 5);
  });
});

describe('buildEdges', () => {
  const gwToProducts = istio('source', 'gateway', 'products');

  it('counts requests, rps, 429s, 5xx and success (non-5xx) from the caller’s report over the window only', () => {
    const before = [scrape('gateway', 1_000, [req(gwToProducts, 10)])];
    const after = [
      scrape('gateway', 3_000, [
        req(gwToProducts, 40),
        // Born in the window: counted from 0.
        req({ ...gwToProducts, response_code: '429', response_flags: 'RL' }, 6),
        req({ ...gwToProducts, response_code: '503', response_flags: 'UF' }, 4),
      ]),
    ];
    const [e] = buildEdges(before, after);
    assert.equal(e.source, 'gateway');
    assert.equal(e.destination, 'products');
    assert.equal(e.requests, 40); // 30 + 6 + 4
    assert.equal(e.rps, 20); // 40 over 2 s
    assert.equal(e.throttled429, 6);
    assert.equal(e.errors5xx, 4);
    assert.equal(e.successRate, 0.9); // 429s are not failures (linkerd's classification)
  });

  it('takes identities and mTLS from the callee’s report, and says NO when a request arrived without mTLS', () => {
    const calleeMtls = istio('destination', 'gateway', 'products');
    const callerSide = [scrape('gateway', 1_000, [req(gwToProducts, 0)])];
    const mtlsOnly = buildEdges([...callerSide, scrape('products', 1_000, [req(calleeMtls, 1)])], [scrape('gateway', 2_000, [req(gwToProducts, 5)]), scrape('products', 2_000, [req(calleeMtls, 6)])]);
    assert.deepEqual(
      mtlsOnly.map((e) => [e.sourcePrincipal, e.destinationPrincipal, e.mtls]),
      [[id('gateway'), id('products'), true]],
    );
    const plain = { ...calleeMtls, connection_security_policy: 'none', source_principal: 'unknown' };
    const mixed = buildEdges([...callerSide, scrape('products', 1_000, [req(calleeMtls, 1)])], [scrape('gateway', 2_000, [req(gwToProducts, 5)]), scrape('products', 2_000, [req(calleeMtls, 3), req(plain, 2)])]);
    assert.equal(mixed[0].mtls, false);
    assert.equal(mixed[0].sourcePrincipal, id('gateway'), 'the verified caller is still named');
    // Without any report from the callee there is nothing to say about mTLS.
    assert.equal(buildEdges(callerSide, [scrape('gateway', 2_000, [req(gwToProducts, 5)])])[0].mtls, null);
  });

  it('sums both replicas’ bucket deltas and interpolates p50/p95/p99 (by hand: 5, 30, 46 ms)', () => {
    const o2u = istio('source', 'orders', 'users');
    // Before: arbitrary history that must not count. After − before, summed over orders-1 and orders-2, is the
    // histogram of the hand-worked example: ≤1: 10, ≤5: 50, ≤10: 90, ≤50: 100, +Inf: 100.
    const before = [
      scrape('orders-1', 0, [...buckets(o2u, [['1', 500], ['5', 500], ['10', 500], ['50', 900], ['+Inf', 900]]), req(o2u, 900)]),
      scrape('orders-2', 0, [...buckets(o2u, [['1', 0], ['5', 0], ['10', 0], ['50', 0], ['+Inf', 0]]), req(o2u, 0)]),
    ];
    const after = [
      scrape('orders-1', 4_000, [...buckets(o2u, [['1', 504], ['5', 530], ['10', 560], ['50', 966], ['+Inf', 966]]), req(o2u, 966)]),
      scrape('orders-2', 4_000, [...buckets(o2u, [['1', 6], ['5', 20], ['10', 30], ['50', 34], ['+Inf', 34]]), req(o2u, 34)]),
    ];
    const [e] = buildEdges(before, after);
    assert.equal(e.requests, 100);
    assert.equal(e.rps, 25);
    assert.deepEqual([e.p50Ms, e.p95Ms, e.p99Ms], [5, 30, 46]);
  });

  it('reads a counter that went down as a restart (the new value is the increase) and skips a target seen only now', () => {
    const o2p = istio('source', 'orders', 'products');
    const edges = buildEdges(
      [scrape('orders-1', 0, [req(o2p, 100)])],
      [scrape('orders-1', 1_000, [req(o2p, 7)]), scrape('orders-2', 1_000, [req(o2p, 50)])],
    );
    assert.equal(edges[0].requests, 7);
  });

  it('keeps an idle edge at 0 rps, with no success rate or latency to show', () => {
    const o2p = istio('source', 'orders', 'products');
    const [e] = buildEdges([scrape('orders', 0, [req(o2p, 3)])], [scrape('orders', 2_000, [req(o2p, 3)])]);
    assert.deepEqual([e.requests, e.rps, e.successRate, e.p50Ms], [0, 0, null, null]);
  });

  it('names the callee by its service when the caller refused before picking a workload', () => {
    const refused = { ...istio('source', 'gateway', 'orders'), destination_workload: 'unknown', response_code: '429' };
    const [e] = buildEdges([scrape('gateway', 0, [])], [scrape('gateway', 1_000, [req(refused, 2)])]);
    assert.deepEqual([e.destination, e.throttled429], ['orders', 2]);
  });
});

describe('marking edges with firing alerts', () => {
  const edge = { source: 'orders', destination: 'users' };

  it('matches workload labels on the sides they name, and an app label on either side', () => {
    assert.equal(alertMatchesEdge({ source_workload: 'orders', destination_workload: 'users' }, edge), true);
    assert.equal(alertMatchesEdge({ destination_workload: 'users' }, edge), true);
    assert.equal(alertMatchesEdge({ source_workload: 'gateway', destination_workload: 'users' }, edge), false);
    assert.equal(alertMatchesEdge({ app: 'users' }, edge), true);
    assert.equal(alertMatchesEdge({ app: 'orders' }, edge), true);
    assert.equal(alertMatchesEdge({ app: 'products' }, edge), false);
    assert.equal(alertMatchesEdge({ severity: 'critical' }, edge), false, 'an alert about nothing in particular marks no edge');
  });

  it('lists each matching alert once, sorted', () => {
    const base = { sourcePrincipal: null, destinationPrincipal: null, mtls: null, rps: 0, successRate: null, p50Ms: null, p95Ms: null, p99Ms: null, requests: 0, throttled429: 0, errors5xx: 0, alerts: [] };
    const marked = markEdges([{ ...base, ...edge }, { ...base, source: 'gateway', destination: 'products' }], [
      { alert: 'MeshgwHighErrorRate', labels: { destination_workload: 'users' } },
      { alert: 'MeshgwHighErrorRate', labels: { app: 'users' } },
      { alert: 'MeshgwLatency', labels: { source_workload: 'orders' } },
    ]);
    assert.deepEqual(marked.map((e) => e.alerts), [['MeshgwHighErrorRate', 'MeshgwLatency'], []]);
  });
});
