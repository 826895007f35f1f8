/**
 * Playing the controllers a real cluster runs, on the real API server of real-cluster.ts: no
 * deployment controller, scheduler or kubelet runs there, so tests write the status those would,
 * through the status subresource (an UpdateStatus, as controllers do), and complete deletions that
 * wait on a controller's finalizer.
 */
import { AppsV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject, type V1DeploymentStatus, type V1Namespace, type V1Pod, type V1PodStatus } from '@kubernetes/client-node';

/** The status the deployment controller reports once every replica is new and available. */
export function completeRolloutStatus(generation: number, replicas: number): V1DeploymentStatus {
  return {
    observedGeneration: generation,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet has successfully progressed.' },
    ],
  };
}

/**
 * Writes a Deployment's status. Without `status`, a finished rollout of the current generation;
 * a function gets the Deployment's generation and spec.replicas and returns the status to write.
 */
export async function writeDeploymentStatus(
  kc: KubeConfig,
  namespace: string,
  name: string,
  status?: V1DeploymentStatus | ((d: { generation: number; replicas: number }) => V1DeploymentStatus),
): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const d = await apps.readNamespacedDeployment({ name, namespace });
  const view = { generation: d.metadata?.generation ?? 1, replicas: d.spec?.replicas ?? 1 };
  d.status = typeof status === 'function' ? status(view) : (status ?? completeRolloutStatus(view.generation, view.replicas));
  await apps.replaceNamespacedDeploymentStatus({ name, namespace, body: d });
}

/** Marks every named Deployment as rolled out (those that exist; a missing one throws). */
export async function completeRollouts(kc: KubeConfig, namespace: string, names: string[]): Promise<void> {
  for (const name of names) await writeDeploymentStatus(kc, namespace, name);
}

export interface PodSpecLite {
  name: string;
  labels: Record<string, string>;
  /** Container names (image "example.invalid/<name>:test"); default one container "app". */
  containers?: string[];
}

/** Creates a Pod, then writes the status a kubelet would report for it. */
export async function createPodWithStatus(kc: KubeConfig, namespace: string, pod: PodSpecLite, status: V1PodStatus): Promise<V1Pod> {
  const core = kc.makeApiClient(CoreV1Api);
  const containers = (pod.containers ?? ['app']).map((c) => ({ name: c, image: `example.invalid/${c}:test` }));
  const created = await core.createNamespacedPod({ namespace, body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.name, labels: pod.labels }, spec: { containers } } });
  created.status = status;
  return core.replaceNamespacedPodStatus({ name: pod.name, namespace, body: created });
}

export interface DeletionRef {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

/**
 * Plays the garbage collector and the namespace controller for objects already being deleted: a
 * Foreground deletion holds the `foregroundDeletion` finalizer until the garbage collector has removed
 * the object's dependents, and a Namespace holds `kubernetes` until the namespace controller has
 * emptied it. Neither controller runs here, so without this such objects stay Terminating forever.
 * Returns how many deletions it completed; objects not being deleted are left alone.
 */
export async function finishDeletions(kc: KubeConfig, refs: DeletionRef[]): Promise<number> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  let finished = 0;
  // A namespace last, as its controller finalizes it only once it is empty.
  const ordered = [...refs.filter((r) => r.kind !== 'Namespace'), ...refs.filter((r) => r.kind === 'Namespace')];
  for (const ref of ordered) {
    let obj: KubernetesObject;
    try {
      obj = await objects.read(ref as KubernetesObject & { metadata: { name: string } });
    } catch (err) {
      if ((err as { code?: number }).code === 404) continue;
      throw err;
    }
    if (!obj.metadata?.deletionTimestamp) continue;
    if (ref.kind === 'Namespace') {
      await core.replaceNamespaceFinalize({ name: ref.metadata.name, body: { ...(obj as V1Namespace), spec: { finalizers: [] } } });
    }
    if ((obj.metadata.finalizers ?? []).length > 0) {
      await objects.patch({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { ...ref.metadata, finalizers: null as unknown as string[] } }, undefined, undefined, 'test-garbage-collector', undefined, PatchStrategy.MergePatch);
    }
    finished += 1;
  }
  return finished;
}

/**
 * Deletes objects at once (Background propagation: no garbage-collector finalizer to wait for) and waits
 * until they are gone, for a test's own setup and teardown; a missing object is fine. Only finalizers the
 * API server handles itself (a CRD's) can be waited for: a Namespace would stay Terminating.
 */
export async function deleteNow(kc: KubeConfig, refs: DeletionRef[], timeoutMs = 30_000): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const gone = (err: { code?: number }) => {
    if (err?.code !== 404) throw err;
    return undefined;
  };
  for (const ref of refs) await objects.delete(ref as KubernetesObject, undefined, undefined, 0, undefined, 'Background').catch(gone);
  const deadline = Date.now() + timeoutMs;
  for (const ref of refs) {
    while (await objects.read(ref as KubernetesObject & { metadata: { name: string } }).catch(gone)) {
      if (Date.now() > deadline) throw new Error(`${ref.kind}/${ref.metadata.name} still there ${timeoutMs} ms after its deletion`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
