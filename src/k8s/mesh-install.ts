/**
 * Makes sure the cluster has what the manifests need: the Gateway API CRDs (standard channel, pinned)
 * and Istio at aws.istioVersion, installed with the user's istioctl or helm. The mesh CA is plugged in
 * (cacerts) before istiod starts, so istiod never creates a self-signed root of its own.
 */
import type { MeshgwConfig } from '../config/schema.js';
import { MeshgwError } from '../errors.js';
import { tail, type ToolRunner } from '../aws/push-runner.js';
import type { ClusterApi } from './cluster.js';
import { ISTIO_NAMESPACE } from './labels.js';
import { meta } from './manifests/meta.js';
import type { K8sObject } from './manifests/types.js';
import { parseAllDocuments } from 'yaml';

/** Gateway API release whose standard channel Istio 1.28 supports. */
export const GATEWAY_API_VERSION = 'v1.4.0';
export const GATEWAY_API_CRDS_URL = `https://github.com/kubernetes-sigs/gateway-api/releases/download/${GATEWAY_API_VERSION}/standard-install.yaml`;
export const ISTIO_HELM_REPO = 'https://istio-release.storage.googleapis.com/charts';

export type InstallTool = 'istioctl' | 'helm';

export interface MeshInstallDeps {
  api: ClusterApi;
  run: ToolRunner;
  /** Fetches the CRD bundle; injected so tests need no network. */
  fetchText(url: string): Promise<string>;
  onStep?(text: string): void;
}

export type MeshInstallResult = { gatewayApi: 'present' | 'installed'; istio: 'present' | 'installed' | 'upgraded'; tool?: InstallTool };

export async function ensureGatewayApiCrds(deps: MeshInstallDeps): Promise<'present' | 'installed'> {
  const crd = await deps.api.read({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'httproutes.gateway.networking.k8s.io' } });
  const bundle = (crd?.metadata.annotations ?? {})['gateway.networking.k8s.io/bundle-version'];
  if (crd && bundle === GATEWAY_API_VERSION) return 'present';
  deps.onStep?.(`installing Gateway API CRDs ${GATEWAY_API_VERSION} (standard channel)`);
  let text: string;
  try {
    text = await deps.fetchText(GATEWAY_API_CRDS_URL);
  } catch (err) {
    throw new MeshgwError('CLUSTER_UNREACHABLE', `cannot download the Gateway API CRDs from ${GATEWAY_API_CRDS_URL}`, 'Check the network, or install them yourself with `kubectl apply --server-side -f <that URL>` and run deploy again.', { cause: err });
  }
  for (const doc of parseAllDocuments(text)) {
    const obj = doc.toJS() as K8sObject | null;
    if (obj?.kind) await deps.api.apply(obj);
  }
  return 'installed';
}

/** The version of the running istiod, from its image tag (…/pilot:1.28.1), or undefined when none runs. */
export async function installedIstioVersion(api: ClusterApi): Promise<string | undefined> {
  const d = await api.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'istiod', namespace: ISTIO_NAMESPACE } });
  const containers = ((d?.spec as { template?: { spec?: { containers?: { image?: string }[] } } })?.template?.spec?.containers ?? []);
  const image = containers[0]?.image;
  return image ? /:([0-9][^@]*)/.exec(image)?.[1] : d ? 'unknown' : undefined;
}

async function pickTool(run: ToolRunner, version: string): Promise<{ tool: InstallTool } | { tool: undefined; istioctlVersion?: string }> {
  const istioctl = await run.exec('istioctl', ['version', '--remote=false', '--short']);
  if (!istioctl.missing && istioctl.exitCode === 0) {
    const v = istioctl.stdout.trim().split(/\s+/).pop() ?? '';
    if (v === version) return { tool: 'istioctl' };
    const helm = await run.exec('helm', ['version', '--short']);
    if (!helm.missing && helm.exitCode === 0) return { tool: 'helm' };
    return { tool: undefined, istioctlVersion: v };
  }
  const helm = await run.exec('helm', ['version', '--short']);
  if (!helm.missing && helm.exitCode === 0) return { tool: 'helm' };
  return { tool: undefined };
}

export function istioctlArgs(cfg: MeshgwConfig): string[] {
  return ['install', '-y', '--set', 'profile=minimal', '--set', `tag=${cfg.aws.istioVersion}`, '--set', `meshConfig.trustDomain=${cfg.mesh.trustDomain}`];
}

export function helmCommands(cfg: MeshgwConfig): string[][] {
  const common = ['--repo', ISTIO_HELM_REPO, '--version', cfg.aws.istioVersion, '--namespace', ISTIO_NAMESPACE, '--wait'];
  return [
    ['upgrade', '--install', 'istio-base', 'base', ...common],
    ['upgrade', '--install', 'istiod', 'istiod', ...common, '--set', `meshConfig.trustDomain=${cfg.mesh.trustDomain}`],
  ];
}

/** istio-system and the cacerts Secret (undefined: the cluster's is kept) first; then Istio if it is missing or at another version. */
export async function ensureIstio(cfg: MeshgwConfig, deps: MeshInstallDeps, cacerts: K8sObject | undefined): Promise<{ istio: MeshInstallResult['istio']; tool?: InstallTool }> {
  await deps.api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(ISTIO_NAMESPACE, undefined) });
  // Before istiod starts: istiod only reads cacerts at start-up, and without it creates its own root.
  if (cacerts) await deps.api.apply(cacerts);
  const current = await installedIstioVersion(deps.api);
  if (current === cfg.aws.istioVersion) return { istio: 'present' };
  const picked = await pickTool(deps.run, cfg.aws.istioVersion);
  if (!picked.tool) {
    const why = 'istioctlVersion' in picked && picked.istioctlVersion ? `istioctl on PATH is ${picked.istioctlVersion}, not ${cfg.aws.istioVersion}, and helm is missing` : 'neither istioctl nor helm is on PATH';
    throw new MeshgwError('TOOL_MISSING', `cannot install Istio ${cfg.aws.istioVersion}: ${why}`, `Install istioctl ${cfg.aws.istioVersion} (curl -L https://istio.io/downloadIstio | ISTIO_VERSION=${cfg.aws.istioVersion} sh -) or helm 3 (https://helm.sh/docs/intro/install/), then run deploy again.`);
  }
  deps.onStep?.(`${current ? `upgrading Istio ${current} →` : 'installing Istio'} ${cfg.aws.istioVersion} with ${picked.tool}`);
  const runs = picked.tool === 'istioctl' ? [['istioctl', ...istioctlArgs(cfg)]] : helmCommands(cfg).map((a) => ['helm', ...a]);
  for (const [cmd, ...args] of runs) {
    const r = await deps.run.exec(cmd, args);
    if (r.exitCode !== 0) throw new MeshgwError('DEPLOY_FAILED', `${cmd} ${args.slice(0, 3).join(' ')} failed:\n${tail(r.stderr || r.stdout, 10)}`, `Run it by hand to see the whole output: ${cmd} ${args.join(' ')}`);
  }
  return { istio: current ? 'upgraded' : 'installed', tool: picked.tool };
}
