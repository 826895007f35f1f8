/**
 * The mesh PKI on disk: <pkiDir>/ca.{crt,key} and <pkiDir>/<workload>/{tls.crt,tls.key,ca.crt}.
 * `ensureMeshPki` keeps what is valid and reissues what is missing, near expiry or wrong;
 * `rotateLeaves` reissues every leaf. Neither returns key material.
 */
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_RENEW_BEFORE_FRACTION } from '../config/defaults.js';
import type { MeshgwConfig } from '../config/schema.js';
import { serviceDnsName, spiffeId, workloadNames } from '../config/topology.js';
import type { TlsFiles } from '../dataplane/contracts.js';
import { describeCertificate, keyMatchesCertificate, remainingLifetimeFraction } from './describe.js';
import { assessLeaf } from './inspect.js';
import { CERT_FILE_MODE, KEY_FILE_MODE, caFiles, ensureDir, readIfExists, workloadTlsFiles, writeFileAtomic } from './files.js';
import { createCa, issueLeaf, type IssuedCert } from './issue.js';

export type PkiAction = 'created' | 'kept' | 'renewed';

export interface CaSummary {
  subject: string;
  notAfter: string;
  fingerprint: string;
  action: PkiAction;
  certFile: string;
}

export interface WorkloadCertSummary {
  workload: string;
  identity: string;
  dnsName: string;
  notAfter: string;
  fingerprint: string;
  action: PkiAction;
  /** Why a leaf was reissued: missing, near-expiry, identity-changed, not-signed-by-ca, key-mismatch, rotated. */
  reason?: string;
  files: TlsFiles;
}

export interface PkiSummary {
  pkiDir: string;
  ca: CaSummary;
  workloads: WorkloadCertSummary[];
}

export interface EnsurePkiOptions {
  config: MeshgwConfig;
  pkiDir: string;
  now?: Date;
  /** Reissue when less than this fraction of a certificate's lifetime is left. */
  renewBeforeFraction?: number;
}

export const CA_COMMON_NAME = 'meshgw mesh CA';

interface CaState {
  ca: IssuedCert;
  action: PkiAction;
}

async function loadCa(pkiDir: string): Promise<IssuedCert | undefined> {
  const files = caFiles(pkiDir);
  const [certPem, keyPem] = await Promise.all([readIfExists(files.certFile), readIfExists(files.keyFile)]);
  if (!certPem || !keyPem || !keyMatchesCertificate(certPem, keyPem)) return undefined;
  const desc = describeCertificate(certPem);
  return { certPem, keyPem, notBefore: new Date(desc.notBefore), notAfter: new Date(desc.notAfter) };
}

/** Reads the mesh CA (certificate and key) from <pkiDir>; undefined when absent or broken. */
export async function readMeshCa(pkiDir: string): Promise<IssuedCert | undefined> {
  return loadCa(pkiDir);
}

async function ensureCa(opts: EnsurePkiOptions, now: Date, fraction: number): Promise<CaState> {
  const existing = await loadCa(opts.pkiDir);
  if (existing && remainingLifetimeFraction({ notBefore: existing.notBefore.toISOString(), notAfter: existing.notAfter.toISOString() }, now) >= fraction) {
    return { ca: existing, action: 'kept' };
  }
  const files = caFiles(opts.pkiDir);
  const replacing = existing !== undefined || (await readIfExists(files.certFile)) !== undefined;
  const ca = await createCa({ commonName: CA_COMMON_NAME, lifetimeDays: opts.config.mesh.caLifetimeDays, now });
  await writeFileAtomic(files.keyFile, ca.keyPem, KEY_FILE_MODE);
  await writeFileAtomic(files.certFile, ca.certPem, CERT_FILE_MODE);
  return { ca, action: replacing ? 'renewed' : 'created' };
}

async function writeLeaf(pkiDir: string, workload: string, leaf: IssuedCert, ca: IssuedCert): Promise<TlsFiles> {
  const files = workloadTlsFiles(pkiDir, workload);
  await ensureDir(path.dirname(files.certFile));
  // Key first: a reader that sees the new certificate must find its key already in place.
  await writeFileAtomic(files.keyFile, leaf.keyPem, KEY_FILE_MODE);
  await writeFileAtomic(files.certFile, leaf.certPem, CERT_FILE_MODE);
  await writeFileAtomic(files.caFile, ca.certPem, CERT_FILE_MODE);
  return files;
}

