/**
 * Turning Node / OpenSSL errors into Envoy's refusal reasons and into the HTTP answer a sidecar
 * gives its app when an upstream cannot be reached.
 */
import { Stat, type TlsRefusalStat } from './stats.js';

/** X.509 verification results that mean "the certificate did not verify against the mesh CA". */
const VERIFY_ERROR_CODES = new Set([
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
]);

/** OpenSSL's "peer did not return a certificate" under requestCert + rejectUnauthorized. */
const NO_CERT_CODES = new Set(['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED']);

export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string') return e.code;
  return typeof e?.message === 'string' ? e.message : String(err);
}

/**
 * Why the inbound listener refused a connection ('tlsClientError'). Anything that is not a
 * certificate verdict, plaintext HTTP included (ERR_SSL_HTTP_REQUEST), is a connection error, as
 * Envoy counts it.
 */
export function classifyInboundTlsError(err: unknown): TlsRefusalStat {
  const code = errorCode(err);
  if (NO_CERT_CODES.has(code)) return Stat.failVerifyNoCert;
  if (VERIFY_ERROR_CODES.has(code)) return Stat.failVerifyError;
  return Stat.connectionError;
}

/** Marks the error our checkServerIdentity returns when the upstream is someone else. */
export const SAN_MISMATCH_CODE = 'ERR_MESH_SAN_MISMATCH';

export interface UpstreamFailure {
  status: 502 | 503 | 504;
  code: 'UPSTREAM_IDENTITY_MISMATCH' | 'UPSTREAM_TLS_FAILED' | 'UPSTREAM_UNAVAILABLE' | 'UPSTREAM_TIMEOUT' | 'UPSTREAM_RESET';
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EADDRNOTAVAIL', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

/** Error codes of `err` and its causes (undici wraps socket errors), bounded against cycles. */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && !seen.has(e) && seen.size < 5; e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    codes.push(errorCode(e));
  }
  return codes;
}

/** Maps a failed upstream request to the status the app sees (502 identity/TLS, 503 down, 504 slow). */
export function classifyUpstreamError(err: unknown): UpstreamFailure {
  for (const code of codesOf(err)) {
    if (code === SAN_MISMATCH_CODE) return { status: 502, code: 'UPSTREAM_IDENTITY_MISMATCH' };
    if (VERIFY_ERROR_CODES.has(code) || code.startsWith('ERR_SSL_')) return { status: 502, code: 'UPSTREAM_TLS_FAILED' };
    if (TIMEOUT_CODES.has(code)) return { status: 504, code: 'UPSTREAM_TIMEOUT' };
    if (UNAVAILABLE_CODES.has(code)) return { status: 503, code: 'UPSTREAM_UNAVAILABLE' };
  }
  return { status: 502, code: 'UPSTREAM_RESET' };
}

/** The egress TLS counter a failed upstream connection adds to (counted once per connection). */
export function upstreamTlsStat(err: unknown): string | undefined {
  for (const code of codesOf(err)) {
    if (code === SAN_MISMATCH_CODE) return Stat.failVerifySan;
    if (VERIFY_ERROR_CODES.has(code)) return Stat.failVerifyError;
    if (code.startsWith('ERR_SSL_')) return Stat.connectionError;
  }
  return undefined;
}
