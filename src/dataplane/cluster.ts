/**
 * One upstream service as the mesh client sees it (Envoy's cluster): its replicas, each with a
 * pool, the load balancer, retries with a budget, the whole-request timeout, outlier detection and
 * the connection-pool limits of the service's trafficPolicy. Without a trafficPolicy it sends each
 * request once, as before issue 15.
 */
import type { Dispatcher } from 'undici';
import type { TrafficPolicy } from '../config/traffic-policy.js';
import { pickEndpoint, type Endpoint } from './balancer.js';
import { clusterStat, type StatSink } from './counters.js';
import { NODE_OUTLIER_TIMERS, OutlierDetector, type OutlierTimers } from './outlier-detector.js';
import { RetryBudget, isReplayable, isRetriableFailure, isRetriableStatus } from './retry-policy.js';
import { UpstreamOverflowError, classifyUpstreamError } from './upstream-errors.js';

/** How long a replica that refused a connection or announced it is closing gets no new requests (a readiness probe's period). */
export const UNREADY_HOLD_MS = 1_000;

/** The whole-request deadline (trafficPolicy.timeoutMs) passed before a try could start, or a try outlived its bound. */
class TryTimeoutError extends Error {
  readonly code = 'MESHGW_UPSTREAM_TIMEOUT';
}

/** Hoisted: the per-try timer's callback, given the try's controller as its argument. */
function abortTry(controller: AbortController): void {
  controller.abort();
}

export interface ClusterDeps {
  stats: StatSink;
  nowMs: () => number;
  random: () => number;
  /** Outlier detection's timers; Node's, on the nowMs clock, unless a test drives them. */
  outlierTimers?: OutlierTimers;
}

/** Any upstream a proxy can send to: an undici Dispatcher, or a cluster of replicas. */
export interface RequestTarget {
  request(opts: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
}

function discard(): void {}

export class UpstreamCluster implements RequestTarget {
  readonly #outliers: OutlierDetector;
  readonly #budget: RetryBudget | undefined;
  readonly #capacity: number;
  /** Requests in the cluster now, until their answer's headers (the retry budget's "active requests"). */
  #active = 0;
  readonly #stat: {
    retry: string;
    retryOverflow: string;
    timeout: string;
    perTryTimeout: string;
    pendingOverflow: string;
  };

