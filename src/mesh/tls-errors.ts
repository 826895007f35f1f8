/**
 * Turning the inbound listener's TLS failures into Envoy's refusal reasons. Upstream failures
 * (what a mesh client sees) are classified in dataplane/upstream-errors.ts.
 */
import { VERIFY_ERROR_CODES, errorCode } from '../dataplane/upstream-errors.js';
import { Stat, type TlsRefusalStat } from './stats.js';

/** OpenSSL's "peer did not return a certificate" under requestCert + rejectUnauthorized. */
const NO_CERT_CODES = new Set(['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED']);

/**
 * Why the inbound listener refused a connection ('tlsClientError'). `verdict` is the socket's
 * authorizationError: whenever X.509 verification produced one, the certificate failed to verify
 * (fail_verify_error), whatever its code. OpenSSL reports some forgeries with codes Node has no
 * name for ("UNSPECIFIED": a chain through a leaf that is not a CA, for one). Anything else,
 * plaintext HTTP included (ERR_SSL_HTTP_REQUEST), is a connection error, as Envoy counts it.
 */
export function classifyInboundTlsError(err: unknown, verdict?: string): TlsRefusalStat {
  const code = verdict ?? errorCode(err);
  if (NO_CERT_CODES.has(code)) return Stat.failVerifyNoCert;
  if (VERIFY_ERROR_CODES.has(code) || (verdict !== undefined && isX509Verdict(verdict))) return Stat.failVerifyError;
  return Stat.connectionError;
}

/**
 * Node also copies handshake errors into authorizationError (ERR_SSL_HTTP_REQUEST for plaintext,
 * ECONNRESET); X.509 results are the other names (CERT_HAS_EXPIRED, UNSPECIFIED, ...).
 */
function isX509Verdict(code: string): boolean {
  return !code.startsWith('ERR_') && !/^E[A-Z]+$/.test(code);
}
