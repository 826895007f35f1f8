/**
 * Judging the mesh PKI on disk without changing it: what `status` shows, and what
 * `ensureMeshPki` uses to decide whether a leaf must be reissued.
 */
import { DEFAULT_RENEW_BEFORE_FRACTION } from '../config/defaults.js';
import type { MeshgwConfig } from '../config/schema.js';
import { serviceDnsName, spiffeId, workloadNames } from '../config/topology.js';
import type { TlsFiles } from '../dataplane/contracts.js';
import { describeCertificate, keyMatchesCertificate, remainingLifetimeFraction, verifyChain } from './describe.js';
import { caFiles, readIfExists, workloadTlsFiles } from './files.js';

/** Why a leaf cannot be kept as it is. */
export type LeafProblem = 'missing' | 'identity-changed' | 'not-signed-by-ca' | 'expired' | 'key-mismatch' | 'near-expiry';

export async function assessLeaf(files: TlsFiles, caPem: string, identity: string, dnsName: string, now: Date, renewBeforeFraction: number): Promise<LeafProblem | undefined> {
  const [certPem, keyPem] = await Promise.all([readIfExists(files.certFile), readIfExists(files.keyFile)]);
  if (!certPem || !keyPem) return 'missing';
  const desc = describeCertificate(certPem);
  if (desc.identity !== identity || !desc.dnsNames.includes(dnsName)) return 'identity-changed';
  const chain = verifyChain(certPem, caPem, now);
  if (!chain.ok) return chain.reason === 'expired' || chain.reason === 'not-yet-valid' ? 'expired' : 'not-signed-by-ca';
  if (!keyMatchesCertificate(certPem, keyPem)) return 'key-mismatch';
  if (remainingLifetimeFraction(desc, now) < renewBeforeFraction) return 'near-expiry';
  return undefined;
}

export interface WorkloadCertStatus {
  workload: string;
  expectedIdentity: string;
  identity?: string;
  notAfter?: string;
  fingerprint?: string;
  /** 'ok', or the first thing wrong with it. */
  status: 'ok' | LeafProblem | 'no-ca';
}

export interface MeshPkiStatus {
  ca?: { subject: string; fingerprint: string; notAfter: string };
  workloads: WorkloadCertStatus[];
}

/** Reads <pkiDir> and reports each workload certificate's state; writes nothing and returns no key. */
export async function inspectMeshPki(opts: { config: MeshgwConfig; pkiDir: string; now?: Date; renewBeforeFraction?: number }): Promise<MeshPkiStatus> {
  const now = opts.now ?? new Date();
  const fraction = opts.renewBeforeFraction ?? DEFAULT_RENEW_BEFORE_FRACTION;
  const caPem = await readIfExists(caFiles(opts.pkiDir).certFile);
  const ca = caPem ? describeCertificate(caPem) : undefined;
  const workloads: WorkloadCertStatus[] = [];
  for (const workload of workloadNames(opts.config)) {
    const files = workloadTlsFiles(opts.pkiDir, workload);
    const expectedIdentity = spiffeId(opts.config, workload);
    const certPem = await readIfExists(files.certFile);
    const desc = certPem ? describeCertificate(certPem) : undefined;
    const status = caPem ? ((await assessLeaf(files, caPem, expectedIdentity, serviceDnsName(opts.config, workload), now, fraction)) ?? 'ok') : 'no-ca';
    workloads.push({
      workload,
      expectedIdentity,
      ...(desc ? { identity: desc.identity, notAfter: desc.notAfter, fingerprint: desc.fingerprint } : {}),
      status,
    });
  }
  return { ...(ca ? { ca: { subject: ca.subject, fingerprint: ca.fingerprint, notAfter: ca.notAfter } } : {}), workloads };
}
