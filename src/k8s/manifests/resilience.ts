/**
 * A service's resilience on EKS (issue 15), rendered from `services.<name>.replicas` and
 * `services.<name>.trafficPolicy`: where its replicas may run and how many may be evicted at once
 * (PodDisruptionBudget, topology spread), and what Istio's Envoys do when they call it
 * (DestinationRule: load balancing, connection limits, outlier detection; VirtualService: timeout
 * and retries for calls from inside the mesh; the ingress HTTPRoute's timeout is in gateway.ts).
 */
import { serviceDnsName } from '../../config/topology.js';
import type { MeshgwConfig } from '../../config/schema.js';
import type { RetryPolicy, TrafficPolicy } from '../../config/traffic-policy.js';
import { APP_LABEL } from '../labels.js';
import { meta } from './meta.js';
import type { K8sObject } from './types.js';

/**
 * How often Envoy re-checks ejected replicas (Istio's and Envoy's default, written out so the
 * rendered object says it). Ejection itself happens on the N-th consecutive error, not on this tick.
 */
export const OUTLIER_INTERVAL = '10s';

/**
 * Retried when the request is safe to repeat (an idempotent method, or an Idempotency-Key the app
 * deduplicates by): any 5xx, a reset, or a refused connection or stream.
 */
export const RETRY_ON_SAFE = '5xx,reset,connect-failure,refused-stream';

/**
 * Retried for every other request (POST without an Idempotency-Key): only failures that prove the
 * request never reached the app: the TCP connection was refused or failed, or the HTTP/2 server
 * refused the stream (RFC 9113 §8.7: "the request has not been processed"). A 5xx or a reset may
 * come after the app has acted, so retrying then could create a second order.
 */
export const RETRY_ON_UNPROCESSED = 'connect-failure,refused-stream';

/** Methods RFC 9110 §9.2.2 defines as idempotent: repeating them has the effect of doing them once. */
export const IDEMPOTENT_METHODS = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'] as const;

/** The header orders deduplicates POSTs by (services/orders). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** Istio (protobuf) duration: decimal seconds, which both Istio's parser and the CRDs' CEL `duration()` accept. */
export function istioDuration(ms: number): string {
  return `${ms / 1000}s`;
}

/** Gateway API duration: `^([0-9]{1,5}(h|m|s|ms)){1,4}$`, so no decimals (1500 → "1s500ms"). */
export function gatewayDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const rest = ms % 1000;
  return `${s > 0 ? `${s}s` : ''}${rest > 0 || s === 0 ? `${rest}ms` : ''}`;
}

/**
 * Keeps node drains (managed node group updates, scale-in) from taking every replica at once.
 * `maxUnavailable: 1` rather than `minAvailable`: it keeps allowing one eviction at any replica
 * count, where a `minAvailable` equal to the replicas would block every drain (the Kubernetes docs'
 * warning). With one replica there is none: any budget would either block drains for good or
 * allow the eviction anyway, so it could only hurt.
 */
export function renderPodDisruptionBudget(cfg: MeshgwConfig, service: string): K8sObject | undefined {
  if (cfg.services[service].replicas < 2) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(service, cfg.mesh.namespace, { [APP_LABEL]: service }),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: { [APP_LABEL]: service } },
      // A replica that is not Ready serves nothing: evicting it costs no availability (Kubernetes ≥ 1.31 GA).
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}

/**
 * Spread a service's replicas over the stack's two zones, then over nodes. `ScheduleAnyway`: with two
 * zones and as few as two nodes, `DoNotSchedule` would leave a replacement pod Pending while a zone or
 * a node is lost or being replaced, which is when the capacity is needed; the scheduler still puts the
 * replicas apart whenever it can. `pod-template-hash` makes a rolling update count only the new
 * ReplicaSet's pods, so the old ones leaving do not skew it.
 */
export function topologySpreadConstraints(service: string): Record<string, unknown>[] {
  return ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: { [APP_LABEL]: service } },
    matchLabelKeys: ['pod-template-hash'],
  }));
}

