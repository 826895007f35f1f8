/**
 * The sidecars' mTLS and RBAC counters to CloudWatch, where the stack's alarm watches them (issue 16 §6):
 * the ADOT collector's `prometheus` receiver scrapes every injected pod of the mesh namespace on the
 * sidecar's merged endpoint (:15020/stats/prometheus), keeps only the TLS and RBAC series, and its
 * `awsemf` exporter writes them as Embedded Metric Format events to the stack's log group, which
 * CloudWatch turns into metrics of namespace meshgw/<stack>/mesh. The names are a contract with the
 * template (src/aws/alarm-names.ts explains how Envoy names them).
 *
 * Config keys: opentelemetry-collector-contrib receiver/prometheusreceiver (a Prometheus `scrape_configs`
 * under `config`) and exporter/awsemfexporter (namespace, log_group_name, log_stream_name,
 * dimension_rollup_option, metric_declarations with dimensions / metric_name_selectors).
 */
import type { MeshgwConfig } from '../../config/schema.js';
import { INBOUND_LISTENER_ADDRESS, MESH_DIMENSIONS, meshMetricsLogGroupName, meshMetricsNamespace, MTLS_FAILURE_METRICS, RBAC_DENIED_METRIC } from '../../aws/alarm-names.js';
import { PROMETHEUS_PATH } from '../../metrics/contract.js';
import { APP_LABEL } from '../labels.js';
import { meta } from './meta.js';
import type { K8sObject } from './types.js';

/** pilot-agent's port: Envoy's stats merged with the agent's own (Istio's prometheus.io/port). */
export const SIDECAR_MERGED_METRICS_PORT = 15020;
/** The port Istio's injector declares on istio-proxy (15090, Envoy's stats): its presence marks a sidecar. */
const SIDECAR_PROM_PORT_NAME = 'http-envoy-prom';
/**
 * Every 30 s: a refusal shows in CloudWatch within about a minute and a half (scrape, batch, EMF
 * ingestion), well inside the alarm's one-minute period plus `verify mtls`'s wait.
 */
export const MESH_SCRAPE_INTERVAL = '30s';
const SCRAPE_JOB = 'meshgw-sidecars';
export const MESH_METRICS_ROLE = 'adot-collector-pod-discovery';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One keep rule over `__name__;listener_address;cluster_name;authz_enforce_result` (Prometheus anchors it):
 * the inbound listener's TLS counters and plaintext refusals, the outbound clusters' TLS counters, and
 * RBAC denials. Everything else a sidecar serves (istio_* request metrics, every other Envoy stat) stays
 * out of CloudWatch, where each metric and dimension set is billed.
 */
export function meshMetricsKeepRegex(): string {
  const inbound = `(envoy_listener_ssl_[a-z_]+|envoy_listener_no_filter_chain_match);${esc(INBOUND_LISTENER_ADDRESS)};;`;
  // Upper case and digits stay out: ssl.ciphers.<NAME>, ssl.versions.TLSv1_3, ssl.curves.X25519 are per-handshake detail.
  const outbound = 'envoy_cluster_ssl_[a-z_]+;;outbound\\|[^;]*;';
  const rbac = `${RBAC_DENIED_METRIC};;;denied`;
  return `${inbound}|${outbound}|${rbac}`;
}

/** The prometheus receiver: the mesh namespace's injected pods, found through the Kubernetes API. */
export function meshPrometheusReceiver(cfg: MeshgwConfig): Record<string, unknown> {
  return {
    config: {
      scrape_configs: [
        {
          job_name: SCRAPE_JOB,
          scrape_interval: MESH_SCRAPE_INTERVAL,
          scrape_timeout: '10s',
          metrics_path: PROMETHEUS_PATH,
          // Namespaced discovery: a Role in the mesh namespace is all the collector needs.
          kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [cfg.mesh.namespace] } }],
          relabel_configs: [
            // role: pod yields one target per declared port: keep the sidecar's, one per pod.
            { source_labels: ['__meta_kubernetes_pod_container_name', '__meta_kubernetes_pod_container_port_name'], regex: `istio-proxy;${SIDECAR_PROM_PORT_NAME}`, action: 'keep' },
            { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Running', action: 'keep' },
            // `$$` is the collector's escape for a literal `$` (its config expands ${...}): Prometheus sees $1.
            { source_labels: ['__meta_kubernetes_pod_ip'], target_label: '__address__', replacement: `$$1:${SIDECAR_MERGED_METRICS_PORT}` },
            { source_labels: ['__meta_kubernetes_namespace'], target_label: MESH_DIMENSIONS.namespace },
            { source_labels: [`__meta_kubernetes_pod_label_${APP_LABEL.replace(/[^A-Za-z0-9]/g, '_')}`], target_label: MESH_DIMENSIONS.app },
            { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
          ],
          metric_relabel_configs: [{ source_labels: ['__name__', 'listener_address', 'cluster_name', 'authz_enforce_result'], regex: meshMetricsKeepRegex(), action: 'keep' }],
        },
      ],
    },
  };
}

/**
 * The awsemf exporter. Prometheus counters are cumulative; awsemf sends the increase since the previous
 * scrape (and drops the first), so a metric's Sum over a minute is the number of refusals in that minute.
 * Only the alarmed counters become metrics, with one dimension set, the namespace, and no rollup: each
 * metric and dimension combination is a billed custom metric ($0.30 a month), so this is 9, where a set per
 * workload would be 9 per app. Which pod and app refused stays in each EMF event (its other labels are
 * fields of the log event), for CloudWatch Logs Insights on the log group.
 */
export function meshEmfExporter(cfg: MeshgwConfig): Record<string, unknown> {
  const ns = MESH_DIMENSIONS.namespace;
  return {
    region: cfg.aws.region,
    namespace: meshMetricsNamespace(cfg.aws.stackName),
    log_group_name: meshMetricsLogGroupName(cfg.aws.stackName),
    log_stream_name: 'adot-collector',
    dimension_rollup_option: 'NoDimensionRollup',
    metric_declarations: [
      {
        dimensions: [[ns]],
        metric_name_selectors: [`^(${[...MTLS_FAILURE_METRICS, RBAC_DENIED_METRIC].join('|')})$`],
      },
    ],
  };
}

/** Read access to the mesh namespace's pods, for the receiver's kubernetes_sd (list and watch). */
export function renderMeshMetricsRbac(cfg: MeshgwConfig, collector: { namespace: string; serviceAccount: string }): K8sObject[] {
  const ns = cfg.mesh.namespace;
  const labels = { [APP_LABEL]: collector.serviceAccount };
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(MESH_METRICS_ROLE, ns, labels),
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(MESH_METRICS_ROLE, ns, labels),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: MESH_METRICS_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: collector.serviceAccount, namespace: collector.namespace }],
    },
  ];
}
