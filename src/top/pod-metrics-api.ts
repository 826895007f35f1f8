/**
 * The two API-server calls `top --target aws` makes, behind a narrow interface (STYLE rule 3): list
 * the mesh namespace's pods, and GET a pod's Istio agent port through the pod proxy subresource
 * (GET /api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy/{path}, RBAC verb `get` on `pods/proxy`).
 * The proxy is read with a plain HTTPS request carrying the kubeconfig's credentials: the generated
 * client URL-encodes the path's "/" (stats%2Fprometheus), which is not the path the agent serves.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface MeshPod {
  name: string;
  labels: Record<string, string>;
  phase?: string;
  podIP?: string;
}

export interface ApiAnswer {
  status: number;
  text: string;
}

export interface PodMetricsApi {
  /** Pods of the namespace; rejects with { status, text } when the API server refuses. */
  listPods(namespace: string): Promise<MeshPod[] | ApiAnswer>;
  proxyGet(namespace: string, pod: string, port: number, path: string, signal: AbortSignal): Promise<ApiAnswer>;
}

function get(url: URL, options: RequestOptions, signal: AbortSignal): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = send(url, { ...options, method: 'GET', signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export function createPodMetricsApi(kc: KubeConfig, timeoutMs = 10_000): PodMetricsApi {
  const server = kc.getCurrentCluster()?.server ?? '';
  const call = async (path: string, accept: string, signal: AbortSignal): Promise<ApiAnswer> => {
    const options: RequestOptions = { headers: { accept } };
    // Credentials (token, client certificate, EKS authenticator) and the cluster CA, as every client-node request gets them.
    await kc.applyToHTTPSOptions(options);
    return get(new URL(server.replace(/\/$/, '') + path), options, signal);
  };
  return {
    async listPods(namespace) {
      const res = await call(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, 'application/json', AbortSignal.timeout(timeoutMs));
      if (res.status !== 200) return res;
      const list = JSON.parse(res.text) as { items?: { metadata?: { name?: string; labels?: Record<string, string> }; status?: { phase?: string; podIP?: string } }[] };
      return (list.items ?? []).map((p) => ({ name: p.metadata?.name ?? '', labels: p.metadata?.labels ?? {}, phase: p.status?.phase, podIP: p.status?.podIP }));
    },
    proxyGet: (namespace, pod, port, path, signal) =>
      call(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}:${port}/proxy/${path.replace(/^\//, '')}`, 'text/plain;version=0.0.4', signal),
  };
}
