/**
 * What a failed upstream request means, for every mesh client alike: the status a caller gets
 * (502 identity or TLS, 503 unreachable, 504 too slow) and, for a failed connection, the TLS
 * counter it adds to in Envoy's vocabulary.
 */
import { SAN_MISMATCH_CODE } from './identity.js';

/** X.509 verification results that mean "the certificate did not verify against the mesh CA". */
export const VERIFY_ERROR_CODES: ReadonlySet<string> = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'ERR_SSL_CERTIFICATE_VERIFY_FAILED',
  // OpenSSL verification failures Node has no name for, e.g. a chain through a leaf that is no CA.
  'UNSPECIFIED',
]);

export interface UpstreamFailure {
  status: 502 | 503 | 504;
  code: 'UPSTREAM_IDENTITY_MISMATCH' | 'UPSTREAM_TLS_FAILED' | 'UPSTREAM_UNAVAILABLE' | 'UPSTREAM_TIMEOUT' | 'UPSTREAM_RESET' | 'UPSTREAM_OVERFLOW';
}

/** The code of the error a mesh client throws when a cluster's connection pool and pending queue are full. */
export const OVERFLOW_CODE = 'MESHGW_UPSTREAM_OVERFLOW';

/** Thrown at once, without queueing, when a cluster is past maxConnections + maxPendingRequests (Envoy's UO). */
export class UpstreamOverflowError extends Error {
  readonly code = OVERFLOW_CODE;
  constructor(cluster: string) {
    super(`cluster ${cluster}: connection pool and pending queue full`);
  }
}

/** Envoy's names for a refused upstream connection (cluster.<name>.ssl.*). */
export type UpstreamTlsStat = 'ssl.fail_verify_san' | 'ssl.fail_verify_error' | 'ssl.connection_error';

const TIMEOUT_CODES = new Set(['MESHGW_UPSTREAM_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

/** The error's own code, else its message. */
export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string') return e.code;
  return typeof e?.message === 'string' ? e.message : String(err);
}

/** The first code along the cause chain (undici wraps socket errors), else the error's class name; for logs. */
export function rootErrorCode(err: unknown): string | undefined {
  let e = err as { code?: unknown; name?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string') return e.code;
    if (e.cause === undefined && typeof e.name === 'string' && e.name !== 'Error') return e.name;
    e = e.cause as typeof e;
  }
  return undefined;
}

/** Error codes of `err` and its causes, bounded against cycles. */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && !seen.has(e) && seen.size < 5; e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    codes.push(errorCode(e));
  }
  return codes;
}

/** Maps a failed upstream request to the status its caller sees (502 identity/TLS, 503 down, 504 slow). */
export function classifyUpstreamError(err: unknown): UpstreamFailure {
  for (const code of codesOf(err)) {
    if (code === OVERFLOW_CODE) return { status: 503, code: 'UPSTREAM_OVERFLOW' };
    if (code === SAN_MISMATCH_CODE) return { status: 502, code: 'UPSTREAM_IDENTITY_MISMATCH' };
    if (VERIFY_ERROR_CODES.has(code) || code.startsWith('ERR_SSL_')) return { status: 502, code: 'UPSTREAM_TLS_FAILED' };
    if (TIMEOUT_CODES.has(code)) return { status: 504, code: 'UPSTREAM_TIMEOUT' };
    if (UNAVAILABLE_CODES.has(code)) return { status: 503, code: 'UPSTREAM_UNAVAILABLE' };
  }
  return { status: 502, code: 'UPSTREAM_RESET' };
}

/** The TLS counter a failed upstream connection adds to (counted once per connection), if any. */
export function upstreamTlsStat(err: unknown): UpstreamTlsStat | undefined {
  for (const code of codesOf(err)) {
    if (code === SAN_MISMATCH_CODE) return 'ssl.fail_verify_san';
    if (VERIFY_ERROR_CODES.has(code)) return 'ssl.fail_verify_error';
    if (code.startsWith('ERR_SSL_')) return 'ssl.connection_error';
  }
  return undefined;
}

/**
 * What a caller outside the sidecar is told about a failed upstream, in Envoy's words: never the
 * error itself, which names internal addresses and socket paths (those stay in the sidecar's log).
 */
export function upstreamFailureReason(failure: UpstreamFailure): string {
  switch (failure.code) {
    case 'UPSTREAM_TIMEOUT':
      return 'upstream request timeout';
    case 'UPSTREAM_UNAVAILABLE':
      return 'upstream connect error or disconnect/reset before headers. reset reason: connection failure';
    case 'UPSTREAM_TLS_FAILED':
    case 'UPSTREAM_IDENTITY_MISMATCH':
      return 'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error';
    case 'UPSTREAM_RESET':
      return 'upstream connect error or disconnect/reset before headers. reset reason: connection termination';
    case 'UPSTREAM_OVERFLOW':
      return OVERFLOW_REASON;
  }
}

/** Envoy's local reply when a circuit breaker's pending queue is full (response flag UO). */
export const OVERFLOW_REASON = 'upstream connect error or disconnect/reset before headers. reset reason: overflow';

/** A one-line description: code, message and the inner cause's code. */
export function describeUpstreamError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const inner = e?.cause?.code ?? e?.cause?.message;
  return [e?.code, e?.message, inner && inner !== e?.code ? `(${inner})` : undefined].filter(Boolean).join(' ');
}
