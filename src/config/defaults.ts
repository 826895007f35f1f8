import { ISTIO_VERSION } from '../k8s/istio-version.js';

// Defaults follow the assignment: stage and POST /orders limited to 100 req/s with a burst of 20,
// and a second, smaller usage plan for a second key so per-key isolation can be shown.
export const DEFAULT_CONFIG_FILE = 'meshgw.yaml';
export const CONFIG_ENV_VAR = 'MESHGW_CONFIG';
export const DEFAULT_STAGE_RATE = 100;
export const DEFAULT_STAGE_BURST = 20;
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const DEFAULT_NAMESPACE = 'meshgw';
export const DEFAULT_LEAF_LIFETIME_HOURS = 24;
export const DEFAULT_CA_LIFETIME_DAYS = 365;
/** Certificates are reissued by `up` when less than this fraction of their lifetime is left. */
export const DEFAULT_RENEW_BEFORE_FRACTION = 0.2;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_GATEWAY_PORT = 8080;
export const DEFAULT_STATE_DIR = '.meshgw';
export const DEFAULT_REQUEST_ID_HEADER = 'x-request-id';
export const DEFAULT_KEY_ID_HEADER = 'x-meshgw-api-key-id';
export const DEFAULT_USAGE_PLAN_HEADER = 'x-meshgw-usage-plan';
/** meshgw's former caller-identity header: no longer set, still stripped from every request so no stale copy reaches an app. */
export const PEER_IDENTITY_HEADER = 'x-meshgw-peer-identity';
/**
 * The caller's verified certificate as the inbound sidecar sets it, in Envoy's XFCC format
 * (By=<callee>;Hash=<sha256 of the caller's cert>;URI=<caller SPIFFE ID>): what apps read the caller from.
 */
export const CLIENT_CERT_HEADER = 'x-forwarded-client-cert';
export const DEFAULT_AWS_REGION = 'us-east-1';
/** In EKS standard support until 2027-03-27 (1.33 left it on 2026-07-29; 1.34 leaves it on 2026-12-02). */
export const DEFAULT_KUBERNETES_VERSION = '1.35';
export const DEFAULT_INGRESS_NODE_PORT = 30080;
/** One constant for the whole CLI: see src/k8s/istio-version.ts for why this release. */
export const DEFAULT_ISTIO_VERSION = ISTIO_VERSION;

/**
 * The API alarms' thresholds, as shares of all requests per minute (3 of 5 minutes). 10 % 429s means clients
 * are being refused steadily, beyond a burst; 1 % 5xx is already a broken route or a failing service.
 */
export const DEFAULT_ALARM_THROTTLED_PERCENT = 10;
export const DEFAULT_ALARM_SERVER_ERROR_PERCENT = 1;
