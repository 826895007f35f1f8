/**
 * Issuing mesh certificates: one ECDSA P-256 CA and SPIFFE leaves signed by it, built with
 * @peculiar/x509 over Node's WebCrypto (no hand-rolled ASN.1). Keys leave this module only as
 * PKCS#8 PEM strings; callers write them with mode 0600 and never log them.
 */
import { webcrypto } from 'node:crypto';
import { x509 } from './x509.js';

export interface IssuedCert {
  certPem: string;
  /** PKCS#8 PEM. Secret: never print or log. */
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
}

export interface CaOptions {
  commonName: string;
  lifetimeDays: number;
  now?: Date;
}

export interface LeafOptions {
  /** spiffe://<trust-domain>/ns/<namespace>/sa/<name>, written as the SAN URI. */
  spiffeId: string;
  dnsName: string;
  lifetimeHours: number;
  now?: Date;
  /** Defaults to `now` minus a small skew allowance; set in the past to make an expired certificate. */
  notBefore?: Date;
}

const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** Backdating notBefore tolerates small clock differences between processes (as Istio's CA does). */
const CLOCK_SKEW_MS = 60_000;
const HOUR_MS = 3_600_000;

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(keyPem)[0];
  return webcrypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, false, ['sign']);
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // a positive INTEGER
  if (bytes[0] === 0) bytes[0] = 1;
  return Buffer.from(bytes).toString('hex');
}

/**
 * Creates a self-signed mesh root: CA true with pathLen 1 (so istiod on EKS can hold an
 * intermediate issued from it, as Istio's plug-in CA requires), keyCertSign and cRLSign.
 */
export async function createCa(opts: CaOptions): Promise<IssuedCert> {
  const now = opts.now ?? new Date();
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(now.getTime() + opts.lifetimeDays * 24 * HOUR_MS);
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${opts.commonName}, O=meshgw`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey), notBefore: cert.notBefore, notAfter: cert.notAfter };
}

/** Issues a workload leaf: SAN URI = SPIFFE ID, SAN DNS, serverAuth + clientAuth, signed by `ca`. */
export async function issueLeaf(ca: IssuedCert, opts: LeafOptions): Promise<IssuedCert> {
  const now = opts.now ?? new Date();
  const notBefore = opts.notBefore ?? new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(notBefore.getTime() + (opts.notBefore ? 0 : CLOCK_SKEW_MS) + opts.lifetimeHours * HOUR_MS);
  const caCert = new x509.X509Certificate(ca.certPem);
  const signingKey = await importSigningKey(ca.keyPem);
  const keys = await generateKeys();
  const workload = opts.spiffeId.split('/').pop() ?? opts.dnsName;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${workload}, O=meshgw`,
    issuer: caCert.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'url', value: opts.spiffeId },
        { type: 'dns', value: opts.dnsName },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey), notBefore: cert.notBefore, notAfter: cert.notAfter };
}
