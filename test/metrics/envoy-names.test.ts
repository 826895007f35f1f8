// Envoy's stat names as an Istio proxy prints them in Prometheus form: the derivation (Istio's
// envoy_bootstrap.json stats_tags, Envoy's tag extraction and Prometheus naming) and the
// prom-client collector that serves meshgw's Counters under those names, read back through the
// Prometheus text parser. No process: the registry is rendered in this one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Counters } from '../../src/dataplane/counters.js';
import { envoyPrometheusStat, gatewayEnvoyNaming, sidecarEnvoyNaming } from '../../src/metrics/envoy-names.js';
import { EnvoyStatsCollector } from '../../src/metrics/envoy-prometheus.js';
import { parsePrometheusText } from '../../src/metrics/prom-text.js';

describe("Envoy's Prometheus names after Istio's tag extraction", () => {
  it('cuts the cluster name out of an outbound cluster stat', () => {
    assert.deepEqual(envoyPrometheusStat('cluster.outbound|8080||users.meshgw.svc.cluster.local;.upstream_rq_retry'), {
      name: 'envoy_cluster_upstream_rq_retry',
      labels: { cluster_name: 'outbound|8080||users.meshgw.svc.cluster.local' },
    });
    assert.deepEqual(envoyPrometheusStat('cluster.outbound|8080||users.meshgw.svc.cluster.local;.outlier_detection.ejections_active').name, 'envoy_cluster_outlier_detection_ejections_active');
    assert.deepEqual(envoyPrometheusStat('cluster.inbound|8080||;.upstream_rq_pending_overflow'), { name: 'envoy_cluster_upstream_rq_pending_overflow', labels: { cluster_name: 'inbound|8080||' } });
  });

  it("cuts the listener address out of the inbound listener's TLS stats, as for Istio's 0.0.0.0_15006", () => {
    assert.deepEqual(envoyPrometheusStat('listener.0.0.0.0_15006.ssl.fail_verify_no_cert'), { name: 'envoy_listener_ssl_fail_verify_no_cert', labels: { listener_address: '0.0.0.0_15006' } });
    assert.deepEqual(envoyPrometheusStat('listener.127.0.0.1_41234.ssl.handshake'), { name: 'envoy_listener_ssl_handshake', labels: { listener_address: '127.0.0.1_41234' } });
  });

  it('turns the HTTP RBAC counters into envoy_http_rbac with the HCM prefix and the enforce result', () => {
    assert.deepEqual(envoyPrometheusStat('http.inbound_0.0.0.0_8080;.rbac.denied'), {
      name: 'envoy_http_rbac',
      labels: { http_conn_manager_prefix: 'inbound_0.0.0.0_8080', authz_enforce_result: 'denied' },
    });
    assert.deepEqual(envoyPrometheusStat('http.inbound_0.0.0.0_8080;.rbac.allowed').labels.authz_enforce_result, 'allowed');
  });

  it('maps a sidecar counter to the stat an Istio sidecar keeps, and leaves meshgw-only counters out', () => {
    const naming = sidecarEnvoyNaming({ host: '127.0.0.1', inboundPort: 41234, namespace: 'meshgw' });
    assert.equal(naming('ssl.fail_verify_no_cert'), 'listener.127.0.0.1_41234.ssl.fail_verify_no_cert');
    assert.equal(naming('rbac.allowed'), 'http.inbound_127.0.0.1_41234;.rbac.allowed');
    assert.equal(naming('http.inbound.rq_total'), 'http.inbound_127.0.0.1_41234;.downstream_rq_total');
    assert.equal(naming('cluster.users.ssl.fail_verify_san'), 'cluster.outbound|8080||users.meshgw.svc.cluster.local;.ssl.fail_verify_san');
    assert.equal(naming('cluster.inbound.upstream_rq_timeout'), 'cluster.inbound|8080||;.upstream_rq_timeout');
    assert.equal(naming('http.egress.users.downstream_rq_timeout'), 'http.outbound_0.0.0.0_8080;.downstream_rq_timeout');
    for (const own of ['ssl.handshake.peer.spiffe://cluster.local/ns/meshgw/sa/orders', 'rbac.allowed.peer.spiffe://x', 'cluster.users.endpoint.https://127.0.0.1:1.rq_total', 'http.inbound.upstream_rq_error']) {
      assert.equal(naming(own), undefined, own);
    }
    assert.equal(gatewayEnvoyNaming({ namespace: 'meshgw' })('cluster.orders.upstream_rq_retry'), 'cluster.outbound|8080||orders.meshgw.svc.cluster.local;.upstream_rq_retry');
  });
});

describe('the Envoy stats collector', () => {
  it('serves the Counters as they are at each scrape, summing the egress listeners into the one outbound HCM, gauges as gauges', async () => {
    const counters = new Counters();
    const registry = new Registry();
    const collector = new EnvoyStatsCollector(registry, counters, sidecarEnvoyNaming({ host: '127.0.0.1', inboundPort: 4000, namespace: 'meshgw' }));
    const scrape = async () => {
      collector.refresh();
      const text = await registry.metrics();
      return { text, samples: parsePrometheusText(text) };
    };
    counters.inc('rbac.denied', 2);
    counters.inc('rbac.allowed', 5);
    counters.inc('cluster.users.upstream_rq_retry', 0);
    counters.inc('cluster.users.outlier_detection.ejections_active', 1);
    counters.inc('http.egress.users.downstream_rq_timeout', 1);
    counters.inc('http.egress.products.downstream_rq_timeout', 2);
    counters.inc('ssl.handshake.peer.spiffe://cluster.local/ns/meshgw/sa/gateway', 3);
    let { text, samples } = await scrape();
    const value = (name: string, labels: Record<string, string>) => samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    assert.equal(value('envoy_http_rbac', { authz_enforce_result: 'denied', http_conn_manager_prefix: 'inbound_127.0.0.1_4000' }), 2);
    assert.equal(value('envoy_http_rbac', { authz_enforce_result: 'allowed' }), 5);
    assert.equal(value('envoy_cluster_upstream_rq_retry', { cluster_name: 'outbound|8080||users.meshgw.svc.cluster.local' }), 0);
    assert.equal(value('envoy_http_downstream_rq_timeout', { http_conn_manager_prefix: 'outbound_0.0.0.0_8080' }), 3);
    assert.match(text, /# TYPE envoy_cluster_outlier_detection_ejections_active gauge/);
    assert.match(text, /# TYPE envoy_http_rbac counter/);
    assert.ok(!samples.some((s) => s.name.includes('peer')), 'per-peer counters are meshgw-only');

    counters.inc('rbac.denied');
    counters.inc('cluster.users.outlier_detection.ejections_active', -1);
    counters.inc('cluster.products.upstream_rq_retry', 4);
    ({ text, samples } = await scrape());
    assert.equal(value('envoy_http_rbac', { authz_enforce_result: 'denied' }), 3, 'a later scrape reads the counter again');
    assert.equal(value('envoy_cluster_outlier_detection_ejections_active', { cluster_name: 'outbound|8080||users.meshgw.svc.cluster.local' }), 0);
    assert.equal(value('envoy_cluster_upstream_rq_retry', { cluster_name: 'outbound|8080||products.meshgw.svc.cluster.local' }), 4, 'a series that appeared since is served');
  });
});
