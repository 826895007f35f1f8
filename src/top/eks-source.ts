/**
 * The aws target's scrape targets: every meshgw pod in the mesh namespace (the three services and
 * the Istio gateway), read through the API server's pod proxy on the Istio agent's port 15020, whose
 * /stats/prometheus merges Envoy's istio_* metrics with the agent's (Istio's "metrics merging").
 * Through the API server because that is what the kubeconfig reaches: pod IPs are not routable from
 * a laptop or a CI runner.
 */
import type { MeshgwConfig } from '../config/schema.js';
import { GATEWAY_WORKLOAD } from '../config/topology.js';
import { MeshgwError } from '../errors.js';
import { APP_LABEL, GATEWAY_NAME } from '../k8s/labels.js';
import { PROMETHEUS_PATH, type Scrape } from '../metrics/contract.js';
import { parsePrometheusText } from '../metrics/prom-text.js';
import { DEFAULT_SCRAPE_TIMEOUT_MS, describeFailure } from './http-scrape.js';
import type { ApiAnswer, MeshPod, PodMetricsApi } from './pod-metrics-api.js';
import type { ScrapeSource, TargetDown } from './types.js';

/** pilot-agent's status port: /stats/prometheus there is the merged Envoy + agent exposition. */
export const ISTIO_AGENT_PORT = 15020;
/** The label Istio puts on the pods of a Gateway API Gateway it deploys. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** The API server's Status message of a refusal, else the body's start. */
function apiMessage(res: ApiAnswer): string {
  try {
    const status = JSON.parse(res.text) as { message?: string };
    if (status.message) return status.message;
  } catch {
    // Not a Status object: fall through to the text.
  }
  return res.text.trim().slice(0, 200) || '(empty answer)';
}

function forbidden(what: string, namespace: string, res: ApiAnswer, resource: string): MeshgwError {
  return new MeshgwError(
    'CREDENTIALS_MISSING',
    `the API server refused to ${what} (403): ${apiMessage(res)}`,
    `Your identity needs \`get\` on \`${resource}\` in namespace ${namespace} (check: \`kubectl auth can-i get ${resource.replace('/', ' --subresource=')} -n ${namespace}\`); a Role with rules [{apiGroups: [""], resources: [pods, pods/proxy], verbs: [get, list]}] bound to you grants it. Without it, \`kubectl exec <pod> -c istio-proxy -- pilot-agent request GET stats/prometheus\` shows one pod's numbers.`,
  );
}

/** The meshgw pods `top` scrapes, with Istio's target labels (app: the service, or "gateway"). */
export function meshPods(pods: MeshPod[]): (MeshPod & { app: string })[] {
  return pods.flatMap((p) => {
    if (p.phase !== 'Running' || !p.podIP) return [];
    const app = p.labels[APP_LABEL] ?? (p.labels[GATEWAY_NAME_LABEL] === GATEWAY_NAME ? GATEWAY_WORKLOAD : undefined);
    return app ? [{ ...p, app }] : [];
  });
}

export function createEksSource(config: Pick<MeshgwConfig, 'mesh'>, api: PodMetricsApi, opts: { timeoutMs?: number; now?: () => number } = {}): ScrapeSource {
  const namespace = config.mesh.namespace;
  const now = opts.now ?? Date.now;
  async function scrapePod(pod: MeshPod & { app: string }, signal: AbortSignal | undefined): Promise<Scrape | TargetDown> {
    const path = `/api/v1/namespaces/${namespace}/pods/${pod.name}:${ISTIO_AGENT_PORT}/proxy${PROMETHEUS_PATH}`;
    const target = { namespace, pod: pod.name, app: pod.app, url: path };
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS * 2);
    let res: ApiAnswer;
    try {
      res = await api.proxyGet(namespace, pod.name, ISTIO_AGENT_PORT, PROMETHEUS_PATH, signal ? AbortSignal.any([signal, timeout]) : timeout);
    } catch (err) {
      return { pod: pod.name, url: path, reason: describeFailure(err) };
    }
    if (res.status === 403) throw forbidden(`proxy to pod ${pod.name}'s Istio agent port`, namespace, res, 'pods/proxy');
    if (res.status !== 200) return { pod: pod.name, url: path, reason: `HTTP ${res.status}: ${apiMessage(res)}` };
    try {
      return { at: now(), target, samples: parsePrometheusText(res.text) };
    } catch (err) {
      return { pod: pod.name, url: path, reason: `not Prometheus text: ${(err as Error).message}` };
    }
  }
  return {
    target: 'aws',
    async scrapeAll(signal) {
      const listed = await api.listPods(namespace);
      if (!Array.isArray(listed)) {
        if (listed.status === 403) throw forbidden(`list pods in ${namespace}`, namespace, listed, 'pods');
        throw new MeshgwError('CLUSTER_UNREACHABLE', `listing pods in ${namespace} failed (HTTP ${listed.status}): ${apiMessage(listed)}`, 'Check that the cluster is reachable: `meshgw status --target aws`.');
      }
      const pods = meshPods(listed);
      if (pods.length === 0) throw new MeshgwError('STATE_MISSING', `no running meshgw pod in namespace ${namespace}`, 'Deploy the services first: `meshgw deploy`.');
      const results = await Promise.all(pods.map((p) => scrapePod(p, signal)));
      return { scrapes: results.filter((r): r is Scrape => 'samples' in r), down: results.filter((r): r is TargetDown => !('samples' in r)) };
    },
  };
}
