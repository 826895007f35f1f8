/**
 * Reading an Istio sidecar's Envoy stats as `pilot-agent request GET stats` prints them ("name: value" per
 * line; histograms print quantiles instead of a number and are skipped), with the names an Istio 1.28+ sidecar
 * gives the mTLS and RBAC counters (Envoy source/common/tls/stats.h, Istio pilot/pkg/networking):
 *   listener.0.0.0.0_15006.ssl.<counter>                                 server side, virtualInbound
 *   listener.0.0.0.0_15006.no_filter_chain_match                         plaintext on a STRICT port
 *   cluster.outbound|<port>||<svc>.<ns>.svc.cluster.local;.ssl.<counter>  client side (alt_stat_name ends in ';')
 *   http.inbound_0.0.0.0_<port>;.rbac.denied / tcp.rbac.denied           AuthorizationPolicy, HTTP and TCP
 * Istio trims stats by default and Envoy never creates a trimmed one, so "absent" is not "zero": each counter
 * comes with a witness, a stat that exists (at 0) on every sidecar that can count it.
 */

/** Counters and gauges by name; a name Envoy did not create is not in the map. */
export function parseStats(stats: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of stats.split('\n')) {
    // The name is everything before the last ": " (names may hold '|' and ';' but not ": ").
    const m = /^(\S+): (\d+)$/.exec(line.trim());
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** Sum of every counter whose name matches `pattern`. */
export function sumCounters(stats: string, pattern: RegExp): number {
  let total = 0;
  for (const [name, value] of parseStats(stats)) if (pattern.test(name)) total += value;
  return total;
}

/** Whether any stat name matches: false means the sidecar does not emit it (trimmed, or not configured). */
export function hasStat(stats: string, pattern: RegExp): boolean {
  for (const name of parseStats(stats).keys()) if (pattern.test(name)) return true;
  return false;
}

export interface CounterSpec {
  /** Counters whose sum must move. */
  counted: RegExp;
  /** A stat present on any sidecar able to count `counted`; when absent, the count says nothing. */
  witness: RegExp;
  /** What to do when the witness is absent. */
  missingHint(namespace: string): string;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const INBOUND = esc('listener.0.0.0.0_15006.');

/** The matcher is read at bootstrap: after deploy adds it, only restarted pods have the stats. */
function matcherHint(what: string): (namespace: string) => string {
  return (namespace) =>
    `The sidecar does not emit ${what}: Istio trims Envoy stats unless the pod's proxy.istio.io/config proxyStatsMatcher (set by \`meshgw deploy\`) asks for them, and reads it only when the proxy starts. Run \`meshgw deploy\`, then restart the pods: kubectl -n ${namespace} rollout restart deployment.`;
}

/** The counters each refusal is expected to move on the callee's sidecar. */
export const REFUSAL_COUNTERS: Record<'plaintext' | 'foreignCa', CounterSpec> = {
  // Every inbound chain of a STRICT port requires TLS: plaintext matches none and is closed.
  plaintext: { counted: new RegExp(`^${INBOUND}no_filter_chain_match$`), witness: new RegExp(`^${INBOUND}no_filter_chain_match$`), missingHint: matcherHint('listener.0.0.0.0_15006.no_filter_chain_match') },
  // A certificate from another CA fails X509 verification (fail_verify_error); no certificate at all is fail_verify_no_cert.
  foreignCa: { counted: new RegExp(`^${INBOUND}ssl\\.(fail_verify_error|fail_verify_no_cert|connection_error)$`), witness: new RegExp(`^${INBOUND}ssl\\.handshake$`), missingHint: matcherHint('listener.0.0.0.0_15006.ssl.*') },
};

/** HTTP RBAC denials on the callee's inbound port, or the TCP filter's (global, not split by port). */
export function rbacDeniedCounter(port: number): CounterSpec {
  const http = `http\\.inbound_0\\.0\\.0\\.0_${port};\\.rbac\\.`;
  return {
    counted: new RegExp(`^(${http}denied|tcp\\.rbac\\.denied)$`),
    witness: new RegExp(`^${http}(allowed|denied)$`),
    missingHint: (namespace) =>
      `The sidecar has no RBAC filter on port ${port} (no http.inbound_0.0.0.0_${port};.rbac.* stats; Istio keeps rbac.* by default): no AuthorizationPolicy applies to it. Run \`meshgw deploy\` and check the AuthorizationPolicies in ${namespace}.`,
  };
}

/** Outbound handshakes from a client sidecar to a backend: cluster.outbound|8080||users.meshgw.svc.cluster.local;.ssl.handshake. */
export function outboundHandshakeCounter(service: string, namespace: string, port: number): CounterSpec {
  const name = new RegExp(`^${esc(`cluster.outbound|${port}||${service}.${namespace}.svc.cluster.local;.ssl.handshake`)}$`);
  return { counted: name, witness: name, missingHint: matcherHint(`cluster.outbound|${port}||${service}.${namespace}.svc.cluster.local;.ssl.*`) };
}
