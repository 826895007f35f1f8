/**
 * `meshgw certs rotate-root` on the aws target: replacing the mesh root without a moment where two
 * workloads distrust each other, in the phases of a plugged-in CA root rotation (new root trusted
 * beside the old, then issuance switched, then the old root dropped):
 *
 *   steady ──start──▶ trust-both ──switch──▶ issuing-new ──finish──▶ steady
 *
 * - start:  root-cert.pem = [old, new]; istiod keeps signing under the old root. istiod restarts and
 *           publishes both roots (ConfigMap istio-ca-root-cert), which sidecars read as their trust.
 * - switch: refused until that ConfigMap lists both roots. istiod gets an intermediate of the new root,
 *           restarts, and once it has rolled out every Deployment in the mesh namespace restarts, so each
 *           workload re-issues under the new root. Its new pods carry the new root's fingerprint.
 * - finish: refused while a pod without that mark runs. root-cert.pem = [new]; the old root is retired.
 *
 * The phase is read from cacerts itself (see cacerts.ts), so any machine can run the next step; the
 * new root's key waits in the root store's `next` slot until finish makes it `current`.
 */
import { X509Certificate } from 'node:crypto';
import { MeshgwError } from '../errors.js';
import { createCa } from '../pki/issue.js';
import { CACERTS_NAME, fingerprintOf, joinPem, rotationPhase, sameCertificate, signerRootIndex, splitPemCertificates, type CacertsContent, type RotationPhase } from './cacerts.js';
import { MESH_ROOT_COMMON_NAME, readCacerts } from './cluster-ca.js';
import type { ClusterApi } from './cluster.js';
import { ISTIO_NAMESPACE } from './labels.js';
import { pluggedCaFrom, renderCacertsSecret } from './mesh-ca.js';
import { findStoredRoot, type MeshRootStore } from './mesh-root-store.js';
import { annotatePodTemplate, deploymentNames } from './restart.js';
import { waitForRollout, type PodProblem, type RolloutOptions } from './rollout.js';

/** On pod templates (and so on their pods): the root their workload certificates are issued under. */
export const MESH_ROOT_ANNOTATION = 'meshgw.io/mesh-root';
/** istiod's own restart marker (a new value restarts it, as `kubectl rollout restart` does). */
export const ISTIOD_RESTART_ANNOTATION = 'meshgw.io/cacerts-changed-at';
/** Without it istiod trusts only the first root of root-cert.pem (pilot/pkg/features: "support certificates signed by more than one trustAnchor"). */
export const MULTIROOT_ENV = 'ISTIO_MULTIROOT_MESH';

export type { RootRotationStep as RotationStep } from '../pki/certs-options.js';
import type { RootRotationStep as RotationStep } from '../pki/certs-options.js';

export interface RotationDeps {
  api: ClusterApi;
  roots: MeshRootStore;
  /** How long switch waits for istiod to roll out before restarting workloads. */
  istiodRollout: RolloutOptions;
  now?: Date;
}

export interface RotationOptions {
  namespace: string;
  rootLifetimeDays: number;
  intermediateLifetimeDays: number;
}

export interface RootView {
  fingerprint: string;
  subject: string;
  notAfter: string;
}

export interface RotationStatus {
  phase: RotationPhase;
  /** root-cert.pem, in order ([old, new] during a rotation). */
  roots: RootView[];
  signer: { subject: string; notAfter: string; chainsTo: string };
  /** Pods that may still hold a certificate issued under the old root (issuing-new only). */
  pendingPods: string[];
  /** What to run next, as one sentence. */
  next: string;
}

export type RotationResult =
  | { type: 'status'; status: RotationStatus }
  | { type: 'started' | 'switched' | 'finished'; status: RotationStatus; restarted: string[] }
  | { type: 'failed'; status: RotationStatus; problems: PodProblem[] };

function rootView(pem: string): RootView {
  const cert = new X509Certificate(pem);
  return { fingerprint: cert.fingerprint256, subject: cert.subject.replace(/\n/g, ', '), notAfter: new Date(cert.validTo).toISOString() };
}

async function requireCacerts(api: ClusterApi): Promise<CacertsContent> {
  const c = await readCacerts(api);
  if (!c) throw new MeshgwError('STATE_MISSING', `the cluster has no usable ${CACERTS_NAME} Secret in ${ISTIO_NAMESPACE}`, 'Run `meshgw deploy` first: it plugs in the mesh CA that rotate-root replaces.');
  return c;
}

function phaseOf(c: CacertsContent): RotationPhase {
  const phase = rotationPhase(c);
  if (phase === 'foreign') {
    throw new MeshgwError('CHECK_FAILED', `${ISTIO_NAMESPACE}/${CACERTS_NAME} holds ${c.roots.length} roots and a signer that is not meshgw's rotation layout`, 'It was changed outside meshgw; rotate-root only continues rotations it started. Restore it, or finish the rotation by hand.');
  }
  return phase;
}

