/**
 * What keeps one slow client from holding a sidecar's connections to its app (issue 14): Envoy's
 * per-stream idle timeout and request timeout, and its circuit breaker's bound on pending
 * requests. A guarded stream owns the abort handle of its upstream request, so a timeout frees the
 * app connection at once instead of when Node's 300 s request timeout would.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { requestHasBody } from '../dataplane/forward.js';

export type StreamTimeout = 'idle' | 'request';

export interface StreamTimeouts {
  streamIdleTimeoutMs: number;
  requestTimeoutMs: number;
}

/** One proxied request's timers and the signal that aborts its upstream half. */
export class GuardedStream {
  readonly #abort = new AbortController();
  #timedOut: StreamTimeout | undefined;
  #requestTimer: NodeJS.Timeout | undefined;
  /** The body to send upstream: a pass-through, so that aborting the upstream request leaves the client's socket open for our answer. */
  readonly body: Readable | null;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    timeouts: StreamTimeouts,
  ) {
    // Socket inactivity in either direction (Node refreshes the timer on every read and write);
    // Node hands the socket back to keepAliveTimeout once the response is done.
    res.setTimeout(timeouts.streamIdleTimeoutMs, this.#onIdle);
    // A client that goes away mid-request must free the upstream connection now: the pass-through
    // below does not see the client's error, and a destroyed socket's idle timer never fires.
    res.once('close', this.#onClose);
    if (requestHasBody(req)) {
      this.#requestTimer = setTimeout(this.#onRequestTimeout, timeouts.requestTimeoutMs);
      req.once('end', this.#requestReceived);
      this.body = req.pipe(new PassThrough());
    } else {
      this.body = null;
    }
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Which timeout cut the stream, if one did. */
  get timedOut(): StreamTimeout | undefined {
    return this.#timedOut;
  }

  /** Whether the client had sent the whole request when the stream was cut (Envoy then answers 504, else 408). */
  get requestComplete(): boolean {
    return this.req.complete;
  }

  /**
   * Stops both timers; call when the exchange is over, however it ended. The socket's own timer is
   * left alone: Node re-arms it with keepAliveTimeout once the response is done, and without our
   * listener an expiry mid-response simply destroys the socket.
   */
  done(): void {
    clearTimeout(this.#requestTimer);
    this.res.off('timeout', this.#onIdle);
    this.res.off('close', this.#onClose);
  }

  readonly #onClose = (): void => {
    if (this.res.writableFinished) return;
    this.done();
    this.#abort.abort();
  };

  readonly #requestReceived = (): void => {
    clearTimeout(this.#requestTimer);
  };

  readonly #onIdle = (): void => this.#cut('idle');

  readonly #onRequestTimeout = (): void => this.#cut('request');

  #cut(kind: StreamTimeout): void {
    if (this.#timedOut) return;
    this.#timedOut = kind;
    this.done();
    this.#abort.abort();
  }
}

/**
 * Envoy's circuit breaker on one upstream: at most `maxConnections` requests hold a connection and
 * `maxPendingRequests` wait for one; anything beyond is refused at once (upstream_rq_pending_overflow)
 * instead of queueing without bound behind slow requests.
 */
export class CircuitBreaker {
  #active = 0;
  readonly #limit: number;

  constructor(maxConnections: number, maxPendingRequests: number) {
    this.#limit = maxConnections + maxPendingRequests;
  }

  /** Requests admitted and not yet released. */
  get active(): number {
    return this.#active;
  }

  /** Admits one request, or says no when the pending queue is full. */
  tryAcquire(): boolean {
    if (this.#active >= this.#limit) return false;
    this.#active++;
    return true;
  }

  release(): void {
    this.#active--;
  }
}
