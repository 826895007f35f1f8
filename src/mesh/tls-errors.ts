/**
 * Turning the inbound listener's TLS failures into Envoy's refusal reasons. Upstream failures
 * (what a mesh client sees) are classified in dataplane/upstream-errors.ts.
 */
import { VERIFY_ERROR_CODES, errorCode } from '../dataplane/upstream-errors.js';
import { Stat, type TlsRefusalStat } from './stats.js';

/** OpenSSL's "peer did not return a certificate" under requestCert + rejectUnauthorized. */
const NO_CERT_CODES = new Set(['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED']);

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
