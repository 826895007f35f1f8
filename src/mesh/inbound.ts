/**
 * The STRICT inbound listener: TLS that demands a client certificate chained to the mesh CA and
 * naming exactly one SPIFFE ID, then authorization by that ID, then a plain-HTTP hop to the app on
 * its private socket. Refusals happen in the handshake (rejectUnauthorized), so a bad client sees a
 * TLS failure, as with Envoy; each is counted by reason from the error's code.
 */
import https from 'node:https';
import { finished } from 'node:stream/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Dispatcher } from 'undici';
import { CLIENT_CERT_HEADER, PEER_IDENTITY_HEADER } from '../config/defaults.js';
import { answerClientError } from '../dataplane/client-error.js';
import { requestHasBody, sendJsonError } from '../dataplane/forward.js';
import { peerUris } from '../dataplane/identity.js';
import type { TlsMaterial } from '../dataplane/tls-material.js';
import { meshSecureContextOptions } from '../dataplane/tls-settings.js';
import { errorCode } from '../dataplane/upstream-errors.js';
import { ResponseFlag, joinFlags } from '../metrics/response-flags.js';
import { injectDelay, type FaultSwitch } from './fault.js';
import { forwardGuarded, type GuardedOutcome } from './guarded-forward.js';
import type { SidecarLog } from './log.js';
import { Stat, allowedByPeer, handshakeByPeer, type Counters } from './stats.js';
import type { CircuitBreaker, StreamTimeouts } from './stream-guard.js';
import { outcomeFlags, type InboundTelemetry } from './telemetry.js';
import { classifyInboundTlsError } from './tls-errors.js';
import { formatXfcc } from './xfcc.js';

/** STRICT demands and verifies a client certificate; PERMISSIVE (a misconfiguration, for tests) does not. */
export type InboundMode = 'STRICT' | 'PERMISSIVE';

export { MESH_TLS_MIN_VERSION as INBOUND_MIN_VERSION } from '../dataplane/tls-settings.js';
/** Longer than the mesh client's own idle timeout, so the client (which knows) is the side that closes. */
export const INBOUND_KEEP_ALIVE_MS = 330_000;

/** Client copies of these never reach the app: XFCC is replaced by the sidecar's own, the old identity header dropped. */
const DROPPED = new Set([PEER_IDENTITY_HEADER, CLIENT_CERT_HEADER]);

export interface InboundOptions {
  workload: string;
  /** This workload's SPIFFE ID: XFCC's By. */
  spiffeId: string;
  allowedCallers: string[];
  material: TlsMaterial;
  mode: InboundMode;
  app: () => Dispatcher;
  counters: Counters;
  log: SidecarLog;
  handshakeTimeoutMs: number;
  timeouts: StreamTimeouts;
  /** Bounds the requests in flight to the app (max_connections + max_pending_requests). */
  appBreaker: CircuitBreaker;
  /** Told about every refusal, for the admin's /refusals list. */
  onRefused?: (refusal: Refusal) => void;
  /** Faults injected before the app (verify resilience); none when unset. */
  fault?: FaultSwitch;
  /** Istio's metrics (reporter="destination"); nothing recorded when unset. */
  telemetry?: InboundTelemetry;
}

export interface Refusal {
  time: string;
  reason: string;
  /** The OpenSSL / X.509 code (CERT_HAS_EXPIRED, ...) or the denied identity. */
  error: string;
}

/** A verified peer: its SPIFFE ID and the XFCC value the app gets for it. */
interface Peer {
  id: string;
  xfcc: string;
}

