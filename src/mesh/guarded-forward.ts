/**
 * One proxied request through a sidecar, under Envoy's stream timeouts and circuit breaker:
 * admitted or refused with 503 (overflow), forwarded with its timers running, and answered in
 * JSON when it fails. The caller counts and logs from the outcome; the client never sees internal
 * addresses (those are in `detail`, for the log only).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestTarget } from '../dataplane/cluster.js';
import { forwardRequest, requestHasBody, sendJsonError, type ForwardOptions } from '../dataplane/forward.js';
import { OVERFLOW_REASON, upstreamFailureReason, type UpstreamFailure } from '../dataplane/upstream-errors.js';
import { GuardedStream, type CircuitBreaker, type StreamTimeout, type StreamTimeouts } from './stream-guard.js';

export type GuardedOutcome =
  | { type: 'proxied'; status: number }
  | { type: 'overflow'; status: 503 }
  | { type: 'timed-out'; timeout: StreamTimeout; status: 408 | 504 }
  | { type: 'failed'; status: number; failure: UpstreamFailure; detail: string };

export interface GuardedForwardOptions {
  timeouts: StreamTimeouts;
  breaker: CircuitBreaker;
  forward: Pick<ForwardOptions, 'drop' | 'set' | 'replayableBodyBytes'>;
}


/** Forwards `req` to `dispatcher` under the stream's limits and answers every failure; never throws. */
export async function forwardGuarded(req: IncomingMessage, res: ServerResponse, dispatcher: RequestTarget, opts: GuardedForwardOptions): Promise<GuardedOutcome> {
  if (!opts.breaker.tryAcquire()) {
    // Part of the body may still be on the wire: close after answering rather than parse it as a request.
    sendJsonError(res, 503, 'UPSTREAM_OVERFLOW', OVERFLOW_REASON, requestHasBody(req));
    return { type: 'overflow', status: 503 };
  }
  const stream = new GuardedStream(req, res, opts.timeouts);
  try {
    const result = await forwardRequest(req, res, dispatcher, { ...opts.forward, body: stream.body, signal: stream.signal });
    if (result.type === 'proxied') return result;
    const timeout = stream.timedOut;
    if (timeout) {
      // Envoy answers 408 while the request is still arriving and 504 once it was all sent upstream.
      const status = timeout === 'request' || !stream.requestComplete ? 408 : 504;
      sendJsonError(res, status, timeout === 'idle' ? 'STREAM_IDLE_TIMEOUT' : 'REQUEST_TIMEOUT', timeout === 'idle' ? 'stream timeout' : 'request timeout', true);
      return { type: 'timed-out', timeout, status };
    }
    sendJsonError(res, result.failure.status, result.failure.code, upstreamFailureReason(result.failure), !req.complete);
    return { type: 'failed', status: result.failure.status, failure: result.failure, detail: result.error };
  } finally {
    stream.done();
    opts.breaker.release();
  }
}
