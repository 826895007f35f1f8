/**
 * The gateway's metrics: Istio's request metrics as an Istio ingress gateway reports them
 * (reporter="source", source_workload = the gateway), the throttled-requests metric by layer, and
 * the mesh client's Envoy-named counters in Prometheus form; one prom-client registry, served at
 * /stats/prometheus on the stats listener.
 */
import { Registry } from 'prom-client';
import { GATEWAY_WORKLOAD } from '../config/topology.js';
import type { Counters } from '../dataplane/counters.js';
import type { ThrottleLayer } from '../metrics/contract.js';
import { gatewayEnvoyNaming } from '../metrics/envoy-names.js';
import { EnvoyStatsCollector } from '../metrics/envoy-prometheus.js';
import { GatewayThrottleMetrics, registerQuotaGauge } from '../metrics/gateway-metrics.js';
import { DEFAULT_NAMESPACE, parseSpiffeId, sourceReport, type MeshWorkload } from '../metrics/istio-labels.js';
import { createIstioMetrics, type IstioMetrics } from '../metrics/istio-registry.js';
import type { PrometheusSource } from '../metrics/prometheus-endpoint.js';
import { EdgeRecorder } from '../metrics/request-recorder.js';
import type { GatewayRoute, GatewaySpec } from './spec.js';

interface RouteEdges {
  /** The service's sidecar answered. */
  upstream: EdgeRecorder;
  /** The gateway answered itself (refused, throttled, or the upstream failed before answering). */
  local: EdgeRecorder;
}

export class GatewayTelemetry {
  readonly registry = new Registry();
  readonly istio: IstioMetrics;
  readonly prometheus: PrometheusSource;
  readonly #throttled: GatewayThrottleMetrics;
  readonly #routes = new Map<GatewayRoute, RouteEdges>();
  /** Requests that matched no route: destination_service "unknown". */
  readonly #unrouted: EdgeRecorder;

  /** `quotas` reads each key's quota left now (GatewayThrottle.quotaRemaining) for the quota gauge. */
  constructor(spec: GatewaySpec, counters: Counters, quotas: () => { keyId: string; remaining: number }[] = () => []) {
    const namespace = spec.namespace ?? parseSpiffeId(spec.spiffeId)?.namespace ?? DEFAULT_NAMESPACE;
    this.istio = createIstioMetrics(this.registry);
    this.#throttled = new GatewayThrottleMetrics(this.registry);
    const planOf = new Map(spec.apiKeys.map((k) => [k.id, k.plan]));
    registerQuotaGauge(this.registry, () => quotas().map((q) => ({ ...q, plan: planOf.get(q.keyId) ?? 'unknown' })));
    const self: MeshWorkload = { name: GATEWAY_WORKLOAD, namespace, principal: spec.spiffeId };
    for (const route of spec.routes) {
      const backend: MeshWorkload = { name: route.service, namespace, principal: route.upstream.expectedSpiffeId };
      this.#routes.set(route, { upstream: new EdgeRecorder(this.istio, sourceReport(self, backend, true)), local: new EdgeRecorder(this.istio, sourceReport(self, backend, false)) });
    }
    this.#unrouted = new EdgeRecorder(this.istio, sourceReport(self, undefined, false));
    const envoy = new EnvoyStatsCollector(this.registry, counters, gatewayEnvoyNaming({ namespace }));
    this.prometheus = { registry: this.registry, beforeScrape: () => envoy.refresh() };
  }

  /** The recorder of a request's edge. */
  request(route: GatewayRoute | undefined, upstream: boolean): EdgeRecorder {
    const edges = route && this.#routes.get(route);
    if (!edges) return this.#unrouted;
    return upstream ? edges.upstream : edges.local;
  }

  throttled(layer: ThrottleLayer, resource: string, httpMethod: string, apiKeyId: string | null): void {
    this.#throttled.throttled(layer, resource, httpMethod, apiKeyId);
  }
}
