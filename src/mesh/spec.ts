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
}
