/**
 * The mesh's resilience counters, summed over every sidecar of the stack (each client sidecar
 * counts its own calls, as each Envoy does), and what changed between two readings.
 */
import { CLUSTER_RESILIENCE_STATS } from '../../dataplane/counters.js';

export type Stats = Record<string, number>;

/** Every sidecar's /stats added up name by name. */
export function sumStats(readings: readonly Stats[]): Stats {
  const total: Stats = {};
  for (const r of readings) for (const [k, v] of Object.entries(r)) if (typeof v === 'number') total[k] = (total[k] ?? 0) + v;
  return total;
}

/** The resilience counters of one backend, as cluster.<backend>.<stat> (zero when a sidecar does not report one). */
export function resilienceCounters(stats: Stats, backend: string): Record<string, number> {
  return Object.fromEntries(CLUSTER_RESILIENCE_STATS.map((s) => [`cluster.${backend}.${s}`, stats[`cluster.${backend}.${s}`] ?? 0]));
}

/** after − before for each name of `after` (gauges such as ejections_active are shown as read, not as a change). */
export function counterDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, k.endsWith('_active') ? v : v - (before[k] ?? 0)]));
}

/**
 * Requests each replica of a backend received from its callers: cluster.<backend>.endpoint.<origin>.rq_total,
 * keyed by the replica's inbound origin (https://host:port).
 */
export function endpointRequests(stats: Stats, backend: string, origins: readonly string[]): Record<string, number> {
  const prefix = `cluster.${backend}.endpoint.`;
  const out: Record<string, number> = Object.fromEntries(origins.map((o) => [o, 0]));
  for (const [k, v] of Object.entries(stats)) {
    if (!k.startsWith(prefix) || !k.endsWith('.rq_total')) continue;
    const endpoint = k.slice(prefix.length, -'.rq_total'.length);
    // The origin is named with or without its scheme; the port tells replicas apart.
    const match = origins.find((o) => o === endpoint || o.endsWith(`//${endpoint}`) || endpoint.endsWith(new URL(o).host));
    if (match) out[match] += v;
  }
  return out;
}

/** One line for a report: "retry +3, ejections_active 1, …" (only the non-zero ones). */
export function describeCounters(delta: Record<string, number>): string {
  const parts = Object.entries(delta)
    .filter(([, v]) => v !== 0)
    .map(([k, v]) => `${k.replace(/^cluster\./, '')} ${k.endsWith('_active') ? v : `+${v}`}`);
  return parts.length ? parts.join(', ') : 'no resilience counter moved';
}
