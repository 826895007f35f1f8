/**
 * Envoy's outlier detection with consecutive_5xx (Istio's consecutive5xxErrors): a replica that
 * answers 5xx or fails to connect `consecutiveErrors` times in a row is ejected for
 * baseEjectionTimeMs × the number of times it has been ejected, while at most maxEjectionPercent of
 * the replicas are out (but one may always go when there are two or more, as Envoy allows).
 */
import type { OutlierDetection } from '../config/traffic-policy.js';
import type { StatSink } from './counters.js';

/** What the detector keeps on each replica. */
export interface OutlierState {
  consecutiveErrors: number;
  timesEjected: number;
  ejected: boolean;
  ejectionTimer: NodeJS.Timeout | undefined;
}

export function newOutlierState(): OutlierState {
  return { consecutiveErrors: 0, timesEjected: 0, ejected: false, ejectionTimer: undefined };
}

export interface OutlierStats {
  sink: StatSink;
  /** cluster.<name>.outlier_detection.ejections_active (a gauge). */
  active: string;
  /** cluster.<name>.outlier_detection.ejections_enforced_total. */
  enforced: string;
}

export class OutlierDetector {
  #ejected = 0;
  readonly #members: OutlierState[] = [];

  constructor(
    private readonly policy: OutlierDetection | undefined,
    private readonly stats: OutlierStats,
  ) {}

  /** Registers a replica; the ejection cap is a share of all registered ones. */
  add(state: OutlierState): void {
    this.#members.push(state);
  }

  get ejectedCount(): number {
    return this.#ejected;
  }

  success(state: OutlierState): void {
    state.consecutiveErrors = 0;
  }

  /** A 5xx answer or a failed connection; ejects the replica when it reaches the threshold and the cap allows. */
  error(state: OutlierState): void {
    const policy = this.policy;
    if (!policy || state.ejected) return;
    if (++state.consecutiveErrors < policy.consecutiveErrors) return;
    if (this.#ejected >= this.#maxEjected(policy)) return;
    state.ejected = true;
    state.consecutiveErrors = 0;
    state.timesEjected++;
    this.#ejected++;
    this.stats.sink.inc(this.stats.active, 1);
    this.stats.sink.inc(this.stats.enforced);
    state.ejectionTimer = setTimeout(this.#restore, policy.baseEjectionTimeMs * state.timesEjected, state);
    state.ejectionTimer.unref();
  }

  /** Brings every ejected replica back (the cluster is being replaced or closed), keeping the gauge true. */
  close(): void {
    for (const s of this.#members) if (s.ejected) this.#restore(s);
  }

  #maxEjected(policy: OutlierDetection): number {
    const n = this.#members.length;
    if (n < 2) return 0;
    return Math.max(1, Math.floor((n * policy.maxEjectionPercent) / 100));
  }

  readonly #restore = (state: OutlierState): void => {
    if (!state.ejected) return;
    clearTimeout(state.ejectionTimer);
    state.ejectionTimer = undefined;
    state.ejected = false;
    this.#ejected--;
    this.stats.sink.inc(this.stats.active, -1);
  };
}
