/**
 * The one source of the mesh's TLS parameters, for both ends of every mesh connection: the
 * sidecar's inbound listener (server) and the mesh client (the sidecar's egress and the gateway's
 * upstream). Matches what Istio's sidecars negotiate: TLS 1.2 or 1.3, and under TLS 1.2 only ECDHE
 * key exchange with an AEAD cipher (Istio's default cipher list); TLS 1.3's three suites are what
 * Envoy's BoringSSL offers, not configurable there either. Node's default list would also accept
 * CBC-SHA1 and AES-CCM8 suites (its "HIGH" group), which no mesh peer needs.
 */
import { constants } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import type { TlsMaterial } from './tls-material.js';

export const MESH_TLS_MIN_VERSION = 'TLSv1.2';

/** TLS 1.3 suites (OpenSSL names them separately; leaving them out of `ciphers` would disable TLS 1.3). */
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** Istio's default TLS 1.2 suites for sidecars: ECDHE (forward secrecy) with AES-GCM or ChaCha20-Poly1305. */
export const MESH_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;

/** The OpenSSL cipher string both ends use. */
export const MESH_TLS_CIPHERS = [...TLS13_SUITES, ...MESH_TLS12_CIPHERS].join(':');

/**
 * No renegotiation in either direction (TLS 1.2; TLS 1.3 has none): a client-initiated
 * renegotiation costs the server a handshake per request of the attacker's choosing, and a
 * mid-connection certificate change is nothing a mesh peer does. Envoy refuses it too.
 */
const SECURE_OPTIONS = constants.SSL_OP_NO_RENEGOTIATION;

/** The context options every mesh TLS endpoint uses: the workload's material, versions, ciphers, no renegotiation. */
export function meshSecureContextOptions(material: TlsMaterial): SecureContextOptions {
  return {
    ca: material.ca,
    cert: material.cert,
    key: material.key,
    minVersion: MESH_TLS_MIN_VERSION,
    ciphers: MESH_TLS_CIPHERS,
    // The server's order decides under TLS 1.2: the strongest suite both sides have.
    honorCipherOrder: true,
    secureOptions: SECURE_OPTIONS,
  };
}
