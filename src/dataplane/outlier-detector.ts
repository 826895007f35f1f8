/**
 * Envoy's outlier detection with consecutive_5xx (Istio's consecutive5xxErrors): a replica that
 * answers 5xx or fails to connect `consecutiveErrors` times in a row is ejected, while at most
 * maxEjectionPercent of the replicas are out (but one may always go when there are two or more).
 *
 * How long an ejection lasts follows Envoy's DetectorImpl (source/common/upstream/
 * outlier_detection_impl.cc): each replica has an ejection backoff, raised by one at each ejection
 * (only while backoff × base < max + base), and the ejection lasts min(base × backoff, max).
 * Every `interval` a replica that is in and has been back for at least one interval gets its
 * backoff lowered by one, so a replica that stays healthy is forgiven its old ejections.
 */
import type { OutlierDetection } from '../config/traffic-policy.js';
import type { StatSink } from './counters.js';

/**
 * Envoy's defaults for the two settings our trafficPolicy does not carry (Istio's DestinationRule
 * has `interval`, meshgw.yaml does not yet): the detector's sweep every 10 s, and ejections capped at
 * 300 s (or at the base ejection time when that is longer, as Envoy's DetectorConfig does).
 */
export const ENVOY_DEFAULT_INTERVAL_MS = 10_000;
export const ENVOY_DEFAULT_MAX_EJECTION_TIME_MS = 300_000;

/** What the detector keeps on each replica (Envoy's DetectorHostMonitorImpl). */
export interface OutlierState {
  consecutiveErrors: number;
  /** Envoy's num_ejections: every ejection ever, for the record. */
  timesEjected: number;
  /** Envoy's ejectTimeBackoff: the multiplier of the base ejection time, lowered while healthy. */
  ejectTimeBackoff: number;
  ejected: boolean;
  lastEjectionMs: number | undefined;
  lastUnejectionMs: number | undefined;
  ejectionTimer: unknown;
}

export function newOutlierState(): OutlierState {
  return { consecutiveErrors: 0, timesEjected: 0, ejectTimeBackoff: 0, ejected: false, lastEjectionMs: undefined, lastUnejectionMs: undefined, ejectionTimer: undefined };
}

export interface OutlierStats {
  sink: StatSink;
  /** cluster.<name>.outlier_detection.ejections_active (a gauge). */
  active: string;
  /** cluster.<name>.outlier_detection.ejections_enforced_total. */
  enforced: string;
}

/** The clock and timers the detector runs on; Node's own unless a test drives them. */
export interface OutlierTimers {
  nowMs(): number;
  setTimeout(fn: (state: OutlierState) => void, ms: number, state: OutlierState): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** Node's timers, unref'd: an ejection or the sweep must never keep a process alive. */
export const NODE_OUTLIER_TIMERS: OutlierTimers = {
  nowMs: () => performance.now(),
  setTimeout: (fn, ms, state) => setTimeout(fn, ms, state).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

export interface OutlierDetectorOptions {
  timers?: OutlierTimers;
  /** The sweep that lowers backoffs; Envoy's default when unset. */
  intervalMs?: number;
  /** The cap on one ejection; max(Envoy's 300 s, base ejection time) when unset. */
  maxEjectionTimeMs?: number;
}

export class OutlierDetector {
  #ejected = 0;
  readonly #members: OutlierState[] = [];
  readonly #timers: OutlierTimers;
  readonly #intervalMs: number;
  readonly #maxEjectionMs: number;
  #sweep: unknown;

  constructor(
    private readonly policy: OutlierDetection | undefined,
    private readonly stats: OutlierStats,
    opts: OutlierDetectorOptions = {},
  ) {
    this.#timers = opts.timers ?? NODE_OUTLIER_TIMERS;
    this.#intervalMs = opts.intervalMs ?? ENVOY_DEFAULT_INTERVAL_MS;
    this.#maxEjectionMs = opts.maxEjectionTimeMs ?? Math.max(ENVOY_DEFAULT_MAX_EJECTION_TIME_MS, policy?.baseEjectionTimeMs ?? 0);
  }

  /** Registers a replica; the ejection cap is a share of all registered ones. */
  add(state: OutlierState): void {
    this.#members.push(state);
    if (this.policy && this.#sweep === undefined) this.#sweep = this.#timers.setInterval(this.#onInterval, this.#intervalMs);
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
    const base = policy.baseEjectionTimeMs;
    state.ejected = true;
    state.consecutiveErrors = 0;
    state.timesEjected++;
    state.lastEjectionMs = this.#timers.nowMs();
    // Envoy raises the backoff only while it could still lengthen the ejection past the cap.
    if (state.ejectTimeBackoff * base < this.#maxEjectionMs + base) state.ejectTimeBackoff++;
    this.#ejected++;
    this.stats.sink.inc(this.stats.active, 1);
    this.stats.sink.inc(this.stats.enforced);
    // Envoy finds an expired ejection at its next sweep (up to one interval late); a timer of its
    // own brings the replica back at the exact time, so short ejections in tests stay short.
    state.ejectionTimer = this.#timers.setTimeout(this.#restore, this.ejectionTimeMs(state), state);
  }

  /** How long the replica's current (or next) ejection lasts: min(base × backoff, max). */
  ejectionTimeMs(state: OutlierState): number {
    return Math.min((this.policy?.baseEjectionTimeMs ?? 0) * state.ejectTimeBackoff, this.#maxEjectionMs);
  }

  /** Brings every ejected replica back and stops the sweep (the cluster is closing), keeping the gauge true. */
  close(): void {
    for (const s of this.#members) if (s.ejected) this.#restore(s);
    if (this.#sweep !== undefined) this.#timers.clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  #maxEjected(policy: OutlierDetection): number {
    const n = this.#members.length;
    if (n < 2) return 0;
    return Math.max(1, Math.floor((n * policy.maxEjectionPercent) / 100));
  }

  /** Envoy's onIntervalTimer, backoff part: a replica in, and back for a whole interval, is forgiven one ejection. */
  readonly #onInterval = (): void => {
    const now = this.#timers.nowMs();
    for (const s of this.#members) {
      if (s.ejected || s.lastUnejectionMs === undefined) continue;
      if (now - s.lastUnejectionMs >= this.#intervalMs && s.ejectTimeBackoff > 0) s.ejectTimeBackoff--;
    }
  };

  readonly #restore = (state: OutlierState): void => {
    if (!state.ejected) return;
    this.#timers.clearTimeout(state.ejectionTimer);
    state.ejectionTimer = undefined;
    state.ejected = false;
    // As Envoy's unejectHost: a replica back in starts its count afresh.
    state.consecutiveErrors = 0;
    state.lastUnejectionMs = this.#timers.nowMs();
    this.#ejected--;
    this.stats.sink.inc(this.stats.active, -1);
  };
}
