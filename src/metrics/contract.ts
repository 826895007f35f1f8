/**
 * The shapes every metrics feature agrees on: the emitters (gateway, sidecars), the scraper behind
 * `meshgw top`, the alert rules and the evidence bundle. Names and labels are Istio's standard
 * metrics (istio.io/latest/docs/reference/config/metrics), so PromQL written for an Istio mesh
 * reads the local target unchanged.
 */

/** Istio's standard metric names, as Prometheus sees them. */
export const IstioMetric = {
  requests: 'istio_requests_total',
  duration: 'istio_request_duration_milliseconds',
  requestBytes: 'istio_request_bytes',
  responseBytes: 'istio_response_bytes',
  tcpOpened: 'istio_tcp_connections_opened_total',
  tcpClosed: 'istio_tcp_connections_closed_total',
} as const;

/**
 * The labels every istio_* series carries (Istio's stats filter emits all of them, "unknown" when a
 * value is not known, e.g. connection_security_policy on a source report).
 */
export const ISTIO_REQUEST_LABELS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_canonical_service',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_canonical_service',
  'request_protocol',
  'response_code',
  'response_flags',
  'connection_security_policy',
] as const;

export type IstioRequestLabel = (typeof ISTIO_REQUEST_LABELS)[number];
export type IstioRequestLabels = Record<IstioRequestLabel, string>;

/** The TCP metrics carry the request labels less the HTTP ones. */
export const ISTIO_TCP_LABELS = ISTIO_REQUEST_LABELS.filter((l) => l !== 'request_protocol' && l !== 'response_code');
export type IstioTcpLabel = (typeof ISTIO_TCP_LABELS)[number];

/** Istio: `source` from the client's proxy (and from the ingress gateway), `destination` from the server's. */
export type Reporter = 'source' | 'destination';

/** connection_security_policy: the server side knows; a source report says "unknown". */
export type ConnectionSecurityPolicy = 'mutual_tls' | 'none' | 'unknown';

/** The gateway's own throttling metric: every 429 it answers, by the layer that refused it. */
export const GATEWAY_THROTTLED_METRIC = 'meshgw_gateway_throttled_requests_total';
/** Labels of GATEWAY_THROTTLED_METRIC. */
export const GATEWAY_THROTTLED_LABELS = ['layer', 'resource', 'http_method', 'api_key_id'] as const;

/**
 * Which API Gateway layer refused a request, as the access log's `throttleLayer` field and the
 * metric's `layer` label name it: the account's bucket, the method's bucket (stage default or a
 * method override), the usage plan's per-key bucket, or the usage plan's quota.
 */
export type ThrottleLayer = 'account' | 'method' | 'usagePlan' | 'quota';

/** Where a meshgw data-plane process serves Prometheus text (Envoy's admin path, also Istio's merged :15020 path). */
export const PROMETHEUS_PATH = '/stats/prometheus';

/** One sample of a Prometheus text exposition (a histogram contributes its _bucket/_sum/_count samples). */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * One scrape of one target. The scraper adds the target labels Istio's sample Prometheus adds by
 * relabelling (`namespace`, `pod`, `app`), so rules and queries that group by them work on both
 * targets: locally pod = the replica's workload name ("users-2"), app = the service ("users").
 */
export interface Scrape {
  /** Epoch milliseconds when the scrape was answered. */
  at: number;
  target: { namespace: string; pod: string; app: string; url: string };
  samples: Sample[];
}