/** Pods in the namespace whose template does not carry the new root's mark (they started before the switch). */
async function podsNotUnder(api: ClusterApi, namespace: string, rootFingerprint: string): Promise<string[]> {
  const pods = await api.list('v1', 'Pod', namespace, '');
  return pods.filter((p) => p.metadata.annotations?.[MESH_ROOT_ANNOTATION] !== markOf(rootFingerprint)).map((p) => p.metadata.name).sort();
}

/** Annotation values are free text; the colon-less fingerprint keeps them short and copyable. */
function markOf(fingerprint: string): string {
  return fingerprint.replace(/:/g, '').toLowerCase();
}

function nextStep(phase: RotationPhase, pending: string[], namespace: string): string {
  if (phase === 'steady') return 'No rotation in progress; start one with `meshgw certs rotate-root`.';
  if (phase === 'trust-both') return `Both roots are trusted; istiod still signs under the old one. Give sidecars a few minutes to read the new trust bundle (ConfigMap istio-ca-root-cert in ${namespace}), then run \`meshgw certs rotate-root switch\`.`;
  if (pending.length > 0) return `${pending.length} pod(s) may still hold old-root certificates (${pending.slice(0, 5).join(', ')}${pending.length > 5 ? ', …' : ''}); when they have been replaced, run \`meshgw certs rotate-root finish\`.`;
  return 'Every pod re-issued under the new root; run `meshgw certs rotate-root finish` to stop trusting the old one.';
}

async function statusOf(api: ClusterApi, c: CacertsContent, namespace: string): Promise<RotationStatus> {
  const phase = phaseOf(c);
  const signer = new X509Certificate(c.signingCertPem);
  const chainsTo = c.roots[signerRootIndex(c)] ?? c.roots[0];
  const pendingPods = phase === 'issuing-new' ? await podsNotUnder(api, namespace, fingerprintOf(c.roots[1])) : [];
  return {
    phase,
    roots: c.roots.map(rootView),
    signer: { subject: signer.subject.replace(/\n/g, ', '), notAfter: new Date(signer.validTo).toISOString(), chainsTo: fingerprintOf(chainsTo) },
    pendingPods,
    next: nextStep(phase, pendingPods, namespace),
  };
}

function refuse(step: RotationStep, status: RotationStatus): never {
  const inProgress = status.phase !== 'steady';
  throw new MeshgwError('USAGE', inProgress ? `a root rotation is already in progress (phase ${status.phase}); \`rotate-root ${step}\` does not apply now` : `no root rotation is in progress; \`rotate-root ${step}\` does not apply now`, status.next);
}

async function restartIstiod(api: ClusterApi, now: Date): Promise<boolean> {
  return annotatePodTemplate(api, ISTIO_NAMESPACE, 'istiod', ISTIOD_RESTART_ANNOTATION, now.toISOString());
}

/** Whether an istiod Deployment runs with ISTIO_MULTIROOT_MESH=true (as `values.pilot.env` renders it). */
export function istiodTrustsMultipleRoots(istiod: object): boolean {
  const containers = ((istiod as { spec?: unknown }).spec as { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } })?.template?.spec?.containers ?? [];
  return containers.some((c) => (c.env ?? []).some((e) => e.name === MULTIROOT_ENV && e.value === 'true'));
}

async function requireMultiRoot(api: ClusterApi): Promise<void> {
  const istiod = await api.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'istiod', namespace: ISTIO_NAMESPACE } });
  if (istiod && !istiodTrustsMultipleRoots(istiod)) {
    throw new MeshgwError('CHECK_FAILED', `istiod runs without ${MULTIROOT_ENV}=true, so it would trust only the first of two roots`, `Reinstall Istio with it (istioctl install --set values.pilot.env.${MULTIROOT_ENV}=true, or helm --set pilot.env.${MULTIROOT_ENV}=true on the istiod chart), then run rotate-root again.`);
  }
}

async function start(deps: RotationDeps, opts: RotationOptions, c: CacertsContent, now: Date): Promise<RotationResult> {
  await requireMultiRoot(deps.api);
  const newRoot = await createCa({ commonName: MESH_ROOT_COMMON_NAME, lifetimeDays: opts.rootLifetimeDays, now });
  // The new key is stored before the cluster trusts its root: whoever runs switch needs it.
  await deps.roots.put('next', newRoot);
  await deps.api.apply(renderCacertsSecret({ signingCertPem: c.signingCertPem, signingKeyPem: c.signingKeyPem, chainPem: c.chainPem, rootCertPem: joinPem([c.roots[0], newRoot.certPem]) }));
  const restarted = (await restartIstiod(deps.api, now)) ? ['istiod'] : [];
  return { type: 'started', status: await statusOf(deps.api, await requireCacerts(deps.api), opts.namespace), restarted };
}