  constructor(
    readonly name: string,
    readonly endpoints: readonly Endpoint[],
    private readonly policy: TrafficPolicy | undefined,
    /** Connections at most in each replica's pool. */
    connectionsPerEndpoint: number,
    private readonly deps: ClusterDeps,
  ) {
    const stat = (s: string) => clusterStat(name, s);
    this.#stat = {
      retry: stat('upstream_rq_retry'),
      retryOverflow: stat('upstream_rq_retry_overflow'),
      timeout: stat('upstream_rq_timeout'),
      perTryTimeout: stat('upstream_rq_per_try_timeout'),
      pendingOverflow: stat('upstream_rq_pending_overflow'),
    };
    this.#outliers = new OutlierDetector(policy?.outlierDetection, {
      sink: deps.stats,
      active: stat('outlier_detection.ejections_active'),
      enforced: stat('outlier_detection.ejections_enforced_total'),
    }, { timers: deps.outlierTimers ?? { ...NODE_OUTLIER_TIMERS, nowMs: deps.nowMs } });
    for (const e of endpoints) this.#outliers.add(e.outlier);
    this.#budget = policy ? new RetryBudget(policy.retries) : undefined;
    // Envoy's circuit breaker: connections in every replica's pool plus the pending queue.
    this.#capacity = policy ? endpoints.length * connectionsPerEndpoint + policy.connectionPool.maxPendingRequests : Infinity;
  }

  /** Replicas ejected by outlier detection now. */
  get ejected(): number {
    return this.#outliers.ejectedCount;
  }

  /** Sends a request to the best replica, retrying as the policy allows; rejects with the last failure. */
  async request(opts: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
    if (this.#inFlight() >= this.#capacity) {
      this.deps.stats.inc(this.#stat.pendingOverflow);
      throw new UpstreamOverflowError(this.name);
    }
    this.#active++;
    try {
      return await this.#send(opts);
    } finally {
      this.#active--;
    }
  }

  /** Stops ejection timers (the gauge returns to zero); pools are closed by their owner. */
  close(): void {
    this.#outliers.close();
  }

  #inFlight(): number {
    let n = 0;
    for (const e of this.endpoints) n += e.active;
    return n;
  }

  async #send(opts: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
    const { deps, policy } = this;
    const retries = policy && isReplayable(opts) ? policy.retries.attempts : 0;
    const deadline = policy ? deps.nowMs() + policy.timeoutMs : Infinity;
    const signal = opts.signal as AbortSignal | undefined;
    let previous: Endpoint | undefined;
    let retrying = false;
    for (let attempt = 0; ; attempt++) {
      const now = deps.nowMs();
      const remaining = deadline - now;
      if (remaining <= 0) {
        this.deps.stats.inc(this.#stat.timeout);
        throw new TryTimeoutError(`cluster ${this.name}: no answer within ${policy?.timeoutMs} ms`);
      }
      const endpoint = pickEndpoint(this.endpoints, now, previous, deps.random);
      // The per-try bound, unless the whole request's deadline comes first (then that is what ran
      // out). Our own timer: undici's headersTimeout ticks in whole seconds.
      const byDeadline = policy !== undefined && remaining <= policy.retries.perTryTimeoutMs;
      let tryOpts = opts;
      let timer: NodeJS.Timeout | undefined;
      let tryAbort: AbortController | undefined;
      if (policy) {
        tryAbort = new AbortController();
        timer = setTimeout(abortTry, Math.ceil(Math.min(policy.retries.perTryTimeoutMs, remaining)), tryAbort);
        tryOpts = { ...opts, signal: signal ? AbortSignal.any([signal, tryAbort.signal]) : tryAbort.signal };
      }
      endpoint.active++;
      deps.stats.inc(endpoint.rqTotalStat);
      let answer: Dispatcher.ResponseData | undefined;
      let error: unknown;
      try {
        answer = await endpoint.pool.request(tryOpts);
      } catch (err) {
        error = tryAbort?.signal.aborted && !signal?.aborted ? new TryTimeoutError(`cluster ${this.name}: no answer's headers within the try's bound`) : err;
      }
      clearTimeout(timer);
      if (retrying) {
        this.#budget!.release();
        retrying = false;
      }
      if (answer) {
        answer.body.once('close', endpoint.release);
        if (answer.headers.connection === 'close') endpoint.unreadyUntil = deps.nowMs() + UNREADY_HOLD_MS;
        if (answer.statusCode >= 500) this.#outliers.error(endpoint.outlier);
        else this.#outliers.success(endpoint.outlier);
        if (attempt >= retries || !isRetriableStatus(answer.statusCode) || !this.#mayRetry()) return answer;
        answer.body.dump().catch(discard);
      } else {
        endpoint.active--;
        // The caller gave up (its client went away): nothing to retry, nothing the replica did wrong.
        if (signal?.aborted) throw error;
        const failure = classifyUpstreamError(error);
        if (failure.code === 'UPSTREAM_UNAVAILABLE') endpoint.unreadyUntil = deps.nowMs() + UNREADY_HOLD_MS;
        this.#outliers.error(endpoint.outlier);
        const timedOut = failure.code === 'UPSTREAM_TIMEOUT';
        if (timedOut && policy && !byDeadline) deps.stats.inc(this.#stat.perTryTimeout);
        if (attempt >= retries || (timedOut && byDeadline) || !isRetriableFailure(failure) || !this.#mayRetry()) {
          if (timedOut) deps.stats.inc(this.#stat.timeout);
          throw error;
        }
      }
      deps.stats.inc(this.#stat.retry);
      retrying = true;
      previous = endpoint;
    }
  }

  #mayRetry(): boolean {
    if (this.#budget!.tryAcquire(this.#active)) return true;
    this.deps.stats.inc(this.#stat.retryOverflow);
    return false;
  }
}
