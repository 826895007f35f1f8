/**
 * The STRICT inbound listener: TLS that demands a client certificate chained to the mesh CA, then
 * authorization by the caller's SPIFFE ID, then a plain-HTTP hop to the app on loopback.
 * Refusals happen in the handshake (rejectUnauthorized), so a bad client sees a TLS failure, as
 * with Envoy; each is counted by reason from the error's code.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Dispatcher } from 'undici';
import { PEER_IDENTITY_HEADER } from '../config/defaults.js';
import { parseSubjectAltName } from '../pki/describe.js';
import { forwardRequest, sendJsonError } from '../dataplane/forward.js';
import type { TlsMaterial } from '../dataplane/tls-material.js';
import { errorCode } from '../dataplane/upstream-errors.js';
import type { SidecarLog } from './log.js';
import { Stat, allowedByPeer, handshakeByPeer, type Counters } from './stats.js';
import { classifyInboundTlsError } from './tls-errors.js';

/** STRICT demands and verifies a client certificate; PERMISSIVE (a misconfiguration, for tests) does not. */
export type InboundMode = 'STRICT' | 'PERMISSIVE';

export const INBOUND_MIN_VERSION = 'TLSv1.2';
/** Longer than the mesh client's own idle timeout, so the client (which knows) is the side that closes. */
export const INBOUND_KEEP_ALIVE_MS = 330_000;

export interface InboundOptions {
  workload: string;
  allowedCallers: string[];
  material: TlsMaterial;
  mode: InboundMode;
  app: () => Dispatcher;
  counters: Counters;
  log: SidecarLog;
  handshakeTimeoutMs: number;
  /** Told about every refusal, for the admin's /refusals list. */
  onRefused?: (refusal: Refusal) => void;
}

export interface Refusal {
  time: string;
  reason: string;
  /** The OpenSSL / X.509 code (CERT_HAS_EXPIRED, ...) or the denied identity. */
  error: string;
}

/** The verified SPIFFE ID of the peer on a TLS socket (first SAN URI), if its certificate verified. */
export function verifiedPeerIdentity(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  return parseSubjectAltName(socket.getPeerCertificate().subjectaltname).uris[0];
}

export function createInboundServer(opts: InboundOptions): https.Server {
  const { counters, log } = opts;
  const allowed = new Set(opts.allowedCallers);
  const identities = new WeakMap<TLSSocket, string | undefined>();
  const server = https.createServer({
    ca: opts.material.ca,
    cert: opts.material.cert,
    key: opts.material.key,
    minVersion: INBOUND_MIN_VERSION,
    requestCert: true,
    rejectUnauthorized: opts.mode === 'STRICT',
    handshakeTimeout: opts.handshakeTimeoutMs,
    // Connections are long-lived keep-alive sessions from the gateway and other sidecars, kept
    // warm on purpose: closing them after a short idle time would make the next burst pay handshakes.
    keepAliveTimeout: INBOUND_KEEP_ALIVE_MS,
  });

  server.on('secureConnection', (socket: TLSSocket) => {
    const identity = verifiedPeerIdentity(socket);
    identities.set(socket, identity);
    counters.inc(Stat.handshake);
    if (identity) counters.inc(handshakeByPeer(identity));
  });

  server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
    // A certificate that fails verification is rejected after OpenSSL's handshake, in Node's
    // TLS wrap, which destroys the socket with no error of its own: the event then carries a
    // generic ECONNRESET and the real verdict is the socket's authorizationError.
    const verdict = (socket as TLSSocket & { authorizationError?: string }).authorizationError;
    const code = verdict ?? errorCode(err);
    const stat = classifyInboundTlsError({ code });
    counters.inc(stat);
    opts.onRefused?.({ time: new Date().toISOString(), reason: stat, error: code });
    log({ event: 'refused', direction: 'inbound', workload: opts.workload, reason: stat, error: code });
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    counters.inc(Stat.inboundRequests);
    const identity = identities.get(req.socket as TLSSocket);
    if (!identity || !allowed.has(identity)) {
      counters.inc(Stat.rbacDenied);
      opts.onRefused?.({ time: new Date().toISOString(), reason: Stat.rbacDenied, error: identity ?? 'no verified identity' });
      log({ event: 'refused', direction: 'inbound', workload: opts.workload, reason: Stat.rbacDenied, peer: identity ?? null, method: req.method, path: req.url });
      req.resume();
      sendJsonError(res, 403, 'RBAC_DENIED', `${identity ?? 'a caller without a verified identity'} may not call ${opts.workload}`);
      return;
    }
    counters.inc(Stat.rbacAllowed);
    counters.inc(allowedByPeer(identity));
    // Overwrites any client-supplied copy: only the sidecar vouches for the caller.
    const result = await forwardRequest(req, res, opts.app(), { set: { [PEER_IDENTITY_HEADER]: identity } });
    if (result.type === 'failed') {
      counters.inc(Stat.inboundAppErrors);
      sendJsonError(res, result.failure.status, result.failure.code, `the ${opts.workload} app did not answer: ${result.error}`);
    }
    log({
      event: 'request',
      direction: 'inbound',
      workload: opts.workload,
      peer: identity,
      method: req.method,
      path: req.url,
      status: result.type === 'proxied' ? result.status : result.failure.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    });
  }

  return server;
}

/** Swaps the listener's certificate and trust without closing it: new handshakes use the new files. */
export function reloadInbound(server: https.Server, material: TlsMaterial): void {
  server.setSecureContext({ ca: material.ca, cert: material.cert, key: material.key, minVersion: INBOUND_MIN_VERSION });
}
