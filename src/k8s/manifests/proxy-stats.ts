/**
 * The Envoy stats `verify mtls` and `verify resilience` read, switched on per pod. Istio writes an Envoy
 * `stats_matcher` inclusion list and Envoy never creates a stat outside it: by default only cluster_manager, listener_manager, server,
 * cluster.xds-grpc, wasm, reporter=, component, istio and the rbac.* suffixes survive
 * (istio pkg/bootstrap/config.go, tools/packaging/common/envoy_bootstrap.json). The inbound listener's TLS
 * counters and the outbound clusters' TLS counters are therefore absent unless asked for here.
 *
 * The `proxy.istio.io/config` annotation is a ProxyConfig; its `proxyStatsMatcher` lists REPLACE the ones in
 * meshConfig.defaultConfig (they are not merged), and Istio always appends its required prefixes and the
 * rbac suffixes, so the list below names only what meshgw adds. It is read at bootstrap: a running pod keeps
 * its old list until it restarts.
 */
export const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';

/** virtualInbound: Istio sets no stat_prefix on it, so Envoy names its scope after the address, ':' → '_'. */
const INBOUND_LISTENER_SCOPE = 'listener.0.0.0.0_15006.';

/** Envoy cluster stats verify resilience reads (names from Envoy's ALL_CLUSTER_STATS and outlier_detection stats). */
export const RESILIENCE_CLUSTER_STATS = [
  'upstream_rq_retry',
  'upstream_rq_retry_success',
  'upstream_rq_retry_overflow',
  'upstream_rq_timeout',
  'upstream_rq_per_try_timeout',
  'upstream_rq_pending_overflow',
  'upstream_cx_connect_fail',
] as const;
const RESILIENCE_STATS_ALTERNATION = `${RESILIENCE_CLUSTER_STATS.join('|')}|outlier_detection\\..*`;

export interface ProxyStatsMatcher {
  inclusionPrefixes: string[];
  inclusionRegexps: string[];
}

export const MESH_STATS_MATCHER: ProxyStatsMatcher = {
  inclusionPrefixes: [
    // Server side of mTLS: handshake, fail_verify_no_cert, fail_verify_error, connection_error, ...
    `${INBOUND_LISTENER_SCOPE}ssl.`,
    // Plaintext on a STRICT port matches none of the inbound filter chains (all require TLS).
    `${INBOUND_LISTENER_SCOPE}no_filter_chain_match`,
  ],
  inclusionRegexps: [
    // Client side: outbound clusters carry alt_stat_name = name + ';' (pilot/pkg/networking/util), as in
    // cluster.outbound|8080||users.meshgw.svc.cluster.local;.ssl.handshake. Envoy's safe_regex must match the
    // whole name; only the TLS counters, not every upstream_* stat of every cluster.
    'cluster\\.outbound\\|[0-9]+\\|[^|]*\\|[^;]*;\\.ssl\\..*',
    // verify resilience (issue 15): the outbound clusters' retry, timeout, overflow and ejection counters, the
    // EKS names of CLUSTER_RESILIENCE_STATS (src/dataplane/counters.ts) plus Envoy's other outlier_detection.*
    // counters, which say why a host was ejected (ejections_enforced_consecutive_5xx, ...).
    `cluster\\.outbound\\|[0-9]+\\|[^|]*\\|[^;]*;\\.(${RESILIENCE_STATS_ALTERNATION})`,
  ],
};

/** The annotation value: JSON, which Istio reads as the YAML of a ProxyConfig. */
export function meshProxyConfigAnnotation(): Record<string, string> {
  return { [PROXY_CONFIG_ANNOTATION]: JSON.stringify({ proxyStatsMatcher: MESH_STATS_MATCHER }) };
}
