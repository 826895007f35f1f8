/**
 * Our narrow view of a Kubernetes API server (after the CDK's ICloudFormationClient): deploy, cleanup
 * and verify talk to this, and only `connectCluster` knows @kubernetes/client-node.
 */
import type { K8sObject } from './manifests/types.js';

export interface PodSummary {
  name: string;
  phase?: string;
  conditions: { type: string; status: string; reason?: string; message?: string }[];
  containers: { name: string; ready: boolean; restartCount: number; waiting?: { reason?: string; message?: string }; lastTerminated?: { reason?: string; exitCode?: number } }[];
}

export interface ClusterApi {
  /**
   * Server-side apply with fieldManager meshgw (or opts.fieldManager) and force: meshgw owns the fields
   * it sets. A separate manager keeps fields another step sets (a restart annotation) from being
   * removed by the next deploy's apply, as `kubectl rollout restart` uses its own manager.
   */
  apply(obj: K8sObject, opts?: { fieldManager?: string }): Promise<K8sObject>;
  /** undefined when the object does not exist. */
  read(ref: ObjectRef): Promise<K8sObject | undefined>;
  list(apiVersion: string, kind: string, namespace: string | undefined, labelSelector: string): Promise<K8sObject[]>;
  /** Resolves when the API accepted the deletion; a missing object is not an error. */
  delete(ref: ObjectRef): Promise<void>;
  listPods(namespace: string, labelSelector: string): Promise<PodSummary[]>;
  podLog(namespace: string, pod: string, container: string, opts: { tailLines: number; previous?: boolean }): Promise<string>;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

export function refOf(o: ObjectRef): ObjectRef {
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) } };
}

export function describeRef(o: ObjectRef): string {
  return `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}
