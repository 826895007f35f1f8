/**
 * Makes sure the cluster has what the manifests need: the Gateway API CRDs (standard channel, pinned)
 * and Istio at aws.istioVersion (default ISTIO_VERSION), installed with the user's istioctl or helm. The mesh
 * CA is plugged in (cacerts) before istiod starts, so istiod never creates a self-signed root of its own, and
 * meshConfig registers the OpenTelemetry provider the mesh's Telemetry object sends spans to.
 */
import type { MeshgwConfig } from '../config/schema.js';
import { MeshgwError } from '../errors.js';
import { tail, type ToolRunner } from '../aws/push-runner.js';
import type { ClusterApi } from './cluster.js';
import { ISTIO_NAMESPACE } from './labels.js';
import { meta } from './manifests/meta.js';
import type { K8sObject } from './manifests/types.js';
import { parse, parseAllDocuments } from 'yaml';
import { TRACING_PROVIDER, tracingExtensionProvider } from './manifests/telemetry.js';
import { RETRY_ON_UNPROCESSED } from './manifests/resilience.js';

export { ISTIO_VERSION } from './istio-version.js';

/**
 * Gateway API release of the CRDs installed. Istio 1.31 reads v1.4.0's Gateway and HTTPRoute (its minimums,
 * pkg/config/schema/gatewayapi/minimumversions.go, concern only GRPCRoute ≥ 1.1, BackendTLSPolicy ≥ 1.4,
 * TLSRoute ≥ 1.5 and TCPRoute ≥ 1.6, none of which meshgw uses).
 */
export const GATEWAY_API_VERSION = 'v1.4.0';
export const GATEWAY_API_CRDS_URL = `https://github.com/kubernetes-sigs/gateway-api/releases/download/${GATEWAY_API_VERSION}/standard-install.yaml`;
/** From 1.31 Istio publishes charts only here; the storage.googleapis.com repository has none for 1.31. */
export const ISTIO_HELM_REPO = 'https://blob.istio.io/istio-release/charts';

export type InstallTool = 'istioctl' | 'helm';

export interface MeshInstallDeps {
  api: ClusterApi;
  run: ToolRunner;
  /** Fetches the CRD bundle; injected so tests need no network. */
  fetchText(url: string): Promise<string>;
  onStep?(text: string): void;
}

export type MeshInstallResult = { gatewayApi: 'present' | 'installed'; istio: 'present' | 'installed' | 'upgraded' | 'reconfigured'; tool?: InstallTool };

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

/** The version of the running istiod, from its image tag (…/pilot:1.31.1), or undefined when none runs. */
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

/**
 * istiod trusts every root in cacerts' root-cert.pem only with ISTIO_MULTIROOT_MESH=true; `certs rotate-root`
 * overlaps two roots and refuses to start without it.
 */
const MULTIROOT_ENV = 'ISTIO_MULTIROOT_MESH';

/**
 * meshConfig.defaultHttpRetryPolicy (istio/api mesh/v1alpha1/config.proto `default_http_retry_policy`, an
 * HTTPRetry): the retries of every route without its own, which on meshgw's stack are the ingress HTTPRoutes
 * (standard Gateway API v1.4 has no retry field; the mesh VirtualServices set theirs). Istio's built-in
 * default (pilot/pkg/networking/core/route/retry/retry.go) is 2 attempts on
 * "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes", with 503 as a retriable
 * status unless EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY is true: the default only since Istio 1.24
 * (istio/istio#50506); Istio ≤ 1.23, or compatibilityVersion 1.23, retries a 503 an app sent after acting on a
 * POST /orders. Pinned here instead, from meshgw.yaml, whatever aws.istioVersion says: the ingress cannot
 * tell an idempotent request from an order (retryOn reads no method or header), so only the conditions that
 * prove the request never reached the app (RETRY_ON_UNPROCESSED, which is what Istio's default amounts to for
 * plain HTTP: unavailable and cancelled are gRPC statuses), and never more attempts than the strictest
 * service allows. Istio documents that this mesh-wide policy does not apply perTryTimeout.
 */
export function defaultHttpRetryPolicy(cfg: MeshgwConfig): { attempts: number; retryOn?: string } {
  const attempts = Math.min(...Object.values(cfg.services).map((s) => s.trafficPolicy.retries.attempts));
  return attempts === 0 ? { attempts: 0 } : { attempts, retryOn: RETRY_ON_UNPROCESSED };
}

