/**
 * The sidecar process's contract: `node dist/src/mesh/sidecar-main.js <spec.json>`. Written by
 * the local supervisor (mode 0600: it names key files).
 */
import type { MeshUpstream, TlsFiles } from '../dataplane/contracts.js';

export interface EgressListener {
  backend: string;
  /**
   * The Unix socket where the app sends requests meant for `backend`, in a folder only the app
   * and its sidecar can open: an egress listener carries the workload's identity, so no other
   * local process may use it.
   */
  socketPath: string;
  upstream: MeshUpstream;
}

/** argv[2] of `node dist/src/mesh/sidecar-main.js`. */
export interface SidecarSpec {
  kind: 'sidecar';
  workload: string;
  spiffeId: string;
  host: string;
  /** The inbound mTLS listener (STRICT). */
  inboundPort: number;
  /** The app behind this sidecar: plain HTTP on its private Unix socket. */
  appSocket: string;
  /** SPIFFE IDs allowed to call this workload; anyone else gets 403 and rbac.denied. */
  allowedCallers: string[];
  egress: EgressListener[];
  /** Counters and config dump, loopback only, read-only. */
  adminPort: number;
  tls: TlsFiles;
  /** Timeouts and circuit breaking; the defaults when absent. */
  limits?: SidecarLimits;
  /** The mesh namespace (config mesh.namespace): the *_namespace labels and service hosts of the sidecar's metrics; the SPIFFE ID's /ns/ segment when unset. */
  namespace?: string;
}

/**
 * Per-stream timeouts and the circuit breaker in front of the app, as Envoy's HTTP connection
 * manager and cluster circuit breakers name them. Every field is optional: the defaults in
 * limits.ts apply (tests shrink them).
 */
export interface SidecarLimits {
  /** Envoy's stream_idle_timeout: a request with no bytes moving either way for this long is answered 408/504 and closed. */
  streamIdleTimeoutMs?: number;
  /** Envoy's request_timeout: the whole request must have arrived within this time, or it is answered 408. */
  requestTimeoutMs?: number;
  /** Envoy's circuit breaker max_connections: connections at most to the app. */
  maxConnections?: number;
  /** Envoy's circuit breaker max_pending_requests: requests waiting for a connection (to the app, or to one backend); beyond it, 503 at once. */
  maxPendingRequests?: number;
}