export function createInboundServer(opts: InboundOptions): https.Server {
  const { counters, log } = opts;
  const allowed = new Set(opts.allowedCallers);
  const peers = new WeakMap<TLSSocket, Peer>();
  const server = https.createServer({
    ...meshSecureContextOptions(opts.material),
    requestCert: true,
    rejectUnauthorized: opts.mode === 'STRICT',
    handshakeTimeout: opts.handshakeTimeoutMs,
    // Connections are long-lived keep-alive sessions from the gateway and other sidecars, kept
    // warm on purpose: closing them after a short idle time would make the next burst pay handshakes.
    keepAliveTimeout: INBOUND_KEEP_ALIVE_MS,
  });

  function refuse(reason: string, error: string, extra: Record<string, unknown> = {}): void {
    counters.inc(reason);
    opts.onRefused?.({ time: new Date().toISOString(), reason, error });
    log({ event: 'refused', direction: 'inbound', workload: opts.workload, reason, error, ...extra });
  }

  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.authorized) {
      const cert = socket.getPeerCertificate();
      const uris = peerUris(cert.subjectaltname);
      if (uris.type === 'ambiguous') {
        // A certificate naming several workloads is no SVID: refuse it as Envoy refuses a SAN mismatch.
        refuse(Stat.failVerifySan, `certificate has ${uris.uris.length} URI SANs`, { uris: uris.uris });
        socket.destroy();
        return;
      }
      if (uris.type === 'spiffe-id') peers.set(socket, { id: uris.id, xfcc: formatXfcc(opts.spiffeId, cert.raw, uris.id) });
    }
    const peer = peers.get(socket);
    counters.inc(Stat.handshake);
    if (peer) counters.inc(handshakeByPeer(peer.id));
    opts.telemetry?.connection(peer?.id, socket);
  });

  server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
    // A certificate that fails verification is rejected after OpenSSL's handshake, in Node's
    // TLS wrap, which destroys the socket with no error of its own: the event then carries a
    // generic ECONNRESET and the real verdict is the socket's authorizationError.
    const verdict = (socket as TLSSocket & { authorizationError?: string | null }).authorizationError ?? undefined;
    refuse(classifyInboundTlsError(err, verdict), verdict ?? errorCode(err));
  });

  server.on('clientError', answerClientError);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A connection refused after its handshake (an ambiguous certificate) can still deliver the
    // request that arrived with it: it was refused and counted already.
    if (req.socket.destroyed) return;
    const started = performance.now();
    counters.inc(Stat.inboundRequests);
    const peer = peers.get(req.socket as TLSSocket);
    if (!peer || !allowed.has(peer.id)) {
      counters.inc(Stat.rbacDenied);
      opts.onRefused?.({ time: new Date().toISOString(), reason: Stat.rbacDenied, error: peer?.id ?? 'no verified identity' });
      log({ event: 'refused', direction: 'inbound', workload: opts.workload, reason: Stat.rbacDenied, peer: peer?.id ?? null, method: req.method, path: req.url });
      req.resume();
      sendJsonError(res, 403, 'RBAC_DENIED', `${peer?.id ?? 'a caller without a verified identity'} may not call ${opts.workload}`);
      opts.telemetry?.request(peer?.id).record(403, ResponseFlag.none, performance.now() - started, req.socket);
      return;
    }
    counters.inc(Stat.rbacAllowed);
    counters.inc(allowedByPeer(peer.id));
    // Istio's fault filter: after authorization, before the app; first the delay, then the abort.
    const fault = opts.fault?.decide();
    if (fault && fault.delayMs > 0) {
      counters.inc(Stat.faultDelays);
      await injectDelay(fault.delayMs);
      // The caller gave up during the delay: nothing left to answer.
      if (res.destroyed) return;
    }
    if (fault && fault.abortStatus > 0) {
      counters.inc(Stat.faultAborts);
      // The body is read first, so that the answer can keep the connection: a `connection: close`
      // would tell the caller's balancer this replica is draining.
      req.resume();
      if (requestHasBody(req) && !req.complete) await finished(req).catch(ignore);
      if (res.destroyed) return;
      sendJsonError(res, fault.abortStatus, 'FAULT_ABORT', 'fault filter abort');
      opts.telemetry?.request(peer.id).record(fault.abortStatus, fault.delayMs > 0 ? joinFlags(ResponseFlag.delayInjected, ResponseFlag.faultInjected) : ResponseFlag.faultInjected, performance.now() - started, req.socket);
      log({ event: 'request', direction: 'inbound', workload: opts.workload, peer: peer.id, method: req.method, path: req.url, status: fault.abortStatus, error: 'fault-abort' });
      return;
    }
    // Sanitize, then set: only the sidecar vouches for the caller (Envoy's SANITIZE_SET).
    const outcome = await forwardGuarded(req, res, opts.app(), { timeouts: opts.timeouts, breaker: opts.appBreaker, forward: { drop: DROPPED, set: { [CLIENT_CERT_HEADER]: peer.xfcc } } });
    countOutcome(counters, outcome);
    const flags = outcomeFlags(outcome);
    opts.telemetry?.request(peer.id).record(outcome.status, fault && fault.delayMs > 0 ? joinFlags(ResponseFlag.delayInjected, flags) : flags, performance.now() - started, req.socket);
    log({
      event: 'request',
      direction: 'inbound',
      workload: opts.workload,
      peer: peer.id,
      method: req.method,
      path: req.url,
      status: outcome.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...(outcome.type === 'proxied' ? {} : { error: outcome.type === 'failed' ? outcome.failure.code : outcome.type }),
      ...(outcome.type === 'failed' ? { detail: outcome.detail } : outcome.type === 'timed-out' ? { timeout: outcome.timeout } : {}),
    });
  }

  return server;
}

function ignore(): void {}

/** Envoy's counters for what became of a request to the app. */
function countOutcome(counters: Counters, outcome: GuardedOutcome): void {
  if (outcome.type === 'proxied') return;
  if (outcome.type === 'overflow') return counters.inc(Stat.appPendingOverflow);
  if (outcome.type === 'timed-out') return counters.inc(outcome.timeout === 'idle' ? Stat.downstreamIdleTimeout : Stat.downstreamTimeout);
  counters.inc(Stat.inboundAppErrors);
  if (outcome.failure.code === 'UPSTREAM_TIMEOUT') counters.inc(Stat.appTimeout);
}

/** Swaps the listener's certificate and trust without closing it: new handshakes use the new files. */
export function reloadInbound(server: https.Server, material: TlsMaterial): void {
  server.setSecureContext(meshSecureContextOptions(material));
}
