/**
 * The label values of Istio's standard metrics for one edge, derived as Istio's stats filter
 * derives them (istio/proxy source/extensions/filters/http/istio_stats/istio_stats.cc,
 * populatePeerInfo, at d13a386d7^):
 *
 * - reporter="destination" (the server's sidecar, Reporter::ServerSidecar): source_* from the peer —
 *   source_principal is the peer certificate's URI SAN ("spiffe://…"), source_workload_namespace
 *   the SAN's /ns/ segment, source_workload/app/canonical_service from the peer's metadata;
 *   destination_* is the proxy's own workload, destination_principal its own certificate's SAN.
 *   connection_security_policy is "mutual_tls" when both SANs are known, else "none".
 * - reporter="source" (a client sidecar, and Istio's ingress gateway, Reporter::ClientSidecar):
 *   source_* is the proxy's own workload, but source_principal is the local SAN of the *upstream*
 *   TLS connection, so "unknown" when no upstream connection carried the request (a local reply);
 *   destination_principal is the upstream certificate's SAN and destination_workload/app/canonical
 *   come from the endpoint's metadata, also "unknown" without an upstream; destination_service and
 *   destination_service_name/namespace come from the routed cluster's metadata. The filter never
 *   sets connection_security_policy on this path: it stays "unknown".
 * - Every value not known is "unknown" (the Context's `unknown_`).
 *
 * Locally a workload's Deployment-like name is its service name ("users", not the replica
 * "users-2"), its app and canonical service labels the same, its namespace config mesh.namespace,
 * and a peer's workload is read from its SPIFFE ID's service account, which meshgw names after the
 * workload (config/topology.ts).
 */
import type { ConnectionSecurityPolicy, IstioRequestLabels, Reporter } from './contract.js';

export const UNKNOWN = 'unknown';
/** The namespace a spec without one (and with a SPIFFE ID of another shape) reports: Kubernetes' own default. */
export const DEFAULT_NAMESPACE = 'default';

/** The labels of one edge: all but the two that vary per request. */
export type EdgeLabels = Omit<IstioRequestLabels, 'response_code' | 'response_flags'>;

/** One mesh workload as the labels name it. */
export interface MeshWorkload {
  /** The service ("users"): the Deployment name its replicas share. */
  name: string;
  namespace: string;
  /** Its SPIFFE ID, "spiffe://<trust domain>/ns/<ns>/sa/<name>". */
  principal: string;
}

/** The Kubernetes Service host Istio reports as destination_service: `<svc>.<namespace>.svc.cluster.local`. */
export function serviceHost(service: string, namespace: string): string {
  return `${service}.${namespace}.svc.cluster.local`;
}

/** The namespace and service account of an Istio SPIFFE ID, undefined for any other shape (istio_stats.cc getNamespace). */
export function parseSpiffeId(id: string): { namespace: string; serviceAccount: string } | undefined {
  const m = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(id);
  return m ? { namespace: m[1], serviceAccount: m[2] } : undefined;
}

function sourceOf(w: MeshWorkload | undefined, principal: string): Pick<EdgeLabels, 'source_workload' | 'source_workload_namespace' | 'source_principal' | 'source_app' | 'source_canonical_service'> {
  return {
    source_workload: w?.name ?? UNKNOWN,
    source_workload_namespace: w?.namespace ?? UNKNOWN,
    source_principal: principal,
    source_app: w?.name ?? UNKNOWN,
    source_canonical_service: w?.name ?? UNKNOWN,
  };
}

function edge(reporter: Reporter, source: ReturnType<typeof sourceOf>, dest: { workload?: MeshWorkload; principal: string; service?: string; namespace: string }, policy: ConnectionSecurityPolicy): EdgeLabels {
  const w = dest.workload;
  return {
    reporter,
    ...source,
    destination_workload: w?.name ?? UNKNOWN,
    destination_workload_namespace: w?.namespace ?? UNKNOWN,
    destination_principal: dest.principal,
    destination_app: w?.name ?? UNKNOWN,
    destination_service: dest.service ? serviceHost(dest.service, dest.namespace) : UNKNOWN,
    destination_service_name: dest.service ?? UNKNOWN,
    destination_service_namespace: dest.service ? dest.namespace : UNKNOWN,
    destination_canonical_service: w?.name ?? UNKNOWN,
    request_protocol: 'http',
    connection_security_policy: policy,
  };
}

/**
 * A server sidecar's report of a request from `peerId` (the verified peer certificate's SPIFFE ID;
 * undefined when the caller presented none, which only a PERMISSIVE listener lets through).
 */
export function destinationReport(self: MeshWorkload, peerId: string | undefined): EdgeLabels {
  const parsed = peerId === undefined ? undefined : parseSpiffeId(peerId);
  const peer: MeshWorkload | undefined = parsed && peerId ? { name: parsed.serviceAccount, namespace: parsed.namespace, principal: peerId } : undefined;
  const source = sourceOf(peer, peerId ?? UNKNOWN);
  // A SAN that is no Istio SPIFFE ID still names the peer: only the workload fields stay unknown.
  if (!peer && peerId !== undefined) source.source_principal = peerId;
  return edge('destination', source, { workload: self, principal: self.principal, service: self.name, namespace: self.namespace }, peerId !== undefined ? 'mutual_tls' : 'none');
}

/**
 * A client's report (a sidecar's egress, the gateway) of a request to `backend`. `upstream` says
 * whether an mTLS connection to the backend carried it: without one (a local reply, a refused
 * connection) both principals and the destination workload are unknown, as in Istio.
 */
export function sourceReport(self: MeshWorkload, backend: MeshWorkload | undefined, upstream: boolean): EdgeLabels {
  const source = sourceOf(self, upstream ? self.principal : UNKNOWN);
  return edge('source', source, { workload: upstream ? backend : undefined, principal: upstream && backend ? backend.principal : UNKNOWN, service: backend?.name, namespace: backend?.namespace ?? UNKNOWN }, 'unknown');
}
