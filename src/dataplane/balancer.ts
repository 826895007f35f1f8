/**
 * Load balancing across a service's replicas: Envoy's LEAST_REQUEST (its default, and Istio's)
 * with the power of two choices: two replicas drawn at random, the one with fewer requests in
 * flight wins. Chosen over linkerd's latency EWMA because it needs no clock reading or per-request
 * arithmetic on the hot path, and it reacts at once: a slow replica holds its requests longer, so
 * its count stays higher and it loses the draw more often. The same policy then runs locally and
 * on EKS.
 */
import type { Pool } from 'undici';
import { newOutlierState, type OutlierState } from './outlier-detector.js';
import type { WarmConnector } from './warm-connector.js';

/** One replica of an upstream: its own pool (each connection a checked mTLS handshake) and its counts. */
export class Endpoint {
  /** Requests on this replica, from dispatch until the answer's body is done. */
  active = 0;
  /** Until then, a replica that refused a connection or said `connection: close` (draining) gets no new request. */
  unreadyUntil = 0;
  readonly outlier: OutlierState = newOutlierState();

  constructor(
    readonly origin: string,
    /** Replaced on a certificate rotation (replaceTransport); the replica itself stays. */
    public pool: Pool,
    public connector: WarmConnector,
    /** cluster.<name>.endpoint.<origin>.rq_total */
    readonly rqTotalStat: string,
  ) {}

  /**
   * Swaps in a pool built on new TLS material and hands back the old one to drain. The replica's
   * counts and outlier state stay, as an Envoy SDS update changes a cluster's transport socket
   * but not its hosts: a rotation must not forgive an ejected replica.
   */
  replaceTransport(pool: Pool, connector: WarmConnector): { pool: Pool; connector: WarmConnector } {
    const old = { pool: this.pool, connector: this.connector };
    this.pool = pool;
    this.connector = connector;
    return old;
  }

  /** Hoisted, so that each answer's body can hand it to once('close') without a new closure. */
  readonly release = (): void => {
    this.active--;
  };
}

/**
 * How picky a draw is: a fresh ready replica, any ready one, then (Envoy's panic mode) any replica
 * but the one that just failed, and last any at all. Without the third level, a retry after the only
 * ready replica died could draw that same dead replica again while the other sat ejected.
 */
const enum Level {
  FreshReady,
  Ready,
  AnyFresh,
  Any,
}

function admits(e: Endpoint, level: Level, nowMs: number, previous: Endpoint | undefined): boolean {
  if (level === Level.Any) return true;
  if (level === Level.AnyFresh) return e !== previous;
  if (e.outlier.ejected || e.unreadyUntil > nowMs) return false;
  return level === Level.Ready || e !== previous;
}

/**
 * Picks the replica for the next try: among ready replicas other than `previous` (Envoy's
 * previous_hosts retry predicate), else any ready one, else any other, else any (better a try than a certain 503).
 */
export function pickEndpoint(endpoints: readonly Endpoint[], nowMs: number, previous: Endpoint | undefined, random: () => number): Endpoint {
  if (endpoints.length === 1) return endpoints[0];
  for (let level = Level.FreshReady; level <= Level.Any; level++) {
    // Reservoir sampling of two distinct candidates in one pass, without building a list.
    let a: Endpoint | undefined;
    let b: Endpoint | undefined;
    let seen = 0;
    for (const e of endpoints) {
      if (!admits(e, level, nowMs, previous)) continue;
      seen++;
      if (seen === 1) a = e;
      else if (seen === 2) b = e;
      else {
        const slot = Math.floor(random() * seen);
        if (slot === 0) a = e;
        else if (slot === 1) b = e;
      }
    }
    if (!a) continue;
    if (!b) return a;
    if (a.active !== b.active) return a.active < b.active ? a : b;
    return random() < 0.5 ? a : b;
  }
  return endpoints[0];
}
