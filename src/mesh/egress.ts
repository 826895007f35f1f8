/**
 * Egress: one plain-HTTP listener per backend the app may call, on a Unix socket in the folder
 * only the app and this sidecar share; each request goes out through the mesh client (mTLS from a
 * warm keep-alive pool, the server proving the SPIFFE ID we meant to reach).
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MeshClient, MeshClientEvents } from '../dataplane/mesh-client.js';
import { answerClientError } from '../dataplane/client-error.js';
import { errorCode, upstreamTlsStat } from '../dataplane/upstream-errors.js';
import { CLIENT_CERT_HEADER, PEER_IDENTITY_HEADER } from '../config/defaults.js';
import { forwardGuarded, type GuardedOutcome } from './guarded-forward.js';
import type { SidecarLog } from './log.js';
import type { EgressListener } from './spec.js';
import { Stat, clusterStat, egressStat, handshakeByPeer, type Counters } from './stats.js';
import type { CircuitBreaker, StreamTimeouts } from './stream-guard.js';
import { outcomeFlags, type EgressTelemetry } from './telemetry.js';

/**
 * Bodies up to this size are read whole before they go upstream, so that a retry can send them
 * again (Envoy buffers for retries up to per_request_buffer_limit_bytes, 16 KiB by default; an
 * order is well under this); longer or chunked bodies stream and are never retried.
 */
export const REPLAYABLE_BODY_BYTES = 64 * 1024;

/** Only the callee's sidecar vouches for a caller: an app's own copies of the identity headers are dropped. */
const DROPPED = new Set([PEER_IDENTITY_HEADER, CLIENT_CERT_HEADER]);

/** The mesh client's counters hook: Envoy's cluster.<backend>.ssl.* stats. */
export function egressCounters(counters: Counters): MeshClientEvents {
  return {
    connected(backend, upstream) {
      counters.inc(clusterStat(backend, Stat.handshake));
      counters.inc(clusterStat(backend, handshakeByPeer(upstream.expectedSpiffeId)));
    },
    failed(backend, _upstream, err) {
      const stat = upstreamTlsStat(err);
      if (stat) counters.inc(clusterStat(backend, stat));
    },
  };
}

export interface EgressServerOptions {
  workload: string;
  listener: EgressListener;
  client: () => MeshClient;
  counters: Counters;
  log: SidecarLog;
  timeouts: StreamTimeouts;
  /** Bounds the requests in flight to this backend (its pool's connections + max_pending_requests). */
  breaker: CircuitBreaker;
  /** Istio's metrics (reporter="source") for this backend; nothing recorded when unset. */
  telemetry?: EgressTelemetry;
}

export function createEgressServer(opts: EgressServerOptions): http.Server {
  const { counters, log, listener } = opts;
  const backend = listener.backend;
  const total = clusterStat(backend, 'upstream_rq_total');
  const errors = clusterStat(backend, 'upstream_rq_error');
  const overflow = clusterStat(backend, 'upstream_rq_pending_overflow');
  const idleTimeout = egressStat(backend, 'downstream_rq_idle_timeout');
  const requestTimeout = egressStat(backend, 'downstream_rq_timeout');
  const guardOptions = { timeouts: opts.timeouts, breaker: opts.breaker, forward: { drop: DROPPED, replayableBodyBytes: REPLAYABLE_BODY_BYTES } };
  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => void handle(req, res));

  function count(outcome: GuardedOutcome): void {
    if (outcome.type === 'proxied') return;
    if (outcome.type === 'overflow') return counters.inc(overflow);
    if (outcome.type === 'timed-out') return counters.inc(outcome.timeout === 'idle' ? idleTimeout : requestTimeout);
    // Timeouts and the cluster's own overflow are counted by the mesh client (cluster.ts), which knows which kind it was.
    counters.inc(errors);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    counters.inc(total);
    const outcome = await forwardGuarded(req, res, opts.client().dispatcher(backend)!, guardOptions);
    count(outcome);
    const edge = opts.telemetry && (outcome.type === 'proxied' ? opts.telemetry.upstream : opts.telemetry.local);
    edge?.record(outcome.status, outcomeFlags(outcome), performance.now() - started, req.socket);
    log({
      event: 'request',
      direction: 'egress',
      workload: opts.workload,
      backend,
      upstream: listener.upstream.expectedSpiffeId,
      method: req.method,
      path: req.url,
      status: outcome.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...(outcome.type === 'proxied' ? {} : { error: outcome.type === 'failed' ? outcome.failure.code : outcome.type }),
      // The detail (addresses, socket paths) stays in this log; the app got Envoy's generic reason.
      ...(outcome.type === 'failed' ? { detail: `${listener.upstream.origin}: ${outcome.detail}` } : outcome.type === 'timed-out' ? { timeout: outcome.timeout } : {}),
    });
  }
  server.on('clientError', (err, socket) => {
    log({ event: 'client-error', direction: 'egress', workload: opts.workload, backend, error: errorCode(err) });
    answerClientError(err, socket);
  });
  return server;
}
