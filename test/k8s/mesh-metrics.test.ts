// The ADOT collector's metrics pipeline (sidecar mTLS/RBAC counters → CloudWatch EMF), checked on the rendered
// YAML: its structure, the Prometheus names it keeps, and the names the stack's alarm watches. The names are
// DERIVED from raw Envoy stat names with Istio 1.28.0's own tag regexes (tools/packaging/common/
// envoy_bootstrap.json, stats_config.stats_tags) and Envoy's extraction rule (the first capture group is cut
// out of the name, the second is the tag's value), through the same function the local target's names come
// from (src/metrics/envoy-names.ts), so both targets' alerts watch one set of names. The receiver's scrape config is
// checked by the real `promtool check config` (Prometheus 3.16, the parser the prometheus receiver embeds).
// The collector itself is not run: building otelcol-contrib with the prometheus receiver (Prometheus'
// discovery, client-go, cloud SDKs) from the module proxy is far beyond this suite's budget; the Kubernetes
// objects are validated by kubernetes-validate in manifests.test.ts and a real kube-apiserver in
// crd-validation.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { meshMetricsLogGroupName, meshMetricsNamespace, MTLS_FAILURE_METRICS, RBAC_DENIED_METRIC } from '../../src/aws/alarm-names.js';
import { configSchema } from '../../src/config/schema.js';
import { meshMetricsKeepRegex, MESH_METRICS_ROLE } from '../../src/k8s/manifests/mesh-metrics.js';
import { ADOT_SERVICE_ACCOUNT, adotCollectorConfig, renderTracingCollector, TELEMETRY_NAMESPACE } from '../../src/k8s/manifests/telemetry.js';
import { envoyPrometheusStat } from '../../src/metrics/envoy-names.js';
import { toolBin } from '../support/tools.js';

const cfg = configSchema.parse({ version: 1, target: 'aws', services: { users: { requireApiKey: false, pathPrefix: '/users' } }, aws: { stackName: 'shop' } });

/** One derivation of Envoy's Prometheus names for both targets: src/metrics/envoy-names.ts (Istio's stats_tags). */
const prometheusSeries = envoyPrometheusStat;

/** What the receiver's keep rule sees: __name__;listener_address;cluster_name;authz_enforce_result, fully anchored. */
function kept(stat: string): boolean {
  const s = prometheusSeries(stat);
  const joined = [s.name, s.labels.listener_address ?? '', s.labels.cluster_name ?? '', s.labels.authz_enforce_result ?? ''].join(';');
  return new RegExp(`^(?:${meshMetricsKeepRegex()})$`).test(joined);
}

const INBOUND = 'listener.0.0.0.0_15006.';
const OUTBOUND = 'cluster.outbound|8080||users.meshgw.svc.cluster.local;.';

