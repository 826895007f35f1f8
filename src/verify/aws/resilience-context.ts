/**
 * What verify resilience needs of an EKS stack, behind small interfaces: the invoke URL and keys (as throttle
 * and auth use them), the pods of each service, deleting one at once, the fault filter, and the sidecars'
 * Envoy admin output through exec. Tests give fakes or the real kube-apiserver; the CLI gives the cluster.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterApi } from '../../k8s/cluster.js';
import { APP_LABEL } from '../../k8s/labels.js';
import type { MeshgwConfig } from '../../config/schema.js';
import type { GatewayEndpoint } from '../target.js';
import type { OrderLoadInput, OrderLoadOutcome } from '../resilience/order-load.js';
import type { ExecFn } from './cluster-access.js';
import type { FaultApi } from './pod-faults.js';

export interface PodInfo {
  name: string;
  ip: string;
  /** Running, Ready, and not being deleted: a replica that gets traffic. */
  serving: boolean;
}

export interface ResilienceCluster extends FaultApi {
  /** Pods of a service (by app.kubernetes.io/name). */
  podsOf(namespace: string, app: string): Promise<PodInfo[]>;
  /** Pods matching a label selector (the ingress gateway's: gateway.networking.k8s.io/gateway-name=meshgw). */
  podsMatching(namespace: string, labelSelector: string): Promise<PodInfo[]>;
  /** Deletes a pod with gracePeriodSeconds 0: the EKS analogue of SIGKILL (no preStop, no drain). */
  deletePodNow(namespace: string, pod: string): Promise<void>;
  /** The Deployment's wanted replicas and how many are ready and available. */
  deployment(namespace: string, name: string): Promise<{ replicas: number; ready: number; available: number } | undefined>;
  /** `pilot-agent request GET <path>` in the pod's istio-proxy container (stats, clusters, config_dump). */
  proxyAdmin(namespace: string, pod: string, path: 'stats' | 'clusters' | 'config_dump'): Promise<string>;
}

export interface AwsResilienceContext {
  config: MeshgwConfig;
  endpoint: GatewayEndpoint;
  cluster: ResilienceCluster;
  /** The order load (runOrderLoad through the invoke URL; a fake in tests). */
  load(input: OrderLoadInput): Promise<OrderLoadOutcome>;
  /** Names the fault filter and labels of this run. */
  runId: string;
  /** Aborted by the CLI's first Ctrl-C: the fault filter and labels are removed at once. */
  signal?: AbortSignal;
  /** Polling of the Deployments after a kill; options so tests set them to 0. */
  pollMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface RawPod {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

export function podInfo(p: RawPod): PodInfo {
  const ready = (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  return { name: p.metadata.name, ip: p.status?.podIP ?? '', serving: p.status?.phase === 'Running' && ready && !p.metadata.deletionTimestamp };
}

/** The real cluster: meshgw's ClusterApi for objects, CoreV1 for the grace-0 delete, exec for pilot-agent. */
export function createResilienceCluster(api: ClusterApi, kc: KubeConfig, exec: ExecFn): ResilienceCluster {
  const podsMatching = async (namespace: string, labelSelector: string) => {
    const pods = (await api.list('v1', 'Pod', namespace, labelSelector)) as unknown as RawPod[];
    return pods.map(podInfo).sort((a, b) => a.name.localeCompare(b.name));
  };
  return {
    apply: (obj, opts) => api.apply(obj, opts),
    async delete(ref) {
      // Background, not the Foreground ClusterApi.delete uses: an EnvoyFilter has no dependents, and a filter
      // waiting on the garbage collector's finalizer still exists, so Istio would keep the fault in force.
      const { KubernetesObjectApi } = await import('@kubernetes/client-node');
      try {
        await KubernetesObjectApi.makeApiClient(kc).delete(ref, undefined, undefined, undefined, undefined, 'Background');
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
      }
    },
    podsOf: (namespace, app) => podsMatching(namespace, `${APP_LABEL}=${app}`),
    podsMatching,
    async deletePodNow(namespace, pod) {
      const { CoreV1Api } = await import('@kubernetes/client-node');
      await kc.makeApiClient(CoreV1Api).deleteNamespacedPod({ name: pod, namespace, gracePeriodSeconds: 0 });
    },
    async deployment(namespace, name) {
      const d = (await api.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace } })) as
        | { spec?: { replicas?: number }; status?: { readyReplicas?: number; availableReplicas?: number } }
        | undefined;
      if (!d) return undefined;
      return { replicas: d.spec?.replicas ?? 1, ready: d.status?.readyReplicas ?? 0, available: d.status?.availableReplicas ?? 0 };
    },
    proxyAdmin: (namespace, pod, path) => exec(namespace, pod, 'istio-proxy', ['pilot-agent', 'request', 'GET', path]),
  };
}
