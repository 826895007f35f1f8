/**
 * Named counters and gauges, as Envoy's /stats shows them: the sidecars' admin endpoint and the
 * gateway's stats endpoint both read one of these, and the mesh client adds to it.
 */

/** What the mesh client needs of a counter store: add to a named value (a negative `by` lowers a gauge). */
export interface StatSink {
  inc(name: string, by?: number): void;
}

export class Counters implements StatSink {
  readonly #values = new Map<string, number>();

  inc(name: string, by = 1): void {
    this.#values.set(name, (this.#values.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.#values.get(name) ?? 0;
  }

  /** A sorted plain object, as GET /stats returns it. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

/** Counters of one upstream cluster, as Envoy's cluster.<name>.* stats. */
export function clusterStat(cluster: string, stat: string): string {
  return `cluster.${cluster}.${stat}`;
}

/** The resilience counters of every cluster, reported even at zero so that a delta can always be computed. */
export const CLUSTER_RESILIENCE_STATS = [
  'upstream_rq_retry',
  'upstream_rq_retry_overflow',
  'upstream_rq_timeout',
  'upstream_rq_per_try_timeout',
  'upstream_rq_pending_overflow',
  'upstream_cx_connect_fail',
  'outlier_detection.ejections_active',
  'outlier_detection.ejections_enforced_total',
] as const;
