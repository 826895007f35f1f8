/**
 * Which firing alerts concern an edge source → destination (for `meshgw top`'s firing marks). The
 * labels each rule groups by say where it points:
 * - source_workload and destination_workload (MeshEdgeErrorRate): exactly that edge;
 * - source_workload alone (ApiThrottledRate, ApiServerErrorRate): every edge out of the gateway;
 * - app plus cluster_name (MeshMtlsUpstreamVerifyFailures: the caller could not verify its upstream):
 *   edges out of `app` to the service the cluster `outbound|<port>||<service>.<ns>.svc…` names;
 * - app alone (MeshMtlsHandshakeFailures, MeshAuthorizationDenied: the callee refused, and its
 *   listener does not know the caller's name): every edge into `app`.
 */
import type { FiringAlert } from './evaluate.js';

function upstreamService(cluster: string): string | undefined {
  return /^outbound\|\d*\|[^|]*\|([^.]+)\./.exec(cluster)?.[1];
}

/** One alert's verdict for one edge (workload or service names, as `top` names edge ends). */
export function alertConcernsEdge(labels: Record<string, string>, source: string, destination: string): boolean {
  const src = labels.source_workload;
  const dst = labels.destination_workload;
  if (src !== undefined || dst !== undefined) return (src === undefined || src === source) && (dst === undefined || dst === destination);
  if (labels.cluster_name !== undefined) return labels.app === source && upstreamService(labels.cluster_name) === destination;
  return labels.app !== undefined && labels.app === destination;
}

/** The alerts (of evaluateAlerts' result) that mark the edge source → destination. */
export function alertsForEdge<A extends Pick<FiringAlert, 'alert' | 'labels'>>(alerts: A[], source: string, destination: string): A[] {
  return alerts.filter((a) => alertConcernsEdge(a.labels, source, destination));
}
