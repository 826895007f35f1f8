/**
 * Egress: a plain-HTTP listener on loopback per backend the app may call; each request goes out
 * over mTLS from a keep-alive pool, and the server must prove the SPIFFE ID we meant to reach.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PeerCertificate } from 'node:tls';
import { Pool } from 'undici';
import type { EgressListener } from '../local/specs.js';
import { parseSubjectAltName } from '../pki/describe.js';
import type { TlsMaterial } from './credentials.js';
import { forwardRequest, sendJsonError } from './forward.js';
import type { SidecarLog } from './log.js';
import { Stat, clusterStat, handshakeByPeer, type Counters } from './stats.js';
import { SAN_MISMATCH_CODE, errorCode, upstreamTlsStat } from './tls-errors.js';

export interface UpstreamPoolOptions {
  backend: string;
  origin: string;
  expectedSpiffeId: string;
  material: TlsMaterial;
  counters: Counters;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  connections?: number;
}

/**
 * Node's default hostname check would compare 127.0.0.1 with the DNS SAN; in a mesh the name that
 * matters is the SPIFFE ID (Envoy's match_subject_alt_names / Istio's secure naming).
 */
export function spiffeIdentityCheck(expected: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const uris = parseSubjectAltName(cert.subjectaltname).uris;
    if (uris.includes(expected)) return undefined;
    const err = new Error(`upstream presented ${uris.length > 0 ? uris.join(', ') : 'no SPIFFE ID'}, expected ${expected}`) as Error & { code: string };
    err.code = SAN_MISMATCH_CODE;
    return err;
  };
}

/** A keep-alive mTLS pool to one upstream; new connections and refused ones are counted. */
export function createUpstreamPool(opts: UpstreamPoolOptions): Pool {
  const { counters, backend } = opts;
  const pool = new Pool(opts.origin, {
    connections: opts.connections ?? 32,
    connectTimeout: opts.connectTimeoutMs,
    headersTimeout: opts.requestTimeoutMs,
    bodyTimeout: opts.requestTimeoutMs,
    keepAliveTimeout: 30_000,
    connect: {
      ca: opts.material.ca,
      cert: opts.material.cert,
      key: opts.material.key,
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
      checkServerIdentity: spiffeIdentityCheck(opts.expectedSpiffeId),
      // Every connection does a full mutual handshake: a resumed session would skip verifying
      // the peer against the current CA and would hide handshakes from the counters.
      maxCachedSessions: 0,
    },
  });
  pool.on('connect', () => {
    counters.inc(clusterStat(backend, Stat.handshake));
    counters.inc(clusterStat(backend, handshakeByPeer(opts.expectedSpiffeId)));
  });
  pool.on('connectionError', (_origin, _targets, err) => {
    const stat = upstreamTlsStat(err);
    if (stat) counters.inc(clusterStat(backend, stat));
  });
  return pool;
}

export interface EgressServerOptions {
  workload: string;
  listener: EgressListener;
  pool: () => Pool;
  counters: Counters;
  log: SidecarLog;
}

export function createEgressServer(opts: EgressServerOptions): http.Server {
  const { counters, log, listener } = opts;
  const backend = listener.backend;
  const total = clusterStat(backend, 'upstream_rq_total');
  const errors = clusterStat(backend, 'upstream_rq_error');
  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    counters.inc(total);
    const result = await forwardRequest(req, res, opts.pool());
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
