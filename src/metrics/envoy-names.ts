/**
 * How an Istio sidecar's Envoy names the stats meshgw's data plane keeps in dataplane/counters.ts,
 * and how Envoy's /stats/prometheus prints them after Istio's tag extraction.
 *
 * Step 1, the Envoy stat name as Istio configures it (see /work/shared/ISTIO-STATS.md):
 * - inbound TLS stats live in the listener's scope, `listener.<address>.ssl.*` (Envoy
 *   listener_impl.cc uses the address, ':' sanitised to '_', when Istio sets no stat_prefix);
 * - the inbound HTTP connection manager's prefix is "inbound_<bind>_<port>" plus Istio's ";"
 *   delimiter (pilot listener_inbound.go StatPrefix + util.DelimitedStatsPrefix), so RBAC is
 *   `http.inbound_<bind>_<port>;.rbac.allowed|denied` and the HCM's own counters sit beside it;
 * - clusters get alt_stat_name = name + ";" (pilot util.go): `cluster.outbound|8080||<svc>.<ns>.svc.cluster.local;.*`
 *   for a backend, `cluster.inbound|8080||;.*` for the app behind a sidecar;
 * - the outbound HTTP listener of port 8080 has the prefix "outbound_0.0.0.0_8080;" and serves
 *   every backend on that port: the egress listeners' counters add up into it.
 *
 * Step 2, Istio's tag extraction: envoy_bootstrap.json sets `use_all_default_tags: false`, so only
 * its own `stats_tags` apply (TAG_EXTRACTORS below, transcribed with POSIX [:digit:] as \d). As in
 * Envoy's TagExtractorStdRegexImpl, each regex runs on the full name; its first capture group is
 * cut out of the name and its second is the tag's value.
 *
 * Step 3, Envoy's Prometheus formatter: "envoy_" + the tag-extracted name with every character
 * outside [a-zA-Z0-9_] replaced by '_'. Hence e.g.
 *   cluster.outbound|8080||users.meshgw.svc.cluster.local;.upstream_rq_retry
 *     → envoy_cluster_upstream_rq_retry{cluster_name="outbound|8080||users.meshgw.svc.cluster.local"}
 *   listener.127.0.0.1_41234.ssl.fail_verify_no_cert
 *     → envoy_listener_ssl_fail_verify_no_cert{listener_address="127.0.0.1_41234"}
 *   http.inbound_127.0.0.1_41234;.rbac.denied
 *     → envoy_http_rbac{http_conn_manager_prefix="inbound_127.0.0.1_41234",authz_enforce_result="denied"}
 *
 * Locally the listener address and the HCM prefix name the address the sidecar's inbound listener
 * really binds (127.0.0.1_<port>), where Istio's read 0.0.0.0_15006 and inbound_0.0.0.0_8080: the
 * metric names are the same, the label values say where the local listener is.
 */

/** The port every meshgw Service exposes (k8s/labels.ts SERVICE_PORT), hence Istio's cluster names. */
export const MESH_SERVICE_PORT = 8080;

interface TagExtractor {
  tag: string;
  regex: RegExp;
}

/** istio/istio tools/packaging/common/envoy_bootstrap.json `stats_tags`, the ones that can match meshgw's stats. */
export const TAG_EXTRACTORS: readonly TagExtractor[] = [
  { tag: 'cluster_name', regex: /^cluster(\.(.+);)/d },
  { tag: 'http_conn_manager_prefix', regex: /^http\.(((?:[_.\d\w]*|[_[\]aAbBcCdDeEfF\d\w:]*));\.)/d },
  { tag: 'tcp_prefix', regex: /^tcp\.((.*?)\.)\w+?$/d },
  { tag: 'response_code', regex: /_rq(_(\d{3}))$/d },
  { tag: 'response_code_class', regex: /_rq(_(\dxx))$/d },
  { tag: 'http_conn_manager_listener_prefix', regex: /^listener(?=\.).*?\.http\.(((?:[_.\d]*|[_[\]aAbBcCdDeEfF\d]*))\.)/d },
  { tag: 'listener_address', regex: /^listener\.(((?:[_.\d]*|[_[\]aAbBcCdDeEfF\d]*))\.)/d },
  { tag: 'authz_enforce_result', regex: /rbac(\.(allowed|denied))/d },
  { tag: 'authz_dry_run_action', regex: /(\.istio_dry_run_(allow|deny)_)/d },
  { tag: 'authz_dry_run_result', regex: /(\.shadow_(allowed|denied))/d },
];

export interface PrometheusStat {
  /** The Prometheus metric name: envoy_… */
  name: string;
  labels: Record<string, string>;
}

