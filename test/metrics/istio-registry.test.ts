// Istio's request metrics as one process's registry renders them: recorded through an edge
// recorder (no sockets: the byte counts come from a stand-in for the socket's counters) and read
// back through the Prometheus text parser, so the names, labels and cumulative buckets are checked
// in the form a scraper sees.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { ISTIO_REQUEST_LABELS, IstioMetric } from '../../src/metrics/contract.js';
import { destinationReport, sourceReport } from '../../src/metrics/istio-labels.js';
import { createIstioMetrics, ENVOY_DEFAULT_BUCKETS } from '../../src/metrics/istio-registry.js';
import { parsePrometheusText } from '../../src/metrics/prom-text.js';
import { EdgeRecorder } from '../../src/metrics/request-recorder.js';
import { joinFlags } from '../../src/metrics/response-flags.js';

const gateway = { name: 'gateway', namespace: 'meshgw', principal: 'spiffe://cluster.local/ns/meshgw/sa/gateway' };
const orders = { name: 'orders', namespace: 'meshgw', principal: 'spiffe://cluster.local/ns/meshgw/sa/orders' };

describe("Istio's request metrics", () => {
  it('renders counts, cumulative Envoy buckets, sums and the wire bytes of each exchange under the full label set', async () => {
    const metrics = createIstioMetrics();
    const edge = new EdgeRecorder(metrics, sourceReport(gateway, orders, true));
    const socket = { bytesRead: 0, bytesWritten: 0 };
    const exchange = (read: number, written: number, ms: number, code = 201) => {
      socket.bytesRead += read;
      socket.bytesWritten += written;
      edge.record(code, '-', ms, socket as unknown as Socket);
    };
    exchange(300, 400, 0.3);
    exchange(310, 410, 7);
    exchange(320, 420, 40_000);
    exchange(100, 50, 2, 503);
    const samples = parsePrometheusText(await metrics.registry.metrics());
    const ok = samples.filter((s) => s.labels.response_code === '201');
    const one = (name: string, le?: string) => ok.find((s) => s.name === name && s.labels.le === le)?.value;
    assert.equal(one(IstioMetric.requests), 3);
    assert.deepEqual(Object.keys(ok.find((s) => s.name === IstioMetric.requests)!.labels).sort(), [...ISTIO_REQUEST_LABELS].sort());
    assert.equal(one(`${IstioMetric.duration}_bucket`, '0.5'), 1);
    assert.equal(one(`${IstioMetric.duration}_bucket`, '10'), 2);
    assert.equal(one(`${IstioMetric.duration}_bucket`, '30000'), 2);
    assert.equal(one(`${IstioMetric.duration}_bucket`, '60000'), 3);
    assert.equal(one(`${IstioMetric.duration}_bucket`, '+Inf'), 3);
    assert.equal(one(`${IstioMetric.duration}_count`), 3);
    assert.equal(one(`${IstioMetric.duration}_sum`), 40_007.3);
    assert.equal(ok.filter((s) => s.name === `${IstioMetric.duration}_bucket`).length, ENVOY_DEFAULT_BUCKETS.length + 1);
    assert.equal(one(`${IstioMetric.requestBytes}_sum`), 930);
    assert.equal(one(`${IstioMetric.responseBytes}_sum`), 1230);
    assert.equal(one(`${IstioMetric.responseBytes}_bucket`, '250'), 0);
    assert.equal(one(`${IstioMetric.responseBytes}_bucket`, '500'), 3);
    const failed = samples.find((s) => s.name === IstioMetric.requests && s.labels.response_code === '503');
    assert.equal(failed?.value, 1, 'another response code is another series');
    assert.equal(samples.find((s) => s.name === `${IstioMetric.requestBytes}_sum` && s.labels.response_code === '503')?.value, 100);
  });

  it("fills a destination report from the peer's SPIFFE ID and a source report without an upstream with unknowns, as Istio's stats filter does", () => {
    const dest = destinationReport(orders, gateway.principal);
    assert.equal(dest.reporter, 'destination');
    assert.equal(dest.source_workload, 'gateway');
    assert.equal(dest.source_workload_namespace, 'meshgw');
    assert.equal(dest.source_principal, gateway.principal);
    assert.equal(dest.destination_principal, orders.principal);
    assert.equal(dest.destination_service, 'orders.meshgw.svc.cluster.local');
    assert.equal(dest.connection_security_policy, 'mutual_tls');
    assert.equal(destinationReport(orders, undefined).connection_security_policy, 'none');
    assert.equal(destinationReport(orders, undefined).source_principal, 'unknown');

    const local = sourceReport(gateway, orders, false);
    assert.deepEqual(
      [local.source_principal, local.destination_principal, local.destination_workload, local.destination_service, local.destination_service_namespace, local.connection_security_policy],
      ['unknown', 'unknown', 'unknown', 'orders.meshgw.svc.cluster.local', 'meshgw', 'unknown'],
    );
    const upstream = sourceReport(gateway, orders, true);
    assert.deepEqual([upstream.source_principal, upstream.destination_principal, upstream.destination_workload], [gateway.principal, orders.principal, 'orders']);
    assert.equal(sourceReport(gateway, undefined, false).destination_service, 'unknown');
  });

  it("joins several response flags in Envoy's order", () => {
    assert.equal(joinFlags('FI', 'DI'), 'DI,FI');
    assert.equal(joinFlags('DI', 'UF'), 'UF,DI');
    assert.equal(joinFlags('DI', 'SI'), 'DI,SI');
    assert.equal(joinFlags('DI', '-'), 'DI');
    assert.equal(joinFlags('-'), '-');
  });
});
