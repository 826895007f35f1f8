/**
 * Certificates no honest mesh CA issues, for the sidecar's refusal tests: a leaf with two SPIFFE
 * IDs, and a "leaf-signed" forgery (a certificate whose issuer is a workload leaf, not the CA).
 * Built with the same @peculiar/x509 path as src/pki/issue.ts.
 */
import { webcrypto } from 'node:crypto';
import { x509 } from '../../src/pki/x509.js';
import type { IssuedCert } from '../../src/pki/issue.js';

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** A leaf for `uris` (every one a SAN URI), signed by `issuer`'s key under `issuer`'s subject. */
export async function issueWithUris(issuer: IssuedCert, uris: string[]): Promise<IssuedCert> {
  const issuerCert = new x509.X509Certificate(issuer.certPem);
  const signingKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decode(issuer.keyPem)[0], EC, false, ['sign']);
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '0' + Math.floor(Math.random() * 1e12).toString(16),
    subject: 'CN=forged, O=meshgw',
    issuer: issuerCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(uris.map((value) => ({ type: 'url' as const, value }))),
      await x509.AuthorityKeyIdentifierExtension.create(issuerCert.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await pkcs8Pem(keys.privateKey), notBefore: cert.notBefore, notAfter: cert.notAfter };
}
