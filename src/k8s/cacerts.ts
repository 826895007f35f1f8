/**
 * Reading back the `cacerts` Secret in istio-system, in Istio's plugged-in CA format: ca-cert.pem and
 * ca-key.pem (what istiod signs with), root-cert.pem (the trust bundle istiod hands to every workload;
 * one or more roots), cert-chain.pem (signing cert up to its root). Parsed once here, at the boundary,
 * so the deploy step and root rotation work on typed values. Key material stays in the returned
 * object only; nothing here prints it.
 */
import { X509Certificate } from 'node:crypto';
import { keyMatchesCertificate, remainingLifetimeFraction } from '../pki/describe.js';
import type { K8sObject } from './manifests/types.js';

export const CACERTS_NAME = 'cacerts';
export const CACERTS_KEYS = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'] as const;
/** Set on cacerts when a root rotation switches issuance to the new root: pods older than this still hold old-root certificates. */
export const SWITCHED_AT_ANNOTATION = 'meshgw.io/root-switched-at';

export interface CacertsContent {
  signingCertPem: string;
  /** Secret: never print or log. */
  signingKeyPem: string;
  /** Every root in root-cert.pem, in file order. */
  roots: string[];
  chainPem: string;
  annotations: Record<string, string>;
}

/** Where a root rotation stands, read from cacerts alone (so a fresh CI runner sees the same state). */
export type RotationPhase =
  /** One root: no rotation. */
  | 'steady'
  /** [old, new] trusted; istiod still signs under the old root. */
  | 'trust-both'
  /** [old, new] trusted; istiod signs under the new root while workloads re-issue. */
  | 'issuing-new';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function splitPemCertificates(pem: string): string[] {
  return (pem.match(PEM_CERT) ?? []).map((b) => `${b}\n`);
}

export function joinPem(pems: string[]): string {
  return pems.map((p) => `${p.trim()}\n`).join('');
}

/** Same certificate, whatever the PEM line endings or trailing whitespace. */
export function sameCertificate(a: string, b: string): boolean {
  return new X509Certificate(a).raw.equals(new X509Certificate(b).raw);
}

export function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** The Secret's content, or undefined when there is no Secret or it misses one of Istio's four files. */
export function parseCacerts(secret: K8sObject | undefined): CacertsContent | undefined {
  if (!secret) return undefined;
  const data = (secret.data ?? {}) as Record<string, string>;
  if (!CACERTS_KEYS.every((k) => typeof data[k] === 'string' && data[k].length > 0)) return undefined;
  const text = (k: (typeof CACERTS_KEYS)[number]) => Buffer.from(data[k], 'base64').toString('utf8');
  const roots = splitPemCertificates(text('root-cert.pem'));
  const signing = splitPemCertificates(text('ca-cert.pem'));
  if (roots.length === 0 || signing.length === 0) return undefined;
  return { signingCertPem: signing[0], signingKeyPem: text('ca-key.pem'), roots, chainPem: text('cert-chain.pem'), annotations: secret.metadata.annotations ?? {} };
}

/** Index in `roots` of the root that signed the signing certificate (itself, when istiod signs with a root); -1 when none did. */
export function signerRootIndex(c: Pick<CacertsContent, 'signingCertPem' | 'roots'>): number {
  const signer = new X509Certificate(c.signingCertPem);
  return c.roots.findIndex((pem) => {
    const root = new X509Certificate(pem);
    return signer.checkIssued(root) && signer.verify(root.publicKey);
  });
}

export type CacertsHealth = { ok: true } | { ok: false; reason: 'key-mismatch' | 'not-chained-to-a-root' | 'expired' | 'near-expiry'; notAfter: string };

/** Whether istiod can keep signing with this cacerts: key matches, chains to a trusted root, not (nearly) expired. */
export function judgeCacerts(c: CacertsContent, now: Date, renewBeforeFraction: number): CacertsHealth {
  const signer = new X509Certificate(c.signingCertPem);
  const notAfter = new Date(signer.validTo).toISOString();
  if (!keyMatchesCertificate(c.signingCertPem, c.signingKeyPem)) return { ok: false, reason: 'key-mismatch', notAfter };
  if (signerRootIndex(c) < 0) return { ok: false, reason: 'not-chained-to-a-root', notAfter };
  if (now.getTime() >= Date.parse(notAfter)) return { ok: false, reason: 'expired', notAfter };
  const fraction = remainingLifetimeFraction({ notBefore: new Date(signer.validFrom).toISOString(), notAfter }, now);
  if (fraction < renewBeforeFraction) return { ok: false, reason: 'near-expiry', notAfter };
  return { ok: true };
}

/**
 * The rotation phase. During a rotation meshgw always writes root-cert.pem as [old, new], so which
 * root the signing certificate chains to tells the phase without any other state.
 */
export function rotationPhase(c: CacertsContent): RotationPhase | 'foreign' {
  if (c.roots.length === 1) return 'steady';
  if (c.roots.length !== 2) return 'foreign';
  const i = signerRootIndex(c);
  return i === 0 ? 'trust-both' : i === 1 ? 'issuing-new' : 'foreign';
}
