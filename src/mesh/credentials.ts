/** A sidecar's TLS material, read from the files named in its spec (and re-read on reload). */
import type { TlsFiles } from '../local/specs.js';
import { describeCertificate, keyMatchesCertificate, type CertificateDescription } from '../pki/describe.js';

export interface TlsMaterial {
  ca: string;
  cert: string;
  /** Secret: passed to TLS contexts only, never logged or dumped. */
  key: string;
  certificate: CertificateDescription;
}

export type ReadText = (file: string) => Promise<string>;

/** Reads and checks the files; throws when the key does not belong to the certificate (a torn rotation). */
export async function loadTlsMaterial(files: TlsFiles, readText: ReadText): Promise<TlsMaterial> {
  const [ca, cert, key] = await Promise.all([readText(files.caFile), readText(files.certFile), readText(files.keyFile)]);
  if (!keyMatchesCertificate(cert, key)) {
    throw new Error(`${files.keyFile} does not belong to ${files.certFile}`);
  }
  return { ca, cert, key, certificate: describeCertificate(cert) };
}