async function trustBundlePublished(api: ClusterApi, namespace: string, roots: string[]): Promise<boolean> {
  const cm = await api.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace } });
  const published = splitPemCertificates(((cm?.data ?? {}) as Record<string, string>)['root-cert.pem'] ?? '');
  return roots.every((r) => published.some((p) => sameCertificate(p, r)));
}

async function switchIssuance(deps: RotationDeps, opts: RotationOptions, c: CacertsContent, now: Date): Promise<RotationResult> {
  if (!(await trustBundlePublished(deps.api, opts.namespace, c.roots))) {
    throw new MeshgwError('CHECK_FAILED', `istiod has not yet published both roots to ${opts.namespace} (ConfigMap istio-ca-root-cert)`, `Switching now would hand out certificates some sidecars cannot verify. Check istiod (kubectl -n ${ISTIO_NAMESPACE} rollout status deploy/istiod), then run \`meshgw certs rotate-root switch\` again.`);
  }
  const newRoot = await findStoredRoot(deps.roots, c.roots[1]);
  if (!newRoot) throw new MeshgwError('STATE_MISSING', `the new root's key is not in ${deps.roots.describe('next')}`, 'It was deleted or the rotation was started against another store (--region, stack name). Restore it, or undo the rotation by re-applying cacerts with only the old root.');
  // Run again in issuing-new (say, after istiod failed to roll out), switch keeps the intermediate it issued.
  if (signerRootIndex(c) === 0) {
    const ca = await pluggedCaFrom(newRoot, { lifetimeDays: opts.intermediateLifetimeDays, now, trustBundlePem: joinPem(c.roots) });
    await deps.api.apply(renderCacertsSecret(ca));
  }
  const restarted: string[] = [];
  if (await restartIstiod(deps.api, now)) {
    restarted.push('istiod');
    // Workloads restarted before the new istiod serves would be signed by the old one again.
    const rollout = await waitForRollout(deps.api, ISTIO_NAMESPACE, [{ name: 'istiod', podSelector: 'app=istiod' }], deps.istiodRollout);
    if (rollout.type === 'failed') return { type: 'failed', status: await statusOf(deps.api, await requireCacerts(deps.api), opts.namespace), problems: rollout.problems };
  }
  const mark = markOf(fingerprintOf(newRoot.certPem));
  for (const name of await deploymentNames(deps.api, opts.namespace)) {
    if (await annotatePodTemplate(deps.api, opts.namespace, name, MESH_ROOT_ANNOTATION, mark)) restarted.push(`${opts.namespace}/${name}`);
  }
  return { type: 'switched', status: await statusOf(deps.api, await requireCacerts(deps.api), opts.namespace), restarted };
}

async function finish(deps: RotationDeps, opts: RotationOptions, c: CacertsContent, status: RotationStatus, now: Date): Promise<RotationResult> {
  if (status.pendingPods.length > 0) throw new MeshgwError('CHECK_FAILED', `${status.pendingPods.length} pod(s) in ${opts.namespace} started before the switch and may hold old-root certificates: ${status.pendingPods.join(', ')}`, 'Wait for their Deployments to finish rolling out (or delete pods no Deployment owns), then run `meshgw certs rotate-root finish` again.');
  const newRoot = await findStoredRoot(deps.roots, c.roots[1]);
  if (!newRoot) throw new MeshgwError('STATE_MISSING', `the new root's key is in neither ${deps.roots.describe('current')} nor ${deps.roots.describe('next')}`, 'Restore it before finishing: without it no future intermediate can be issued.');
  await deps.roots.put('current', newRoot);
  await deps.api.apply(renderCacertsSecret({ signingCertPem: c.signingCertPem, signingKeyPem: c.signingKeyPem, chainPem: c.chainPem, rootCertPem: joinPem([c.roots[1]]) }));
  await deps.roots.delete('next');
  const restarted = (await restartIstiod(deps.api, now)) ? ['istiod'] : [];
  return { type: 'finished', status: await statusOf(deps.api, await requireCacerts(deps.api), opts.namespace), restarted };
}

/** Runs one step; a step that does not fit the current phase is refused with the step that does. */
export async function rotateRoot(step: RotationStep, deps: RotationDeps, opts: RotationOptions): Promise<RotationResult> {
  const now = deps.now ?? new Date();
  const c = await requireCacerts(deps.api);
  const status = await statusOf(deps.api, c, opts.namespace);
  if (step === 'status') return { type: 'status', status };
  if (step === 'start') return status.phase === 'steady' ? start(deps, opts, c, now) : refuse(step, status);
  if (step === 'switch') return status.phase === 'trust-both' || status.phase === 'issuing-new' ? switchIssuance(deps, opts, c, now) : refuse(step, status);
  return status.phase === 'issuing-new' ? finish(deps, opts, c, status, now) : refuse(step, status);
}