describe('the collector metrics pipeline', () => {
  it('derives the alarm’s metric names from the Envoy stats an Istio sidecar counts failed mTLS with', () => {
    const raw = [
      `${INBOUND}ssl.fail_verify_no_cert`,
      `${INBOUND}ssl.fail_verify_error`,
      `${INBOUND}ssl.fail_verify_san`,
      `${INBOUND}ssl.connection_error`,
      `${INBOUND}no_filter_chain_match`,
      `${OUTBOUND}ssl.fail_verify_error`,
      `${OUTBOUND}ssl.fail_verify_san`,
      `${OUTBOUND}ssl.connection_error`,
    ];
    assert.deepEqual(raw.map((s) => prometheusSeries(s).name), [...MTLS_FAILURE_METRICS]);
    assert.deepEqual(prometheusSeries(`${INBOUND}ssl.fail_verify_error`).labels, { listener_address: '0.0.0.0_15006' });
    assert.deepEqual(prometheusSeries(`${OUTBOUND}ssl.fail_verify_san`).labels, { cluster_name: 'outbound|8080||users.meshgw.svc.cluster.local' });
    assert.deepEqual(prometheusSeries('http.inbound_0.0.0.0_8080;.rbac.denied'), { name: RBAC_DENIED_METRIC, labels: { http_conn_manager_prefix: 'inbound_0.0.0.0_8080', authz_enforce_result: 'denied' } });
  });

  it('keeps the inbound and outbound TLS counters and RBAC denials, and drops everything else', () => {
    for (const s of [`${INBOUND}ssl.fail_verify_no_cert`, `${INBOUND}ssl.handshake`, `${INBOUND}no_filter_chain_match`, `${OUTBOUND}ssl.fail_verify_san`, `${OUTBOUND}ssl.handshake`, 'http.inbound_0.0.0.0_8080;.rbac.denied']) {
      assert.ok(kept(s), `keeps ${s}`);
    }
    for (const s of [
      'http.inbound_0.0.0.0_8080;.rbac.allowed',
      'listener.0.0.0.0_8443.ssl.fail_verify_error', // not the sidecar's inbound listener
      'cluster.xds-grpc.ssl.handshake', // the control-plane connection, not mesh mTLS
      `${OUTBOUND}ssl.ciphers.TLS_AES_128_GCM_SHA256`,
      `${OUTBOUND}upstream_rq_total`,
      `${INBOUND}downstream_cx_total`,
    ]) {
      assert.ok(!kept(s), `drops ${s}`);
    }
  });

  it('publishes exactly the alarmed metrics with the namespace dimension, in the stack’s namespace and log group', () => {
    const c = parse(adotCollectorConfig(cfg)) as { exporters: { awsemf: { namespace: string; log_group_name: string; region: string; dimension_rollup_option: string; metric_declarations: Array<{ dimensions: string[][]; metric_name_selectors: string[] }> } } };
    const emf = c.exporters.awsemf;
    assert.equal(emf.namespace, meshMetricsNamespace('shop'));
    assert.equal(emf.log_group_name, meshMetricsLogGroupName('shop'));
    assert.equal(emf.region, cfg.aws.region);
    assert.equal(emf.dimension_rollup_option, 'NoDimensionRollup');
    const [decl] = emf.metric_declarations;
    // One dimension set: the alarm's. Each further set would bill every metric again per value.
    assert.deepEqual(decl.dimensions, [['namespace']]);
    for (const m of [...MTLS_FAILURE_METRICS, RBAC_DENIED_METRIC]) assert.ok(decl.metric_name_selectors.some((r) => new RegExp(r).test(m)), `${m} is declared`);
    // Kept by the receiver (for a later look) but not published: the success count and per-handshake detail.
    for (const m of ['envoy_listener_ssl_handshake', 'envoy_cluster_ssl_handshake', 'envoy_cluster_ssl_ciphers_TLS_AES_128_GCM_SHA256']) {
      assert.ok(!decl.metric_name_selectors.some((r) => new RegExp(r).test(m)), `${m} is not published`);
    }
  });

  it('wires a metrics pipeline from the prometheus receiver to awsemf next to the traces one, each part defined', () => {
    const c = parse(adotCollectorConfig(cfg)) as Record<string, Record<string, unknown>> & { service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> } };
    assert.deepEqual(c.service.pipelines.metrics, { receivers: ['prometheus'], processors: ['batch'], exporters: ['awsemf'] });
    assert.deepEqual(c.service.pipelines.traces, { receivers: ['otlp'], processors: ['batch'], exporters: ['awsxray'] });
    for (const p of Object.values(c.service.pipelines)) {
      for (const r of p.receivers) assert.ok(r in c.receivers, r);
      for (const r of p.processors) assert.ok(r in c.processors, r);
      for (const r of p.exporters) assert.ok(r in c.exporters, r);
    }
    const [job] = (c.receivers.prometheus as { config: { scrape_configs: Array<Record<string, unknown>> } }).config.scrape_configs;
    assert.equal(job.metrics_path, '/stats/prometheus');
    assert.deepEqual(job.kubernetes_sd_configs, [{ role: 'pod', namespaces: { names: [cfg.mesh.namespace] } }]);
    const address = (job.relabel_configs as Array<Record<string, unknown>>).find((r) => r.target_label === '__address__');
    // `$$` reaches Prometheus as `$` (the collector expands ${...} in its config); the merged port is 15020.
    assert.equal(address?.replacement, '$$1:15020');
  });

  it('hands the prometheus receiver a scrape config promtool accepts, and promtool refuses a broken one', async () => {
    const c = parse(adotCollectorConfig(cfg)) as { receivers: { prometheus: { config: { scrape_configs: Array<Record<string, unknown>> } } } };
    // The collector turns `$$` into `$` before the receiver parses its Prometheus config.
    const prometheusYaml = (config: unknown) => stringify(config).replaceAll('$$', '$');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-prom-'));
    try {
      const check = async (config: unknown) => {
        const file = path.join(dir, 'prometheus.yml');
        await writeFile(file, prometheusYaml(config));
        return execa(toolBin('promtool'), ['check', 'config', file], { reject: false, timeout: 60_000 });
      };
      const ok = await check(c.receivers.prometheus.config);
      assert.equal(ok.exitCode, 0, `${ok.stdout}\n${ok.stderr}`);
      const broken = structuredClone(c.receivers.prometheus.config);
      (broken.scrape_configs[0].metric_relabel_configs as Array<Record<string, unknown>>)[0].regex = '(envoy_';
      const refused = await check(broken);
      assert.notEqual(refused.exitCode, 0, 'promtool refuses a regex that does not compile');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lets the collector list only the mesh namespace’s pods, with its token mounted', () => {
    const objects = renderTracingCollector(cfg);
    const role = objects.find((o) => o.kind === 'Role')!;
    const binding = objects.find((o) => o.kind === 'RoleBinding')!;
    assert.equal(role.metadata.namespace, cfg.mesh.namespace);
    assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
    assert.equal(binding.metadata.namespace, cfg.mesh.namespace);
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: MESH_METRICS_ROLE });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: ADOT_SERVICE_ACCOUNT, namespace: TELEMETRY_NAMESPACE }]);
    assert.ok(!objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'), 'no cluster-wide rights');
    const deployment = objects.find((o) => o.kind === 'Deployment')! as unknown as { spec: { template: { spec: { automountServiceAccountToken: boolean } } } };
    assert.equal(deployment.spec.template.spec.automountServiceAccountToken, true);
  });
});
