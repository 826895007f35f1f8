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

export type PeerUris = { type: 'spiffe-id'; id: string } | { type: 'none' } | { type: 'ambiguous'; uris: string[] };

/**
 * The peer's identity from its URI SANs. An X.509-SVID carries exactly one URI SAN (SPIFFE
 * X509-SVID §2); a certificate with several names no single workload, so it is ambiguous and
 * neither end of a mesh connection accepts it.
 */
export function peerUris(subjectAltName: string | undefined): PeerUris {
  const uris = parseSubjectAltName(subjectAltName).uris;
  if (uris.length === 0) return { type: 'none' };
  if (uris.length > 1) return { type: 'ambiguous', uris };
  return { type: 'spiffe-id', id: uris[0] };
}

/** A checkServerIdentity for tls.connect that demands `expected` as the one URI SAN. */
export function spiffeIdentityCheck(expected: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const peer = peerUris(cert.subjectaltname);
    if (peer.type === 'spiffe-id' && peer.id === expected) return undefined;
    const presented = peer.type === 'none' ? 'no SPIFFE ID' : peer.type === 'ambiguous' ? `${peer.uris.length} URI SANs (${peer.uris.join(', ')})` : peer.id;
    const err = new Error(`upstream presented ${presented}, expected ${expected}`) as Error & { code: string };
    err.code = SAN_MISMATCH_CODE;
    return err;
  };
}
