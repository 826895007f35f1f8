/**
 * The mesh CA on the aws target, as deploy decides it: adopt the cluster's `cacerts` when it is usable
 * (a fresh CI runner has no local state, and a new root would break every running sidecar's mTLS),
 * issue istiod a new intermediate when the current one nears expiry, and mint a root only when the
 * cluster has no cacerts and the root store holds no root. Returns the Secret to apply, if any; it
 * writes nothing to the cluster itself.
 */
import { X509Certificate } from 'node:crypto';
import { DEFAULT_RENEW_BEFORE_FRACTION } from '../config/defaults.js';
import { MeshgwError } from '../errors.js';
import { createCa, type IssuedCert } from '../pki/issue.js';
import { CACERTS_NAME, fingerprintOf, joinPem, judgeCacerts, parseCacerts, rotationPhase, sameCertificate, signerRootIndex, type CacertsContent, type RotationPhase } from './cacerts.js';
import type { ClusterApi } from './cluster.js';
import { ISTIO_NAMESPACE } from './labels.js';
import type { K8sObject } from './manifests/types.js';
import { pluggedCaFrom, renderCacertsSecret } from './mesh-ca.js';
import { findStoredRoot, type MeshRootStore } from './mesh-root-store.js';

export const MESH_ROOT_COMMON_NAME = 'meshgw mesh root CA';
export const CACERTS_REF = { apiVersion: 'v1', kind: 'Secret', metadata: { name: CACERTS_NAME, namespace: ISTIO_NAMESPACE } };

export interface ClusterCaDeps {
  api: ClusterApi;
  roots: MeshRootStore;
  now?: Date;
}

export interface ClusterCaOptions {
  rootLifetimeDays: number;
  intermediateLifetimeDays: number;
  renewBeforeFraction?: number;
  /**
   * A root meshgw kept in local state before roots moved to the store (<stateDir>/pki). Used only
   * when it is the cluster's root and the store has none: it is then moved into the store.
   */
  legacyRoot?: IssuedCert;
}

export type ClusterCaDecision =
  | { type: 'kept'; trustBundlePem: string; phase: RotationPhase | 'foreign'; signerNotAfter: string }
  | { type: 'renewed'; reason: string; secret: K8sObject; trustBundlePem: string; mode: string }
  | { type: 'created'; rootSource: 'store' | 'created'; secret: K8sObject; trustBundlePem: string; mode: string };

/** Reads and parses the cluster's cacerts (undefined when absent or missing one of Istio's four files). */
export async function readCacerts(api: ClusterApi): Promise<CacertsContent | undefined> {
  return parseCacerts(await api.read(CACERTS_REF));
}

export async function decideClusterCa(deps: ClusterCaDeps, opts: ClusterCaOptions): Promise<ClusterCaDecision> {
  const now = deps.now ?? new Date();
  const existing = await readCacerts(deps.api);
  if (existing) {
    const health = judgeCacerts(existing, now, opts.renewBeforeFraction ?? DEFAULT_RENEW_BEFORE_FRACTION);
    const trustBundlePem = joinPem(existing.roots);
    if (health.ok) return { type: 'kept', trustBundlePem, phase: rotationPhase(existing), signerNotAfter: signerNotAfter(existing) };
    const root = await rootForRenewal(deps.roots, existing, opts.legacyRoot, `${health.reason}, valid until ${health.notAfter}`);
    const ca = await pluggedCaFrom(root, { lifetimeDays: opts.intermediateLifetimeDays, now, trustBundlePem });
    return { type: 'renewed', reason: health.reason, secret: renderCacertsSecret(ca, meshgwAnnotations(existing)), trustBundlePem, mode: ca.mode };
  }
  let root = await deps.roots.get('current');
  const rootSource = root ? 'store' : 'created';
  if (!root) {
    root = await createCa({ commonName: MESH_ROOT_COMMON_NAME, lifetimeDays: opts.rootLifetimeDays, now });
    // The key is stored before any cluster object depends on it: a crash after this point loses nothing.
    await deps.roots.put('current', root);
  }
  const trustBundlePem = joinPem([root.certPem]);
  const ca = await pluggedCaFrom(root, { lifetimeDays: opts.intermediateLifetimeDays, now, trustBundlePem });
  return { type: 'created', rootSource, secret: renderCacertsSecret(ca), trustBundlePem, mode: ca.mode };
}

function signerNotAfter(c: CacertsContent): string {
  return new Date(new X509Certificate(c.signingCertPem).validTo).toISOString();
}

/** Annotations meshgw itself put on cacerts (rotation bookkeeping) survive a renewal. */
function meshgwAnnotations(c: CacertsContent): Record<string, string> | undefined {
  const kept = Object.entries(c.annotations).filter(([k]) => k.startsWith('meshgw.io/'));
  return kept.length ? Object.fromEntries(kept) : undefined;
}

/** The root (with its key) that issues the renewed intermediate: the one the current signer chains to. */
async function rootForRenewal(store: MeshRootStore, c: CacertsContent, legacy: IssuedCert | undefined, why: string): Promise<IssuedCert> {
  const index = signerRootIndex(c);
  const rootPem = index >= 0 ? c.roots[index] : c.roots.length === 1 ? c.roots[0] : undefined;
  if (!rootPem) {
    throw new MeshgwError('STATE_MISSING', `the cacerts Secret in ${ISTIO_NAMESPACE} signs with a certificate that chains to none of its ${c.roots.length} roots`, `It was edited outside meshgw. Restore it, or delete it (kubectl -n ${ISTIO_NAMESPACE} delete secret ${CACERTS_NAME}) and run deploy again to plug in the stored root; every workload then needs a restart.`);
  }
  const stored = await findStoredRoot(store, rootPem);
  if (stored) return stored;
  if (legacy && c.roots.length === 1 && sameCertificate(legacy.certPem, rootPem)) {
    await store.put('current', legacy);
    return legacy;
  }
  throw new MeshgwError(
    'STATE_MISSING',
    `istiod's intermediate CA in ${ISTIO_NAMESPACE}/${CACERTS_NAME} needs renewing (${why}), but the key of its root ${fingerprintOf(rootPem).slice(0, 23)}… is not in ${store.describe('current')}`,
    `Put that root there as JSON {"certPem","keyPem"} (aws ssm put-parameter --type SecureString), or move to a new root with \`meshgw certs rotate-root\` before the intermediate expires.`,
  );
}
