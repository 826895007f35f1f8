/**
 * The data plane's contracts: what a mesh client needs to know about its credentials and about
 * an upstream, shared by the gateway and the sidecars (and written into their specs by the
 * local supervisor). Kept here, not in the supervisor's folder, so that the processes that
 * carry traffic depend only on the data plane.
 */
import type { TrafficPolicy } from '../config/traffic-policy.js';

/** Where a workload's mesh credentials are (PEM files under <stateDir>/pki). */
export interface TlsFiles {
  caFile: string;
  certFile: string;
  /** Mode 0600; read by the process, never logged. */
  keyFile: string;
}

/** An upstream reached over mTLS: the sidecar inbound listener of a service. */
export interface MeshUpstream {
  /** e.g. https://127.0.0.1:41234 (http:// only for tests and benchmarks without a mesh). */
  origin: string;
  /** The SPIFFE ID the server's certificate must carry (checked on every handshake). */
  expectedSpiffeId: string;
  /**
   * Connections kept open to this upstream, opened at start-up and after every reload: a burst
   * then rides connections that already exist instead of paying handshakes while it is decided.
   */
  warmConnections?: number;
  /**
   * Every replica's inbound origin when the service runs more than one (`origin` is the first):
   * the client balances across the ready ones (issue 15).
   */
  replicaOrigins?: string[];
  /** The callee's resilience policy (services.<name>.trafficPolicy); absent: today's behaviour. */
  trafficPolicy?: TrafficPolicy;
}