async function issueFor(opts: EnsurePkiOptions, ca: IssuedCert, workload: string, now: Date): Promise<IssuedCert> {
  return issueLeaf(ca, {
    spiffeId: spiffeId(opts.config, workload),
    dnsName: serviceDnsName(opts.config, workload),
    lifetimeHours: opts.config.mesh.leafLifetimeHours,
    now,
  });
}

function summarize(workload: string, files: TlsFiles, certPem: string, action: PkiAction, reason?: string): WorkloadCertSummary {
  const desc = describeCertificate(certPem);
  return {
    workload,
    identity: desc.identity ?? '',
    dnsName: desc.dnsNames[0] ?? '',
    notAfter: desc.notAfter,
    fingerprint: desc.fingerprint,
    action,
    ...(reason ? { reason } : {}),
    files,
  };
}

function caSummary(pkiDir: string, state: CaState): CaSummary {
  const desc = describeCertificate(state.ca.certPem);
  return { subject: desc.subject, notAfter: desc.notAfter, fingerprint: desc.fingerprint, action: state.action, certFile: caFiles(pkiDir).certFile };
}

/** The folder and a valid CA (created or renewed if needed), with the clock and renewal fraction in force. */
async function prepareCa(opts: EnsurePkiOptions) {
  const now = opts.now ?? new Date();
  const fraction = opts.renewBeforeFraction ?? DEFAULT_RENEW_BEFORE_FRACTION;
  await ensureDir(opts.pkiDir);
  return { now, fraction, caState: await ensureCa(opts, now, fraction) };
}

/** Creates or refreshes the mesh CA and one leaf per workload; keeps whatever is still valid. */
export async function ensureMeshPki(opts: EnsurePkiOptions): Promise<PkiSummary> {
  const { now, fraction, caState } = await prepareCa(opts);
  const workloads: WorkloadCertSummary[] = [];
  for (const workload of workloadNames(opts.config)) {
    const files = workloadTlsFiles(opts.pkiDir, workload);
    const identity = spiffeId(opts.config, workload);
    const problem = await assessLeaf(files, caState.ca.certPem, identity, serviceDnsName(opts.config, workload), now, fraction);
    if (problem === undefined) {
      await syncCaCopy(files, caState.ca);
      workloads.push(summarize(workload, files, (await readIfExists(files.certFile))!, 'kept'));
      continue;
    }
    const leaf = await issueFor(opts, caState.ca, workload, now);
    await writeLeaf(opts.pkiDir, workload, leaf, caState.ca);
    workloads.push(summarize(workload, files, leaf.certPem, problem === 'missing' ? 'created' : 'renewed', problem));
  }
  return { pkiDir: opts.pkiDir, ca: caSummary(opts.pkiDir, caState), workloads };
}

/** Keeps the per-workload CA copy equal to the root and the key file at 0600 even if edited by hand. */
async function syncCaCopy(files: TlsFiles, ca: IssuedCert): Promise<void> {
  if ((await readIfExists(files.caFile)) !== ca.certPem) await writeFileAtomic(files.caFile, ca.certPem, CERT_FILE_MODE);
  await chmod(files.keyFile, KEY_FILE_MODE);
}

/**
 * Reissues every leaf (the CA is created first if missing). Files are replaced by rename, so a
 * process reloading them afterwards (SIGHUP) picks up a matching certificate and key.
 */
export async function rotateLeaves(opts: EnsurePkiOptions): Promise<PkiSummary> {
  const { now, caState } = await prepareCa(opts);
  const workloads: WorkloadCertSummary[] = [];
  for (const workload of workloadNames(opts.config)) {
    const existed = (await readIfExists(workloadTlsFiles(opts.pkiDir, workload).certFile)) !== undefined;
    const leaf = await issueFor(opts, caState.ca, workload, now);
    const files = await writeLeaf(opts.pkiDir, workload, leaf, caState.ca);
    workloads.push(summarize(workload, files, leaf.certPem, existed ? 'renewed' : 'created', existed ? 'rotated' : 'missing'));
  }
  return { pkiDir: opts.pkiDir, ca: caSummary(opts.pkiDir, caState), workloads };
}
