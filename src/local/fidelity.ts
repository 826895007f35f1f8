/**
 * What the local target emulates: for each API Gateway and Istio behaviour, whether the local stack
 * enforces it as AWS/Istio does ('same'), approximates it ('approximate', and how), or does not do
 * it ('absent'). SAM CLI users asked for exactly this table (aws-sam-cli#137). Each row names the
 * code that makes it true; change the row when that code changes.
 */

export type FidelityArea = 'API Gateway' | 'Istio';
export type FidelityLevel = 'same' | 'approximate' | 'absent';

export interface FidelityRow {
  area: FidelityArea;
  behaviour: string;
  local: FidelityLevel;
  /** How the local target does it, or why it does not (required unless 'same'; kept short). */
  how: string;
}

const gw = (behaviour: string, local: FidelityLevel, how: string): FidelityRow => ({ area: 'API Gateway', behaviour, local, how });
const istio = (behaviour: string, local: FidelityLevel, how: string): FidelityRow => ({ area: 'Istio', behaviour, local, how });

export const FIDELITY: readonly FidelityRow[] = [
  // src/gateway/throttle.ts, throttle-levels.ts, token-bucket.ts
  gw('token bucket per method (stage default, method overrides)', 'same', 'one bucket per method, rate and burst from gateway.throttle / methodThrottles (src/gateway/throttle-levels.ts)'),
  gw('token bucket per API key (usage-plan throttle)', 'same', "each key's bucket from its usage plan, checked before the method's (src/gateway/throttle.ts)"),
  gw('account-level throttle (10,000 rps, burst 5,000)', 'approximate', "the same figures, but per local gateway process, not shared by every API of the account and Region"),
  gw('usage-plan quotas (DAY / WEEK / MONTH)', 'same', 'calendar UTC periods, counted only for admitted requests, kept in a quota file across restarts (src/gateway/quota.ts, quota-store.ts)'),
  gw('API keys (x-api-key, 403 Forbidden when missing or wrong)', 'same', 'keys generated at `meshgw up`, compared by digest in constant time (src/gateway/api-keys.ts)'),
  gw('429 attributed to its throttle layer', 'approximate', "the local access log's throttleLayer names the layer that refused (account, method, usage plan, quota); AWS logs no layer, so verify infers it there"),
  gw('access log ($context fields)', 'approximate', 'the same field names as the stack\'s API Gateway access-log format, as JSON lines in a local file, not CloudWatch Logs (src/gateway/access-log.ts)'),
  gw('X-Ray tracing (TracingEnabled)', 'approximate', 'X-Amzn-Trace-Id and traceparent are kept or started and logged; no segments are sent: `meshgw trace` rebuilds the tree from the JSON logs'),
  gw('integration timeout (29 s)', 'same', 'DEFAULT_UPSTREAM_TIMEOUT_MS, then 504 as API Gateway answers (src/gateway/gateway.ts)'),
  gw('request line + headers limit (10,240 bytes)', 'same', 'Node maxHeaderSize at the API Gateway quota, answered 431 in JSON (src/gateway/edge-limits.ts)'),
  gw('payload size limit (10 MB)', 'approximate', 'gateway.maxBodyBytes, 1 MiB by default and configurable; the body is read whole before the integration, as REST APIs do'),
  gw('request id (x-amzn-requestid)', 'same', "one id per request, echoed and carried to every hop's log (src/gateway/request-id.ts)"),
  gw('request validation (request validators and models)', 'absent', 'neither target configures a validator: the services validate their bodies and answer 400'),
  gw('custom domain and TLS at the edge', 'absent', 'the local gateway listens on plain HTTP on 127.0.0.1; on AWS the execute-api endpoint terminates TLS'),
  gw('AWS WAF', 'absent', 'no web ACL locally (and none attached on AWS by meshgw)'),
  gw('stage cache', 'absent', 'every request reaches the integration (meshgw leaves the cache off on AWS too)'),
  gw('CloudWatch alarms on 429 and 5xx rates', 'approximate', "Prometheus alerting rules in Istio's metric vocabulary, evaluated over the scraped metrics (src/alerts/), instead of metric filters and CloudWatch alarms"),
  // src/mesh/, src/dataplane/
  istio('mTLS STRICT (PeerAuthentication)', 'same', 'the inbound listener demands a client certificate from the mesh CA; no certificate, a foreign CA, an expired one or plaintext are refused in the handshake (src/mesh/inbound.ts)'),
  istio('mesh TLS versions and ciphers', 'same', "TLS 1.2/1.3 with Istio's default ECDHE + AEAD suites on both ends (src/dataplane/tls-settings.ts)"),
  istio('AuthorizationPolicy by principal (SPIFFE ID)', 'same', "allowedCallers from meshgw.yaml's authorization table; others get 403 RBAC_DENIED (src/mesh/inbound.ts)"),
  istio('x-forwarded-client-cert to the app', 'approximate', 'SANITIZE_SET (the caller\'s copy replaced by one element) where Istio\'s inbound sidecar appends (src/mesh/xfcc.ts)'),
  istio('traffic capture (iptables redirect)', 'approximate', "no redirect: each app calls its sidecar's egress Unix socket per backend, and listens only on a private socket the inbound sidecar relays to"),
  istio('Envoy TLS and RBAC stats (ssl.*, rbac.*)', 'approximate', "the same counter names on each sidecar's admin /stats, a subset of Envoy's (src/mesh/stats.ts)"),
  istio('Istio standard metrics (istio_requests_total, ...)', 'approximate', 'the same names and labels on /stats/prometheus of each sidecar and the gateway, recorded by meshgw (src/metrics/), not by Envoy'),
  istio('retries (default retryOn, retry budget)', 'same', "Istio's default retryOn conditions for replayable requests, with Envoy's retry budget (src/dataplane/retry-policy.ts)"),
  istio('outlier detection (consecutive5xxErrors)', 'same', "Envoy's ejection, backoff and max-ejection-percent rules (src/dataplane/outlier-detector.ts)"),
  istio('load balancing (LEAST_REQUEST)', 'same', 'power of two choices over in-flight requests (src/dataplane/balancer.ts)'),
  istio('connection pools and circuit breaker', 'same', "Envoy's max connections / pending requests and stream timeouts, 503 on overflow (src/mesh/limits.ts, stream-guard.ts)"),
  istio('fault injection (VirtualService fault)', 'approximate', "a per-sidecar switch on the admin port (POST /fault) that verify resilience drives, counted as Envoy's fault filter counts (src/mesh/fault.ts)"),
  istio('workload certificate rotation', 'approximate', '`meshgw certs rotate` reissues the leaves and the sidecars reload on SIGHUP; istio-agent rotates them by itself before expiry'),
  istio('multiple trusted roots (root rotation)', 'absent', 'the local trust bundle is the one mesh CA; `meshgw certs rotate-root` runs on aws only'),
  istio('Gateway API routing (Gateway, HTTPRoute)', 'approximate', "the gateway routes by each service's pathPrefix straight to its sidecar; no Gateway or HTTPRoute objects"),
  istio('mTLS failure alert', 'approximate', 'a Prometheus rule over the sidecars\' metrics (src/alerts/), where AWS uses a CloudWatch alarm on the collector\'s counters'),
];

/** The table's rows, for `meshgw status` (a copy: callers may sort or filter it). */
export function fidelityTable(): FidelityRow[] {
  return FIDELITY.map((r) => ({ ...r }));
}