/**
 * One DestinationRule per service, for every caller in the mesh (sidecars and the ingress gateway).
 * No `tls` block: Istio's auto mTLS keeps choosing ISTIO_MUTUAL, as it did before this rule existed,
 * and STRICT PeerAuthentication still refuses plaintext.
 */
export function renderDestinationRule(cfg: MeshgwConfig, service: string): K8sObject {
  const p = cfg.services[service].trafficPolicy;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: meta(service, cfg.mesh.namespace, { [APP_LABEL]: service }),
    spec: {
      host: serviceDnsName(cfg, service),
      trafficPolicy: {
        loadBalancer: { simple: 'LEAST_REQUEST' },
        connectionPool: {
          tcp: { maxConnections: p.connectionPool.maxConnections },
          http: { http1MaxPendingRequests: p.connectionPool.maxPendingRequests },
        },
        // Envoy counts a failed connect as a 5xx here (local-origin errors are not split out), so
        // consecutive5xxErrors covers both "N consecutive 5xx" and "N connect failures".
        outlierDetection: {
          consecutive5xxErrors: p.outlierDetection.consecutiveErrors,
          interval: OUTLIER_INTERVAL,
          baseEjectionTime: istioDuration(p.outlierDetection.baseEjectionTimeMs),
          maxEjectionPercent: p.outlierDetection.maxEjectionPercent,
        },
        // Envoy's retry budget (DestinationRule trafficPolicy.retryBudget, in Istio's CRDs since 1.28): retries in
        // flight stay within this share of active requests, so a failing replica cannot multiply the load.
        retryBudget: { percent: p.retries.budgetPercent, minRetryConcurrency: p.retries.minRetryConcurrency },
      },
    },
  };
}

function retries(r: RetryPolicy, retryOn: string): Record<string, unknown> {
  if (r.attempts === 0) return { attempts: 0 };
  return { attempts: r.attempts, perTryTimeout: istioDuration(r.perTryTimeoutMs), retryOn };
}

/**
 * Timeout and retries for calls from inside the mesh (orders → users, products). A VirtualService, not a
 * Gateway API HTTPRoute with a Service parent: the standard channel's HTTPRoute has no `retry` field
 * (GEP-1731 is experimental in v1.4). Istio's retryOn cannot read headers, so the routes split by
 * match instead: idempotent methods and requests with an Idempotency-Key get the full retry policy,
 * everything else only the retries that cannot repeat an action. No `gateways`: it binds to the mesh
 * (sidecars) only and leaves the ingress HTTPRoutes alone.
 */
export function renderVirtualService(cfg: MeshgwConfig, service: string): K8sObject {
  const p: TrafficPolicy = cfg.services[service].trafficPolicy;
  const host = serviceDnsName(cfg, service);
  const route = [{ destination: { host } }];
  const timeout = istioDuration(p.timeoutMs);
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: meta(service, cfg.mesh.namespace, { [APP_LABEL]: service }),
    spec: {
      hosts: [host],
      http: [
        {
          name: 'safe-to-retry',
          match: [...IDEMPOTENT_METHODS.map((m) => ({ method: { exact: m } })), { headers: { [IDEMPOTENCY_KEY_HEADER]: { regex: '.+' } } }],
          route,
          timeout,
          retries: retries(p.retries, RETRY_ON_SAFE),
        },
        { name: 'unprocessed-only', route, timeout, retries: retries(p.retries, RETRY_ON_UNPROCESSED) },
      ],
    },
  };
}

/** Services some other service calls: only they get a mesh VirtualService (the gateway reaches the rest through HTTPRoutes). */
function meshCallees(cfg: MeshgwConfig): Set<string> {
  return new Set(Object.values(cfg.services).flatMap((s) => s.backends));
}

/** The traffic objects for every service: DestinationRules for all, VirtualServices for those called inside the mesh. */
export function renderTrafficPolicies(cfg: MeshgwConfig): K8sObject[] {
  const callees = meshCallees(cfg);
  return Object.keys(cfg.services).flatMap((s) => [renderDestinationRule(cfg, s), ...(callees.has(s) ? [renderVirtualService(cfg, s)] : [])]);
}