/** Envoy's tag extraction (step 2) and Prometheus naming (step 3) of one full Envoy stat name. */
export function envoyPrometheusStat(envoyName: string): PrometheusStat {
  const labels: Record<string, string> = {};
  const cuts: [number, number][] = [];
  for (const { tag, regex } of TAG_EXTRACTORS) {
    const m = regex.exec(envoyName);
    if (!m?.indices?.[1] || m[2] === undefined) continue;
    labels[tag] = m[2];
    cuts.push(m.indices[1]);
  }
  let name = '';
  let at = 0;
  for (const [from, to] of cuts.sort((a, b) => a[0] - b[0])) {
    if (from >= at) name += envoyName.slice(at, from);
    at = Math.max(at, to);
  }
  name += envoyName.slice(at);
  return { name: `envoy_${name.replace(/[^a-zA-Z0-9_]/g, '_')}`, labels };
}

/** Maps one of meshgw's counter names to the Envoy stat an Istio proxy keeps for it; undefined when Envoy has none. */
export type EnvoyNaming = (counter: string) => string | undefined;

/** Istio's outbound cluster name of a mesh service. */
export function outboundCluster(service: string, namespace: string): string {
  return `outbound|${MESH_SERVICE_PORT}||${service}.${namespace}.svc.cluster.local`;
}

/** Counters meshgw keeps that no Envoy stat matches: per-peer and per-endpoint breakdowns. */
function meshgwOnly(stat: string): boolean {
  return stat.includes('.peer.') || stat.startsWith('endpoint.');
}

/** `cluster.<backend>.<stat>` → Istio's outbound cluster stat, or undefined for another shape. */
function outboundClusterStat(counter: string, namespace: string): string | undefined {
  if (!counter.startsWith('cluster.')) return undefined;
  const dot = counter.indexOf('.', 'cluster.'.length);
  if (dot < 0) return undefined;
  const backend = counter.slice('cluster.'.length, dot);
  const stat = counter.slice(dot + 1);
  if (meshgwOnly(stat)) return undefined;
  return `cluster.${outboundCluster(backend, namespace)};.${stat}`;
}

/** Our inbound HCM counters (http.inbound.*) under their Envoy names; upstream_rq_error has no HCM counterpart. */
const INBOUND_HCM: Record<string, string> = {
  rq_total: 'downstream_rq_total',
  downstream_rq_idle_timeout: 'downstream_rq_idle_timeout',
  downstream_rq_timeout: 'downstream_rq_timeout',
  'fault.delays_injected': 'fault.delays_injected',
  'fault.aborts_injected': 'fault.aborts_injected',
};

/** The naming of a sidecar's counters (mesh/stats.ts) whose inbound listener binds `host`:`port`. */
export function sidecarEnvoyNaming(opts: { host: string; inboundPort: number; namespace: string }): EnvoyNaming {
  const address = `${opts.host.replace(/:/g, '_')}_${opts.inboundPort}`;
  const hcm = `inbound_${address};`;
  return (counter) => {
    if (counter.startsWith('ssl.')) return meshgwOnly(counter) ? undefined : `listener.${address}.${counter}`;
    if (counter === 'rbac.allowed' || counter === 'rbac.denied') return `http.${hcm}.${counter}`;
    if (counter.startsWith('http.inbound.')) {
      const stat = INBOUND_HCM[counter.slice('http.inbound.'.length)];
      return stat ? `http.${hcm}.${stat}` : undefined;
    }
    if (counter.startsWith('http.egress.')) {
      // http.egress.<backend>.<stat>: one Istio listener serves every backend on port 8080.
      const rest = counter.slice('http.egress.'.length);
      const dot = rest.indexOf('.');
      return dot < 0 ? undefined : `http.outbound_0.0.0.0_${MESH_SERVICE_PORT};.${rest.slice(dot + 1)}`;
    }
    if (counter.startsWith('cluster.inbound.')) return `cluster.inbound|${MESH_SERVICE_PORT}||;.${counter.slice('cluster.inbound.'.length)}`;
    return outboundClusterStat(counter, opts.namespace);
  };
}

/** The naming of the gateway's counters: its mesh client's cluster.<service>.* stats. */
export function gatewayEnvoyNaming(opts: { namespace: string }): EnvoyNaming {
  return (counter) => outboundClusterStat(counter, opts.namespace);
}

/** Envoy stats that are gauges, not counters (by their last segments). */
export function isEnvoyGauge(envoyName: string): boolean {
  return envoyName.endsWith('.ejections_active') || envoyName.endsWith('_active');
}
