/**
 * A service's resilience policy, configured once in meshgw.yaml (`services.<name>.trafficPolicy`)
 * and enforced by whoever calls the service: the local gateway and client sidecars, or Istio on
 * EKS (DestinationRule connectionPool / outlierDetection, route timeouts and retries). Field names
 * follow Istio's so that a reader who knows one knows the other; durations are milliseconds.
 */
import { z } from 'zod';

/** One hour: a longer request deadline is a hang, not a timeout (and Gateway API durations stop at 99999s). */
export const MAX_DURATION_MS = 3_600_000;
const ms = z
  .number()
  .int('expected a whole number of milliseconds')
  .min(1, 'expected at least 1 ms')
  .max(MAX_DURATION_MS, `expected at most ${MAX_DURATION_MS} ms (one hour)`);
const count = z.number().int('expected a whole number').min(1, 'expected at least 1');
const percent = z.number().min(0, 'expected a percentage from 0 to 100').max(100, 'expected a percentage from 0 to 100');

export const retryPolicySchema = z.strictObject({
  /** Retries after the first try (Istio's `attempts`); 0 turns retries off. */
  attempts: z.number().int('expected a whole number').min(0, 'expected 0 (no retries) or more').max(10, 'expected at most 10 retries').default(2),
  /**
   * Each try's deadline; unset: the whole request's timeoutMs, as Istio leaves perTryTimeout to the
   * route timeout. A 2 s default turned slow-but-answered orders on a saturated 2-core box into 504s.
   */
  perTryTimeoutMs: ms.optional(),
  /**
   * Envoy's retry budget: retries in flight may be at most this share of active requests (its
   * default, 20 %), but at least `minRetryConcurrency`, so a failing service cannot turn every
   * request into three. Envoy's own floor is 3; Istio sets no budget at all by default (maxRetries
   * 2^32-1). meshgw's floor is 25: when a replica dies, every request in flight on it needs a retry
   * at once, and at 100 rps with a loaded 2-core box (p50 up to ~500 ms) that is more than 3: a
   * floor of 3 lost 2 of 600 orders in the replica-kill test.
   */
  budgetPercent: percent.default(20),
  minRetryConcurrency: z.number().int('expected a whole number').min(0, 'expected 0 or more').default(25),
});

export const outlierDetectionSchema = z.strictObject({
  /** Consecutive 5xx answers or connect failures that eject a replica (Istio's consecutive5xxErrors). */
  consecutiveErrors: count.default(3),
  /**
   * First ejection lasts this long; each further one a base longer, capped at 300 s, and a replica
   * that stays healthy is forgiven one ejection per 10 s interval (Envoy's defaults; see dataplane/outlier-detector.ts).
   */
  baseEjectionTimeMs: ms.default(30_000),
  /** At most this share of replicas is ejected at once (Envoy still ejects one when the share rounds to zero). */
  maxEjectionPercent: percent.default(50),
});

export const connectionPoolSchema = z.strictObject({
  /** Connections from one caller to the service (Istio tcp.maxConnections; Envoy's default 1024). */
  maxConnections: count.default(1024),
  /** Requests waiting for a connection (Istio http.http1MaxPendingRequests); beyond it: 503 at once. */
  maxPendingRequests: z.number().int('expected a whole number').min(0, 'expected 0 (no queue) or more').default(1024),
});

export const trafficPolicySchema = z
  .strictObject({
    /** Whole-request deadline, retries included (the route timeout). */
    timeoutMs: ms.default(10_000),
    retries: retryPolicySchema.prefault({}),
    outlierDetection: outlierDetectionSchema.prefault({}),
    connectionPool: connectionPoolSchema.prefault({}),
  })
  .superRefine((p, ctx) => {
    // A try longer than the whole request could never end by its own timeout, and no retry would
    // ever start: Envoy cuts the request at the route timeout first (Istio documents the same bound).
    if (p.retries.attempts > 0 && p.retries.perTryTimeoutMs !== undefined && p.retries.perTryTimeoutMs > p.timeoutMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['retries', 'perTryTimeoutMs'],
        message: `${p.retries.perTryTimeoutMs} ms is longer than timeoutMs (${p.timeoutMs} ms), which bounds every try; lower it or raise timeoutMs`,
      });
    }
  })
  // Setting only a short timeoutMs must not trip the check above with the default per-try timeout.
  .transform((p) => ({ ...p, retries: { ...p.retries, perTryTimeoutMs: p.retries.perTryTimeoutMs ?? p.timeoutMs } }));

export type TrafficPolicy = z.infer<typeof trafficPolicySchema>;
export type RetryPolicy = TrafficPolicy['retries'];
export type OutlierDetection = TrafficPolicy['outlierDetection'];
export type ConnectionPool = TrafficPolicy['connectionPool'];

/** The policy a service gets when meshgw.yaml says nothing. */
export const DEFAULT_TRAFFIC_POLICY: TrafficPolicy = trafficPolicySchema.parse({});
