/**
 * A sidecar's metrics: Istio's request metrics for both directions (reporter="destination" on the
 * inbound listener, reporter="source" on each egress listener), the inbound TCP connection
 * counters, and the sidecar's Envoy-named counters in Prometheus form, in one prom-client registry
 * served at /stats/prometheus on the admin listener.
 */
import type { Socket } from 'node:net';
import { Registry } from 'prom-client';
import type { Counters } from '../dataplane/counters.js';
import { sidecarEnvoyNaming, type EnvoyNaming } from '../metrics/envoy-names.js';
import { EnvoyStatsCollector } from '../metrics/envoy-prometheus.js';
import { DEFAULT_NAMESPACE, destinationReport, parseSpiffeId, sourceReport, type MeshWorkload } from '../metrics/istio-labels.js';
import { createIstioMetrics, type IstioMetrics } from '../metrics/istio-registry.js';
import type { PrometheusSource } from '../metrics/prometheus-endpoint.js';
import { EdgeRecorder, EdgeRecorders } from '../metrics/request-recorder.js';
import { ResponseFlag, upstreamFailureFlag } from '../metrics/response-flags.js';
import { TcpRecorder } from '../metrics/tcp-recorder.js';
import type { GuardedOutcome } from './guarded-forward.js';
import type { SidecarSpec } from './spec.js';

/** What the inbound listener records: requests and connections, by the verified peer's SPIFFE ID (undefined: no certificate). */
export interface InboundTelemetry {
  request(peerId: string | undefined): EdgeRecorder;
  connection(peerId: string | undefined, socket: Socket): void;
}

/** One egress listener's two edges: its backend's sidecar answered, or this sidecar answered itself. */
export interface EgressTelemetry {
  upstream: EdgeRecorder;
  local: EdgeRecorder;
}

/** Envoy's response flags for what became of a proxied request. */
export function outcomeFlags(outcome: GuardedOutcome): string {
  switch (outcome.type) {
    case 'proxied':
      return ResponseFlag.none;
    case 'overflow':
      return ResponseFlag.upstreamOverflow;
    case 'timed-out':
      return outcome.timeout === 'idle' ? ResponseFlag.streamIdleTimeout : ResponseFlag.none;
    default:
      return upstreamFailureFlag(outcome.failure.code);
  }
}

export class SidecarTelemetry {
  readonly registry = new Registry();
  readonly istio: IstioMetrics;
  readonly inbound: InboundTelemetry;
  readonly prometheus: PrometheusSource;
  readonly #egress = new Map<string, EgressTelemetry>();

  /** `inboundPort` is read at the first scrape, once the inbound listener is bound (a spec may ask for port 0). */
  constructor(spec: SidecarSpec, counters: Counters, inboundPort: () => number) {
    const namespace = spec.namespace ?? parseSpiffeId(spec.spiffeId)?.namespace ?? DEFAULT_NAMESPACE;
    this.istio = createIstioMetrics(this.registry);
    const self: MeshWorkload = { name: spec.workload, namespace, principal: spec.spiffeId };
    const requests = new EdgeRecorders<string | undefined>(this.istio, (peer) => destinationReport(self, peer));
    const connections = new TcpRecorder<string | undefined>(this.istio, (peer) => destinationReport(self, peer));
    this.inbound = { request: (peer) => requests.get(peer), connection: (peer, socket) => connections.track(peer, socket) };
    for (const e of spec.egress) {
      const backend: MeshWorkload = { name: e.backend, namespace, principal: e.upstream.expectedSpiffeId };
      this.#egress.set(e.backend, { upstream: new EdgeRecorder(this.istio, sourceReport(self, backend, true)), local: new EdgeRecorder(this.istio, sourceReport(self, backend, false)) });
    }
    let naming: EnvoyNaming | undefined;
    const lazyNaming: EnvoyNaming = (counter) => (naming ??= sidecarEnvoyNaming({ host: spec.host, inboundPort: inboundPort(), namespace }))(counter);
    const envoy = new EnvoyStatsCollector(this.registry, counters, lazyNaming);
    this.prometheus = { registry: this.registry, beforeScrape: () => envoy.refresh() };
  }

  /** The edges of one backend's egress listener. */
  egress(backend: string): EgressTelemetry {
    const e = this.#egress.get(backend);
    if (!e) throw new Error(`no egress listener for ${backend}`);
    return e;
  }
}
