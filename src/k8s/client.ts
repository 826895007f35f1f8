/** The one place that builds @kubernetes/client-node objects; everything else sees ClusterApi. */
import { CoreV1Api, KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { MeshgwError } from '../errors.js';
import type { ClusterApi, ObjectRef, PodSummary } from './cluster.js';
import { FIELD_MANAGER } from './labels.js';
import type { K8sObject } from './manifests/types.js';
import { RawObjectApi } from './object-api.js';
import { applyRefused } from './api-error.js';

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
}

export function loadKubeConfig(opts: ConnectOptions): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new MeshgwError('CLUSTER_UNREACHABLE', `cannot read the kubeconfig${opts.kubeconfig ? ` ${opts.kubeconfig}` : ''}`, 'Run `aws eks update-kubeconfig --name <ClusterName>` or pass --kubeconfig.', { cause: err });
  }
  if (opts.context) kc.setCurrentContext(opts.context);
  if (!kc.getCurrentCluster()) {
    throw new MeshgwError('CLUSTER_UNREACHABLE', 'the kubeconfig names no current cluster', 'Run `aws eks update-kubeconfig --name <ClusterName>` (the stack output ClusterName) or pass --context.');
  }
  return kc;
}

function statusCode(err: unknown): number | undefined {
  const e = err as { code?: number; statusCode?: number };
  return typeof e?.code === 'number' ? e.code : e?.statusCode;
}

function summarizePod(p: V1Pod): PodSummary {
  return {
    name: p.metadata?.name ?? '',
    phase: p.status?.phase,
    conditions: (p.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
    containers: (p.status?.containerStatuses ?? []).map((c) => ({
      name: c.name,
      ready: c.ready,
      restartCount: c.restartCount,
      waiting: c.state?.waiting ? { reason: c.state.waiting.reason, message: c.state.waiting.message } : undefined,
      lastTerminated: c.lastState?.terminated ? { reason: c.lastState.terminated.reason, exitCode: c.lastState.terminated.exitCode } : undefined,
    })),
  };
}

export function createClusterApi(kc: KubeConfig): ClusterApi {
  const objects = RawObjectApi.fromKubeConfig(kc);
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async apply(obj, opts) {
      try {
        return (await objects.serverSideApply(obj as KubernetesObject, opts?.fieldManager ?? FIELD_MANAGER)) as K8sObject;
      } catch (err) {
        throw applyRefused(obj, err);
      }
    },
    async read(ref: ObjectRef) {
      try {
        return (await objects.read(ref as unknown as Parameters<typeof objects.read>[0])) as K8sObject;
      } catch (err) {
        if (statusCode(err) === 404) return undefined;
        throw err;
      }
    },
    async list(apiVersion, kind, namespace, labelSelector) {
      const res = await objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
      // List items omit apiVersion/kind; put them back so callers can act on them.
      return res.items.map((i) => ({ ...(i as K8sObject), apiVersion, kind }));
    },
    async delete(ref) {
      try {
        await objects.delete(ref as KubernetesObject, undefined, undefined, undefined, undefined, 'Foreground');
      } catch (err) {
        if (statusCode(err) !== 404) throw err;
      }
    },
    async listPods(namespace, labelSelector) {
      const res = await core.listNamespacedPod({ namespace, labelSelector });
      return res.items.map(summarizePod);
    },
    async podLog(namespace, pod, container, opts) {
      return core.readNamespacedPodLog({ name: pod, namespace, container, tailLines: opts.tailLines, previous: opts.previous });
    },
  };
}
