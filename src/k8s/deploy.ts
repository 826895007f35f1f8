/**
 * `meshgw deploy` as a feature: plug in the mesh CA, make sure Istio and the Gateway API are there,
 * apply the manifests by server-side apply, prune what is no longer rendered, wait for rollout.
 */
import type { MeshgwConfig } from '../config/schema.js';
import { serviceNames } from '../config/topology.js';
import { applyObjects, pruneStale } from './apply.js';
import { GATEWAY_NAME } from './labels.js';
import { renderManifests, type K8sObject } from './manifests/index.js';
import { ensureGatewayApiCrds, ensureIstio, type InstallTool, type MeshInstallDeps } from './mesh-install.js';
import { waitForRollout, type DeploymentProgress, type PodProblem, type RolloutOptions } from './rollout.js';

export interface DeployInput {
  config: MeshgwConfig;
  images: Record<string, string>;
  ingressNodePort: number;
  tokenSecret: string;
  /** users' and orders' DynamoDB tables (stack outputs) and their region. */
  dataTables?: Record<string, string>;
  awsRegion?: string;
  /**
   * The mesh CA as deploy's CA step decided it (cluster-secrets.ts): `secret` is applied before istiod
   * starts when given; undefined when the step already applied it or the cluster's is kept.
   */
  cacerts: { secret?: K8sObject; mode: string };
  rollout: RolloutOptions;
}

export interface DeployEvents {
  onStep?(text: string): void;
  onRollout?(progress: DeploymentProgress[]): void;
}

export type DeployResult =
  | { type: 'deployed'; applied: string[]; pruned: string[]; istio: string; gatewayApi: string; tool?: InstallTool; caMode: string; deployments: DeploymentProgress[] }
  | { type: 'failed'; applied: string[]; pruned: string[]; deployments: DeploymentProgress[]; problems: PodProblem[] };

export function renderForDeploy(input: Pick<DeployInput, 'config' | 'images' | 'ingressNodePort' | 'tokenSecret' | 'dataTables' | 'awsRegion'>): K8sObject[] {
  const { config, images, ingressNodePort, tokenSecret, dataTables, awsRegion } = input;
  return renderManifests({ config, images, ingressNodePort, tokenSecret, dataTables, awsRegion });
}

export async function deployMesh(input: DeployInput, deps: Omit<MeshInstallDeps, 'onStep'>, events: DeployEvents = {}): Promise<DeployResult> {
  const api = deps.api;
  const objects = renderForDeploy(input);
  const ca = input.cacerts;
  events.onStep?.('checking the Gateway API CRDs');
  const gatewayApi = await ensureGatewayApiCrds({ ...deps, onStep: events.onStep });
  events.onStep?.(`checking Istio ${input.config.aws.istioVersion}`);
  const istio = await ensureIstio(input.config, { ...deps, onStep: events.onStep }, ca.secret);
  events.onStep?.(`applying ${objects.length} objects`);
  const applied = await applyObjects(api, objects, { onApplied: (r) => events.onStep?.(`applied ${r}`) });
  const pruned = await pruneStale(api, input.config.mesh.namespace, objects, { onPruned: (r) => events.onStep?.(`pruned ${r}`) });
  events.onStep?.('waiting for rollout');
  // Istio deploys the Gateway's pods as Deployment <gateway>-<class>; the NLB reaches nothing until it is up.
  const gateway = { name: `${GATEWAY_NAME}-istio`, podSelector: `gateway.networking.k8s.io/gateway-name=${GATEWAY_NAME}` };
  const rollout = await waitForRollout(api, input.config.mesh.namespace, [...serviceNames(input.config), gateway], input.rollout, events.onRollout);
  if (rollout.type === 'failed') return { type: 'failed', applied, pruned, deployments: rollout.deployments, problems: rollout.problems };
  return { type: 'deployed', applied, pruned, istio: istio.istio, gatewayApi, tool: istio.tool, caMode: ca.mode, deployments: rollout.deployments };
}
