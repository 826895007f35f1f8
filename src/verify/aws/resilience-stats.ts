/**
 * The resilience counters of an Istio sidecar, read with `pilot-agent request GET stats` and `GET clusters`,
 * and put in the local report's shape (`cluster.<backend>.<stat>`, CLUSTER_RESILIENCE_STATS) so one renderer
 * shows both targets.
 *
 * Names on EKS: an outbound cluster is `outbound|<port>||<svc>.<ns>.svc.cluster.local` and Istio gives it
 * alt_stat_name = name + ';' (pilot/pkg/networking/util/util.go), so its counters are
 * `cluster.outbound|8080||users.meshgw.svc.cluster.local;.outlier_detection.ejections_enforced_total`. They
 * exist only when the proxyStatsMatcher keeps them (src/k8s/manifests/proxy-stats.ts).
 *
 * Per replica: Envoy's /clusters prints each host's own counters and health as
 * `<cluster name>::<ip:port>::rq_total::N` and `…::health_flags::/failed_outlier_check` (source/server/admin/
 * clusters_handler.cc, writeClustersAsText). Host counters are Stats::PrimitiveCounter (HostStats in
 * envoy/upstream/host_description.h), outside the stats store, so the stats matcher does not trim them: the
 * share of requests each replica got is measurable on EKS with Istio's default matcher too.
 */
import { CLUSTER_RESILIENCE_STATS } from '../../dataplane/counters.js';
import { SERVICE_PORT } from '../../k8s/labels.js';
import { parseStats } from './envoy-stats.js';

export function outboundCluster(service: string, namespace: string, port = SERVICE_PORT): string {
  return `outbound|${port}||${service}.${namespace}.svc.cluster.local`;
}

/** Stats text of several sidecars → `cluster.<service>.<stat>` summed, zero when a sidecar lacks a counter. */
export function meshResilienceCounters(statsTexts: readonly string[], service: string, namespace: string): { counters: Record<string, number>; present: boolean } {
  const scope = `cluster.${outboundCluster(service, namespace)};.`;
  const counters: Record<string, number> = Object.fromEntries(CLUSTER_RESILIENCE_STATS.map((s) => [`cluster.${service}.${s}`, 0]));
  let present = false;
  for (const text of statsTexts) {
    const stats = parseStats(text);
    for (const s of CLUSTER_RESILIENCE_STATS) {
      const v = stats.get(`${scope}${s}`);
      if (v === undefined) continue;
      present = true;
      counters[`cluster.${service}.${s}`] += v;
    }
  }
  return { counters, present };
}

export interface HostStatus {
  /** ip:port */
  address: string;
  rqTotal: number;
  /** Envoy's health flags, "healthy" or e.g. "/failed_outlier_check". */
  healthFlags: string;
}

/** The hosts of one cluster from `GET clusters` text. */
export function clusterHosts(clustersText: string, cluster: string): HostStatus[] {
  const hosts = new Map<string, HostStatus>();
  const prefix = `${cluster}::`;
  for (const raw of clustersText.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith(prefix)) continue;
    const parts = line.slice(prefix.length).split('::');
    // Cluster-wide lines have two parts ("added_via_api::true") or start with outlier/…_priority.
    if (parts.length !== 3 || !/^[0-9a-f.:[\]]+:\d+$/i.test(parts[0])) continue;
    const [address, stat, value] = parts;
    const h = hosts.get(address) ?? { address, rqTotal: 0, healthFlags: 'healthy' };
    if (stat === 'rq_total') h.rqTotal = Number(value) || 0;
    if (stat === 'health_flags') h.healthFlags = value;
    hosts.set(address, h);
  }
  return [...hosts.values()];
}

/** Requests per pod IP summed over every caller's sidecar. */
export function requestsByIp(clustersTexts: readonly string[], cluster: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const text of clustersTexts) {
    for (const h of clusterHosts(text, cluster)) {
      const ip = h.address.replace(/:\d+$/, '');
      out[ip] = (out[ip] ?? 0) + h.rqTotal;
    }
  }
  return out;
}

/** Whether any caller's sidecar has the host at `ip` ejected right now. */
export function ejectedBy(clustersTexts: readonly string[], cluster: string, ip: string): boolean {
  return clustersTexts.some((text) => clusterHosts(text, cluster).some((h) => h.address.replace(/:\d+$/, '') === ip && h.healthFlags.includes('failed_outlier_check')));
}
