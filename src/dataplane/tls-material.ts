/** A workload's TLS material, read from the files named in its spec (and re-read on reload). */
import { describeCertificate, keyMatchesCertificate, type CertificateDescription } from '../pki/describe.js';
import type { TlsFiles } from './contracts.js';

/** What a TLS context needs: PEM text. The key is secret: passed to TLS contexts only, never logged. */
export interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
}

/** Material as loaded from disk, with its certificate described for config dumps. */
export interface LoadedTlsMaterial extends TlsMaterial {
  certificate: CertificateDescription;
}

export type ReadText = (file: string) => Promise<string>;

/** Reads and checks the files; throws when the key does not belong to the certificate (a torn rotation). */
export async function loadTlsMaterial(files: TlsFiles, readText: ReadText): Promise<LoadedTlsMaterial> {
  const [ca, cert, key] = await Promise.all([readText(files.caFile), readText(files.certFile), readText(files.keyFile)]);
  if (!keyMatchesCertificate(cert, key)) {
    throw new Error(`${files.keyFile} does not belong to ${files.certFile}`);
  }
  return { ca, cert, key, certificate: describeCertificate(cert) };
}
