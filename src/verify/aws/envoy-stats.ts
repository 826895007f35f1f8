/** Reading Envoy's text stats ("name: value" per line). */

/** Sum of every counter whose name matches `pattern`. */
export function sumCounters(stats: string, pattern: RegExp): number {
  let total = 0;
  for (const line of stats.split('\n')) {
    const m = /^([^:\s]+):\s*(\d+)\s*$/.exec(line.trim());
    if (m && pattern.test(m[1])) total += Number(m[2]);
  }
  return total;
}

/** The counters each refusal is expected to move on the callee's sidecar. */
export const REFUSAL_COUNTERS = {
  // Plaintext on a STRICT port matches no TLS filter chain on the inbound listener.
  plaintext: /^listener\.0\.0\.0\.0_15006\.(no_filter_chain_match|ssl\.connection_error)$/,
  foreignCa: /^listener\.0\.0\.0\.0_15006\.ssl\.(fail_verify_error|fail_verify_no_cert|connection_error)$/,
  rbac: /rbac\.denied$/,
  handshake: /ssl\.handshake$/,
} as const;

/** Outbound handshakes from a client sidecar to a backend service: cluster.outbound|8080||<svc>.<ns>.svc.cluster.local.ssl.handshake. */
export function outboundHandshakePattern(service: string, namespace: string): RegExp {
  const host = `${service}.${namespace}.svc.cluster.local`.replace(/\./g, '\\.');
  return new RegExp(`^cluster\\.outbound\\|\\d+\\|\\|${host}\\.ssl\\.handshake$`);
}
