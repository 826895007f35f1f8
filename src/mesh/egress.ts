/**
 * Egress: one plain-HTTP listener per backend the app may call, on a Unix socket in the folder
 * only the app and this sidecar share; each request goes out through the mesh client (mTLS from a
 * warm keep-alive pool, the server proving the SPIFFE ID we meant to reach).
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MeshClient, MeshClientEvents } from '../dataplane/mesh-client.js';
import { forwardRequest, sendJsonError } from '../dataplane/forward.js';
import { errorCode, upstreamTlsStat } from '../dataplane/upstream-errors.js';
import { PEER_IDENTITY_HEADER } from '../config/defaults.js';
import type { SidecarLog } from './log.js';
import type { EgressListener } from './spec.js';
import { Stat, clusterStat, handshakeByPeer, type Counters } from './stats.js';

/** Only the callee's sidecar vouches for a caller: an app's own copy of the identity header is dropped. */
const DROPPED = new Set([PEER_IDENTITY_HEADER]);

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
}

export function createEgressServer(opts: EgressServerOptions): http.Server {
  const { counters, log, listener } = opts;
  const backend = listener.backend;
  const total = clusterStat(backend, 'upstream_rq_total');
  const errors = clusterStat(backend, 'upstream_rq_error');
  const forwardOptions = { drop: DROPPED };
  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    counters.inc(total);
    const result = await forwardRequest(req, res, opts.client().dispatcher(backend)!, forwardOptions);
    if (result.type === 'failed') {
      counters.inc(errors);
      sendJsonError(res, result.failure.status, result.failure.code, `${backend} (${listener.upstream.origin}) could not be reached over mTLS: ${result.error}`);
    }
    log({
      event: 'request',
      direction: 'egress',
      workload: opts.workload,
      backend,
      upstream: listener.upstream.expectedSpiffeId,
      method: req.method,
      path: req.url,
      status: result.type === 'proxied' ? result.status : result.failure.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...(result.type === 'failed' ? { error: result.failure.code, detail: result.error } : {}),
    });
  }
  server.on('clientError', (err, socket) => {
    log({ event: 'client-error', direction: 'egress', workload: opts.workload, backend, error: errorCode(err) });
    socket.destroy();
  });
  return server;
}
