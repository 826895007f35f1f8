/**
 * Secure naming: a mesh client accepts a server only when its certificate carries the SPIFFE ID
 * it meant to reach (Envoy's match_subject_alt_names, Istio's secure naming). The chain itself
 * is checked against the mesh CA by TLS; this replaces the hostname check, which means nothing
 * for 127.0.0.1.
 */
import type { PeerCertificate } from 'node:tls';
import { parseSubjectAltName } from '../pki/describe.js';

/** The code of the error our identity check returns when the upstream is someone else. */
export const SAN_MISMATCH_CODE = 'ERR_MESH_SAN_MISMATCH';

/** A checkServerIdentity for tls.connect that demands `expected` among the URI SANs. */
export function spiffeIdentityCheck(expected: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const uris = parseSubjectAltName(cert.subjectaltname).uris;
    if (uris.includes(expected)) return undefined;
    const err = new Error(`upstream presented ${uris.length > 0 ? uris.join(', ') : 'no SPIFFE ID'}, expected ${expected}`) as Error & { code: string };
    err.code = SAN_MISMATCH_CODE;
    return err;
  };
}
