/**
 * Istio's plugged-in CA (the `cacerts` Secret in istio-system) so that workload certificates on EKS
 * chain to the same root as the local target's. istiod signs with ca-cert.pem/ca-key.pem and hands
 * out root-cert.pem as the trust anchor; cert-chain.pem is the chain from the signing cert to the root.
 */
import { webcrypto } from 'node:crypto';
import { x509 } from '../pki/x509.js';
import type { IssuedCert } from '../pki/issue.js';
import { ISTIO_NAMESPACE } from './labels.js';
import { meta } from './manifests/meta.js';
import type { K8sObject } from './manifests/types.js';

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface PluggedCa {
  /** Cert istiod signs workload certificates with. */
  signingCertPem: string;
  /** Secret: goes only into the Secret's data, never printed. */
  signingKeyPem: string;
  /** The trust bundle: the signing root, plus the other root while a root rotation overlaps them. */
  rootCertPem: string;
  chainPem: string;
  /** 'intermediate' when meshgw's root allows one (pathLen ≥ 1); otherwise istiod signs with the root itself. */
  mode: 'intermediate' | 'root';
}

/** The root's BasicConstraints pathLen (undefined = unlimited). */
export function rootPathLength(rootPem: string): number | undefined {
  const bc = new x509.X509Certificate(rootPem).getExtension(x509.BasicConstraintsExtension);
  return bc?.pathLength;
}

/**
 * An intermediate CA for istiod, signed by meshgw's root. Verifiers (Envoy/BoringSSL) enforce the
 * root's pathLen: a root with pathLen 0 may sign only leaves, so then istiod gets the root itself.
 */
export async function pluggedCaFrom(root: IssuedCert, opts: { lifetimeDays: number; now?: Date; trustBundlePem?: string }): Promise<PluggedCa> {
  const pathLen = rootPathLength(root.certPem);
  const rootCertPem = opts.trustBundlePem ?? root.certPem;
  if (pathLen === 0) {
    return { signingCertPem: root.certPem, signingKeyPem: root.keyPem, rootCertPem, chainPem: root.certPem, mode: 'root' };
  }
  const now = opts.now ?? new Date();
  const rootCert = new x509.X509Certificate(root.certPem);
  const notAfter = new Date(Math.min(now.getTime() + opts.lifetimeDays * DAY_MS, rootCert.notAfter.getTime()));
  const rootKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decode(root.keyPem)[0], EC, false, ['sign']);
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: 'CN=meshgw istiod intermediate CA, O=meshgw',
    issuer: rootCert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: rootKey,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.AuthorityKeyIdentifierExtension.create(rootCert.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const certPem = cert.toString('pem');
  return { signingCertPem: certPem, signingKeyPem: x509.PemConverter.encode(der, 'PRIVATE KEY'), rootCertPem, chainPem: `${certPem.trim()}\n${root.certPem.trim()}\n`, mode: 'intermediate' };
}

/** The Secret istiod looks for at start-up; it must exist before istiod runs, or istiod self-signs. */
export function renderCacertsSecret(ca: Omit<PluggedCa, 'mode'>, annotations?: Record<string, string>): K8sObject {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta('cacerts', ISTIO_NAMESPACE, {}, annotations),
    type: 'Opaque',
    data: { 'ca-cert.pem': b64(ca.signingCertPem), 'ca-key.pem': b64(ca.signingKeyPem), 'root-cert.pem': b64(ca.rootCertPem), 'cert-chain.pem': b64(ca.chainPem) },
  };
}

/** Whether the cacerts Secret in the cluster carries this root (then istiod need not restart). */
export function cacertsRoot(secret: K8sObject | undefined): string | undefined {
  const data = (secret?.data ?? {}) as Record<string, string>;
  return data['root-cert.pem'] ? Buffer.from(data['root-cert.pem'], 'base64').toString('utf8') : undefined;
}
