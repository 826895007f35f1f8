/**
 * Which requests may be tried again and after what, as Istio's default retry policy says
 * (retryOn: connect-failure, refused-stream, unavailable, cancelled, retriable-status-codes), and
 * Envoy's retry budget, which keeps retries from multiplying the load on a failing service.
 */
import type { Dispatcher } from 'undici';
import type { RetryPolicy } from '../config/traffic-policy.js';
import type { UpstreamFailure } from './upstream-errors.js';

/** RFC 9110 §9.2.2: methods whose repetition has the same effect as one request (POST only with an Idempotency-Key). */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const IDEMPOTENCY_KEY = 'idempotency-key';

/** Whether a request may be sent twice: an idempotent method or a keyed POST, with a body that can be sent again. */
export function isReplayable(opts: Dispatcher.RequestOptions): boolean {
  const body = opts.body;
  // A stream is consumed by the first try; a Buffer or a string can be written again.
  if (body !== null && body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) return false;
  if (IDEMPOTENT_METHODS.has(opts.method)) return true;
  if (opts.method !== 'POST') return false;
  const headers = opts.headers as Record<string, unknown> | null | undefined;
  return headers !== null && headers !== undefined && !Array.isArray(headers) && headers[IDEMPOTENCY_KEY] !== undefined;
}

/** Envoy's retriable-status-codes as Istio sets them up, plus the gateway errors 502 and 504. */
export function isRetriableStatus(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}

/** Connect failures, resets before the answer's headers and per-try timeouts; never TLS or identity failures (another try would fail alike). */
export function isRetriableFailure(failure: UpstreamFailure): boolean {
  return failure.code === 'UPSTREAM_UNAVAILABLE' || failure.code === 'UPSTREAM_RESET' || failure.code === 'UPSTREAM_TIMEOUT';
}

/**
 * Envoy's retry_budget: retries in flight may be at most budgetPercent of the active requests, but
 * always minRetryConcurrency; a retry beyond it is not made (upstream_rq_retry_overflow).
 */
export class RetryBudget {
  #inFlight = 0;

  constructor(private readonly policy: RetryPolicy) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  tryAcquire(activeRequests: number): boolean {
    const allowed = Math.max(this.policy.minRetryConcurrency, (this.policy.budgetPercent / 100) * activeRequests);
    if (this.#inFlight >= allowed) return false;
    this.#inFlight++;
    return true;
  }

  release(): void {
    this.#inFlight--;
  }
}
