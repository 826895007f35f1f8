/**
 * The sidecar's counters, named as Envoy names them so that a reader of `verify mtls` or
 * /stats sees familiar words: listener TLS stats (ssl.handshake, ssl.connection_error,
 * ssl.fail_verify_no_cert, ssl.fail_verify_error, ssl.fail_verify_san), the RBAC filter's
 * rbac.allowed / rbac.denied, and cluster.<backend>.* for each egress upstream.
 * See envoy docs/root/_include/ssl_stats.rst.
 */
import { CLUSTER_RESILIENCE_STATS, clusterStat, type Counters } from '../dataplane/counters.js';

export { Counters, clusterStat } from '../dataplane/counters.js';
export const Stat = {
  handshake: 'ssl.handshake',
  connectionError: 'ssl.connection_error',
  failVerifyNoCert: 'ssl.fail_verify_no_cert',
  failVerifyError: 'ssl.fail_verify_error',
  failVerifySan: 'ssl.fail_verify_san',
  rbacAllowed: 'rbac.allowed',
  rbacDenied: 'rbac.denied',
  inboundRequests: 'http.inbound.rq_total',
  inboundAppErrors: 'http.inbound.upstream_rq_error',
  /** Envoy's HTTP connection manager: requests cut by stream_idle_timeout / request_timeout. */
  downstreamIdleTimeout: 'http.inbound.downstream_rq_idle_timeout',
  downstreamTimeout: 'http.inbound.downstream_rq_timeout',
  /** The app behind the inbound listener, as Istio's inbound cluster: circuit-breaker overflows and answers that came too late. */
  appPendingOverflow: 'cluster.inbound.upstream_rq_pending_overflow',
  appTimeout: 'cluster.inbound.upstream_rq_timeout',
  /** Envoy's fault filter (http.<stat_prefix>.fault.*): requests the fault switch delayed or answered itself. */
  faultDelays: 'http.inbound.fault.delays_injected',
  faultAborts: 'http.inbound.fault.aborts_injected',
} as const;

export type TlsRefusalStat = typeof Stat.connectionError | typeof Stat.failVerifyNoCert | typeof Stat.failVerifyError | typeof Stat.failVerifySan;

/** Successful mutual handshakes from one peer identity (inbound). */
export function handshakeByPeer(spiffeId: string): string {
  return `${Stat.handshake}.peer.${spiffeId}`;
}

/** Requests admitted by RBAC from one peer identity: traffic that rode a verified mTLS session. */
export function allowedByPeer(spiffeId: string): string {
  return `${Stat.rbacAllowed}.peer.${spiffeId}`;
}

/** Counters of the egress listener for one backend (Envoy's per-listener http.<stat_prefix>.* stats). */
export function egressStat(backend: string, stat: string): string {
  return `http.egress.${backend}.${stat}`;
}

/** Counters every sidecar reports even at zero, so a delta can always be computed. */
export function seedCounters(counters: Counters, backends: string[]): void {
  for (const name of Object.values(Stat)) counters.inc(name, 0);
  for (const b of backends) {
    for (const s of [Stat.handshake, Stat.failVerifySan, Stat.failVerifyError, Stat.connectionError, 'upstream_rq_total', 'upstream_rq_error', 'upstream_rq_pending_overflow', 'upstream_rq_timeout', ...CLUSTER_RESILIENCE_STATS]) {
      counters.inc(clusterStat(b, s), 0);
    }
    for (const s of ['downstream_rq_idle_timeout', 'downstream_rq_timeout']) counters.inc(egressStat(b, s), 0);
  }
}
