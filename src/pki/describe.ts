/**
 * Reading certificates back: what `status` and `verify mtls` show, and what the sidecar reports in
 * its config dump. Uses node:crypto's X509Certificate, so the sidecar does not load @peculiar/x509.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';

export interface SubjectAltNames {
  uris: string[];
  dnsNames: string[];
}

export interface CertificateDescription {
  subject: string;
  issuer: string;
  /** The first SAN URI: the workload's SPIFFE ID. */
  identity: string | undefined;
  uris: string[];
  dnsNames: string[];
  notBefore: string;
  notAfter: string;
  /** SHA-256 fingerprint, colon-separated hex (as openssl prints it). */
  fingerprint: string;
  serialNumber: string;
  isCa: boolean;
}

/**
 * Parses the subjectAltName string Node gives for both X509Certificate and a TLS peer certificate
 * ("URI:spiffe://..., DNS:name"). Values containing ", " are quoted by Node as JSON strings.
 */
export function parseSubjectAltName(text: string | undefined): SubjectAltNames {
  const out: SubjectAltNames = { uris: [], dnsNames: [] };
  if (!text) return out;
  const re = /(URI|DNS):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const value = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2];
    if (m[1] === 'URI') out.uris.push(value);
    else out.dnsNames.push(value);
    if (m[0] === '') break;
  }
  return out;
}

export function describeCertificate(certPem: string): CertificateDescription {
  const cert = new X509Certificate(certPem);
  const san = parseSubjectAltName(cert.subjectAltName);
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    identity: san.uris[0],
    uris: san.uris,
    dnsNames: san.dnsNames,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    fingerprint: cert.fingerprint256,
    serialNumber: cert.serialNumber,
    isCa: cert.ca,
  };
}

export type ChainVerdict = { ok: true } | { ok: false; reason: 'not-issued-by-ca' | 'bad-signature' | 'not-yet-valid' | 'expired' | 'ca-not-a-ca' };

/** Whether a leaf was signed by the CA and is valid at `now` (one level: the mesh has no intermediates). */
export function verifyChain(leafPem: string, caPem: string, now: Date = new Date()): ChainVerdict {
  const leaf = new X509Certificate(leafPem);
  const ca = new X509Certificate(caPem);
  if (!ca.ca) return { ok: false, reason: 'ca-not-a-ca' };
  if (!leaf.checkIssued(ca)) return { ok: false, reason: 'not-issued-by-ca' };
  if (!leaf.verify(ca.publicKey)) return { ok: false, reason: 'bad-signature' };
  if (now.getTime() < new Date(leaf.validFrom).getTime()) return { ok: false, reason: 'not-yet-valid' };
  if (now.getTime() > new Date(leaf.validTo).getTime()) return { ok: false, reason: 'expired' };
  return { ok: true };
}

/** Whether the private key belongs to the certificate (a half-written rotation would break this). */
export function keyMatchesCertificate(certPem: string, keyPem: string): boolean {
  try {
    const certKey = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
    const ownKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    return certKey.equals(ownKey);
  } catch {
    return false;
  }
}

/** Fraction of the certificate's lifetime still ahead at `now` (0 when expired). */
export function remainingLifetimeFraction(desc: Pick<CertificateDescription, 'notBefore' | 'notAfter'>, now: Date): number {
  const start = Date.parse(desc.notBefore);
  const end = Date.parse(desc.notAfter);
  if (end <= start) return 0;
  return Math.max(0, Math.min(1, (end - now.getTime()) / (end - start)));
}