/** meshConfig values, as `--set` pairs both istioctl and helm's istiod chart accept. */
function meshConfigSets(cfg: MeshgwConfig): string[] {
  const provider = tracingExtensionProvider();
  const retry = defaultHttpRetryPolicy(cfg);
  return [
    `meshConfig.trustDomain=${cfg.mesh.trustDomain}`,
    `meshConfig.extensionProviders[0].name=${provider.name}`,
    `meshConfig.extensionProviders[0].opentelemetry.service=${provider.opentelemetry.service}`,
    `meshConfig.extensionProviders[0].opentelemetry.port=${provider.opentelemetry.port}`,
    `meshConfig.defaultHttpRetryPolicy.attempts=${retry.attempts}`,
    // helm's --set splits on unescaped commas; istioctl takes "\," as a comma too (checked in test/k8s/mesh-retry.test.ts).
    ...(retry.retryOn ? [`meshConfig.defaultHttpRetryPolicy.retryOn=${retry.retryOn.replace(/,/g, '\\,')}`] : []),
  ].flatMap((s) => ['--set', s]);
}

export function istioctlArgs(cfg: MeshgwConfig): string[] {
  return ['install', '-y', '--set', 'profile=minimal', '--set', `tag=${cfg.aws.istioVersion}`, ...meshConfigSets(cfg), '--set', `values.pilot.env.${MULTIROOT_ENV}=true`];
}

export function helmCommands(cfg: MeshgwConfig): string[][] {
  const common = ['--repo', ISTIO_HELM_REPO, '--version', cfg.aws.istioVersion, '--namespace', ISTIO_NAMESPACE, '--wait'];
  return [
    ['upgrade', '--install', 'istio-base', 'base', ...common],
    ['upgrade', '--install', 'istiod', 'istiod', ...common, ...meshConfigSets(cfg), '--set', `pilot.env.${MULTIROOT_ENV}=true`],
  ];
}

/**
 * Whether the running mesh config (ConfigMap `istio`, key `mesh`) registers meshgw's tracing provider. An
 * Istio installed before meshgw traced, or by hand, lacks it, and its sidecars would then ignore the Telemetry.
 */
export async function meshHasTracingProvider(api: ClusterApi): Promise<boolean> {
  const cm = await api.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: ISTIO_NAMESPACE } });
  const text = ((cm?.data ?? {}) as Record<string, string>).mesh;
  if (!text) return false;
  let mesh: { extensionProviders?: { name?: string }[] } | null;
  try {
    mesh = parse(text) as typeof mesh;
  } catch {
    return false;
  }
  return (mesh?.extensionProviders ?? []).some((p) => p?.name === TRACING_PROVIDER);
}

/** istio-system and the cacerts Secret (undefined: the cluster's is kept) first; then Istio if it is missing or at another version. */
export async function ensureIstio(cfg: MeshgwConfig, deps: MeshInstallDeps, cacerts: K8sObject | undefined): Promise<{ istio: MeshInstallResult['istio']; tool?: InstallTool }> {
  await deps.api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(ISTIO_NAMESPACE, undefined) });
  // Before istiod starts: istiod only reads cacerts at start-up, and without it creates its own root.
  if (cacerts) await deps.api.apply(cacerts);
  const current = await installedIstioVersion(deps.api);
  const sameVersion = current === cfg.aws.istioVersion;
  if (sameVersion && (await meshHasTracingProvider(deps.api))) return { istio: 'present' };
  const picked = await pickTool(deps.run, cfg.aws.istioVersion);
  if (!picked.tool) {
    const why = 'istioctlVersion' in picked && picked.istioctlVersion ? `istioctl on PATH is ${picked.istioctlVersion}, not ${cfg.aws.istioVersion}, and helm is missing` : 'neither istioctl nor helm is on PATH';
    throw new MeshgwError('TOOL_MISSING', `cannot install Istio ${cfg.aws.istioVersion}: ${why}`, `Install istioctl ${cfg.aws.istioVersion} (curl -L https://istio.io/downloadIstio | ISTIO_VERSION=${cfg.aws.istioVersion} sh -) or helm 3 (https://helm.sh/docs/intro/install/), then run deploy again.`);
  }
  deps.onStep?.(`${sameVersion ? 'adding the tracing provider to Istio' : current ? `upgrading Istio ${current} →` : 'installing Istio'} ${cfg.aws.istioVersion} with ${picked.tool}`);
  const runs = picked.tool === 'istioctl' ? [['istioctl', ...istioctlArgs(cfg)]] : helmCommands(cfg).map((a) => ['helm', ...a]);
  for (const [cmd, ...args] of runs) {
    const r = await deps.run.exec(cmd, args);
    if (r.exitCode !== 0) throw new MeshgwError('DEPLOY_FAILED', `${cmd} ${args.slice(0, 3).join(' ')} failed:\n${tail(r.stderr || r.stdout, 10)}`, `Run it by hand to see the whole output: ${cmd} ${args.join(' ')}`);
  }
  return { istio: sameVersion ? 'reconfigured' : current ? 'upgraded' : 'installed', tool: picked.tool };
}
