/**
 * The names the aws target's alerting is built from, shared by three parties that must agree: the stack's
 * metric filters and alarms (templates/meshgw-stack.yaml), the ADOT collector that turns the sidecars' Envoy
 * counters into CloudWatch metrics (src/k8s/manifests/mesh-metrics.ts), and `verify mtls`, which reads the
 * alarm back. test/aws/alarms-template.test.ts checks the template against these.
 *
 * Every namespace and name carries the stack name, so two meshgw stacks in one account and region never
 * share a metric or an alarm.
 */

/** CloudWatch namespace of the access-log metric filters. */
export function apiMetricsNamespace(stack: string): string {
  return `meshgw/${stack}/api`;
}

/** CloudWatch namespace the collector's EMF log events publish the sidecars' counters under. */
export function meshMetricsNamespace(stack: string): string {
  return `meshgw/${stack}/mesh`;
}

/** The log group the collector writes its EMF events to; the stack creates it (retention, deletion). */
export function meshMetricsLogGroupName(stack: string): string {
  return `/meshgw/${stack}/mesh-metrics`;
}

/** Metrics the access-log filters publish (one count per matching log line, 0 for the others). */
export const API_METRICS = { requests: 'Requests', throttled: 'Throttled429', serverErrors: 'ServerErrors5xx' } as const;

export type AlarmKey = 'api429' | 'api5xx' | 'meshMtls' | 'meshRbac';

export function alarmName(stack: string, key: AlarmKey): string {
  const suffix: Record<AlarmKey, string> = { api429: 'api-429-rate', api5xx: 'api-5xx-rate', meshMtls: 'mesh-mtls-failures', meshRbac: 'mesh-rbac-denied' };
  return `${stack}-${suffix[key]}`;
}

/**
 * The Prometheus names an Istio 1.28 sidecar gives the counters of a failed mTLS negotiation on its
 * `/stats/prometheus` endpoints (15020 merged, 15090 Envoy's own). Envoy strips each tag Istio declares in
 * tools/packaging/common/envoy_bootstrap.json (`stats_config.stats_tags`, use_all_default_tags false) out of
 * the stat name, keeps it as a label, and prefixes `envoy_` ('.' → '_'):
 *   listener.0.0.0.0_15006.ssl.fail_verify_error
 *     listener_address `^listener\.(((?:[_.[:digit:]]*|…))\.)` takes "0.0.0.0_15006."
 *     → envoy_listener_ssl_fail_verify_error{listener_address="0.0.0.0_15006"}
 *   listener.0.0.0.0_15006.no_filter_chain_match (plaintext on a STRICT port: no chain without TLS)
 *     → envoy_listener_no_filter_chain_match{listener_address="0.0.0.0_15006"}
 *   cluster.outbound|8080||users.meshgw.svc.cluster.local;.ssl.fail_verify_san (alt_stat_name ends in ';')
 *     cluster_name `^cluster(\.(.+);)` takes ".outbound|…local;"
 *     → envoy_cluster_ssl_fail_verify_san{cluster_name="outbound|8080||users.meshgw.svc.cluster.local"}
 *   http.inbound_0.0.0.0_8080;.rbac.denied (the inbound HCM's stat_prefix ends in ';')
 *     http_conn_manager_prefix `^http\.(((?:[_.[:digit:]\w]*|…));\.)` and authz_enforce_result `rbac(\.(allowed|denied))`
 *     → envoy_http_rbac{http_conn_manager_prefix="inbound_0.0.0.0_8080",authz_enforce_result="denied"}
 * The counters themselves are Envoy's ALL_SSL_STATS (source/common/tls/stats.h); Istio trims them unless the
 * pod's proxyStatsMatcher asks for them (src/k8s/manifests/proxy-stats.ts does).
 */
export const INBOUND_LISTENER_ADDRESS = '0.0.0.0_15006';

/** Server side (the callee refused the handshake or the plaintext), then client side (the callee's identity). */
export const MTLS_FAILURE_METRICS = [
  'envoy_listener_ssl_fail_verify_no_cert',
  'envoy_listener_ssl_fail_verify_error',
  'envoy_listener_ssl_fail_verify_san',
  'envoy_listener_ssl_connection_error',
  'envoy_listener_no_filter_chain_match',
  'envoy_cluster_ssl_fail_verify_error',
  'envoy_cluster_ssl_fail_verify_san',
  'envoy_cluster_ssl_connection_error',
] as const;

/** AuthorizationPolicy denials (the collector keeps only authz_enforce_result="denied"). */
export const RBAC_DENIED_METRIC = 'envoy_http_rbac';

/**
 * Labels the collector gives each scraped series: the Kubernetes namespace (the metrics' one CloudWatch
 * dimension, which the alarms name) and the workload (app.kubernetes.io/name, a field of each EMF event).
 */
export const MESH_DIMENSIONS = { namespace: 'namespace', app: 'app' } as const;
