/**
 * Deploy's CA and secret step on the aws target, run before Istio is installed or upgraded: decide the
 * mesh CA (adopt, renew or create; cluster-ca.ts), resolve the token secret (token-secret.ts), apply
 * both Secrets, and leave their public or local copies in <stateDir>/aws for later steps on this
 * machine (`verify`). Run twice with no local state, it changes nothing the second time.
 */
import path from 'node:path';
import type { MeshgwConfig } from '../config/schema.js';
import { CERT_FILE_MODE, ensureDir, readIfExists, writeFileAtomic } from '../pki/files.js';
import type { IssuedCert } from '../pki/issue.js';
import { decideClusterCa, type ClusterCaDecision } from './cluster-ca.js';
import type { ClusterApi } from './cluster.js';
import { ISTIO_NAMESPACE } from './labels.js';
import { meta } from './manifests/meta.js';
import { renderNamespace, renderTokenSecret } from './manifests/workloads.js';
import type { MeshRootStore } from './mesh-root-store.js';
import { annotatePodTemplate } from './restart.js';
import { ISTIOD_RESTART_ANNOTATION } from './root-rotation.js';
import { resolveTokenSecret, type TokenSecretSource } from './token-secret.js';

export interface ClusterSecretsInput {
  config: MeshgwConfig;
  stateDir: string;
  /** Only for migrating a root an older meshgw kept in <stateDir>/pki (see ClusterCaOptions). */
  legacyRoot?: IssuedCert;
  now?: Date;
}

type WithoutSecret<T> = T extends unknown ? Omit<T, 'secret'> : never;

/** What the step did, without any secret value (safe to print and to put in --output json). */
export interface ClusterSecretsSummary {
  ca: WithoutSecret<ClusterCaDecision> & { istiodRestarted?: boolean };
  tokenSecret: TokenSecretSource;
  trustBundleFile: string;
}

export function trustBundleFile(stateDir: string): string {
  return path.join(stateDir, 'aws', 'mesh-root-cert.pem');
}

/** The mesh's trust bundle as the last deploy on this machine saw it; undefined when none ran here. */
export async function readTrustBundle(stateDir: string): Promise<string | undefined> {
  return readIfExists(trustBundleFile(stateDir));
}

export async function prepareClusterSecrets(deps: { api: ClusterApi; roots: MeshRootStore }, input: ClusterSecretsInput): Promise<{ summary: ClusterSecretsSummary; tokenSecret: string }> {
  const { config } = input;
  const decision = await decideClusterCa(
    { ...deps, now: input.now },
    { rootLifetimeDays: config.mesh.caLifetimeDays, intermediateLifetimeDays: config.mesh.caLifetimeDays, legacyRoot: input.legacyRoot },
  );
  let istiodRestarted: boolean | undefined;
  if (decision.type !== 'kept') {
    await deps.api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(ISTIO_NAMESPACE, undefined) });
    await deps.api.apply(decision.secret);
    // istiod reads cacerts when it starts; a renewed intermediate reaches it only through a restart.
    if (decision.type === 'renewed') istiodRestarted = await annotatePodTemplate(deps.api, ISTIO_NAMESPACE, 'istiod', ISTIOD_RESTART_ANNOTATION, (input.now ?? new Date()).toISOString());
  }
  const token = await resolveTokenSecret(deps.api, config, input.stateDir);
  await deps.api.apply(renderNamespace(config));
  await deps.api.apply(renderTokenSecret(config, token.value));
  const file = trustBundleFile(input.stateDir);
  await ensureDir(path.dirname(file));
  await writeFileAtomic(file, decision.trustBundlePem, CERT_FILE_MODE);
  const { secret: _secret, ...ca } = decision as ClusterCaDecision & { secret?: unknown };
  void _secret;
  return { summary: { ca: { ...(ca as WithoutSecret<ClusterCaDecision>), ...(istiodRestarted !== undefined ? { istiodRestarted } : {}) }, tokenSecret: token.source, trustBundleFile: file }, tokenSecret: token.value };
}

/** One line for the reporter: where the CA and the token secret came from. */
export function describeClusterSecrets(s: ClusterSecretsSummary): string {
  const ca =
    s.ca.type === 'kept'
      ? `mesh CA: kept the cluster's cacerts${s.ca.phase !== 'steady' ? ` (root rotation in progress: ${s.ca.phase})` : ''}`
      : s.ca.type === 'renewed'
        ? `mesh CA: issued istiod a new intermediate (${s.ca.reason})${s.ca.istiodRestarted ? ', restarting istiod' : ''}`
        : `mesh CA: plugged in ${s.ca.rootSource === 'created' ? 'a new root (key stored in SSM)' : 'the stored root'}`;
  const token = { cluster: "kept the cluster's token secret", local: 'token secret from local state', created: 'new token secret' }[s.tokenSecret];
  return `${ca}; ${token}`;
}
